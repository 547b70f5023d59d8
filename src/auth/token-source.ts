import type { IncomingHttpHeaders } from 'node:http';

/** Where a request carried its token; a publish by cookie needs a CSRF check. */
export type TokenSource = 'header' | 'query' | 'cookie';

export interface FoundToken {
  readonly token: string;
  readonly source: TokenSource;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Finds the request's token in Mercure's order: the `Authorization: Bearer` header, then the
 * `authorization` query parameter, then the cookie. An Authorization header that is not a
 * Bearer token yields an empty token, so it is refused rather than silently ignored.
 */
export function findToken(
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
  cookieName: string,
): FoundToken | undefined {
  const header = headers.authorization;
  if (header !== undefined) {
    return { token: BEARER.exec(header)?.[1] ?? '', source: 'header' };
  }
  const fromQuery = query.get('authorization');
  if (fromQuery !== null) return { token: fromQuery, source: 'query' };
  const fromCookie = readCookie(headers.cookie, cookieName);
  if (fromCookie !== undefined) return { token: fromCookie, source: 'cookie' };
  return undefined;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const separator = pair.indexOf('=');
    if (separator === -1 || pair.slice(0, separator).trim() !== name) continue;
    const value = pair.slice(separator + 1).trim();
    try {
      return decodeURIComponent(value.startsWith('"') ? value.slice(1, -1) : value);
    } catch {
      return value;
    }
  }
  return undefined;
}
