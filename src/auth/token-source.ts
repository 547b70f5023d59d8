import type { IncomingHttpHeaders } from 'node:http';

/** Where a request carried its token; a publish by cookie needs a CSRF check. */
export type TokenSource = 'header' | 'query' | 'cookie';

export interface FoundToken {
  readonly token: string;
  readonly source: TokenSource;
}

export interface TokenSourceOptions {
  /** Cookies that may carry the token, in order of preference. */
  readonly cookieNames: readonly string[];
}

// RFC 6750 §2.1: the scheme is case-insensitive; one space, then the token (lenient on more).
const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Finds the request's token: the `Authorization: Bearer` header, then draft-07's `authorization`
 * query parameter, then a cookie. The header always wins over a cookie (cookies are ambient, so
 * both at once is no client error). An Authorization header that is not a Bearer token yields an
 * empty token, so it is refused rather than silently ignored. Whether a query token may be used
 * is the caller's decision: it depends on the request's dialect and the hub's configuration.
 */
export function findToken(
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
  options: TokenSourceOptions,
): FoundToken | undefined {
  const header = headers.authorization;
  if (header !== undefined) {
    return { token: BEARER.exec(header)?.[1] ?? '', source: 'header' };
  }
  const fromQuery = query.get('authorization');
  if (fromQuery !== null) return { token: fromQuery, source: 'query' };
  for (const name of options.cookieNames) {
    const fromCookie = readCookie(headers.cookie, name);
    if (fromCookie !== undefined) return { token: fromCookie, source: 'cookie' };
  }
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
