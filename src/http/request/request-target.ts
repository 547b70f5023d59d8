import { HeraldError } from '../../core/errors.ts';

/** The request target split for routing: the raw path, exactly as sent, and the query. */
export interface RequestTarget {
  /** The path as the client sent it, never normalised: routing compares it byte for byte. */
  readonly path: string;
  /**
   * The target parsed as a URL against a fixed base (a hostile Host header never reaches URL
   * parsing), for its query; its `pathname` is `path`, as only paths in normal form pass.
   */
  readonly url: URL;
}

// RFC 3986 path characters: unreserved, percent-encoded, sub-delims, ":", "@", and "/".
const PATH_CHARACTERS = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/;
// A segment that is, or decodes to, "." or "..": URL parsers resolve it against its parent.
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?=\/|$)/i;
// What a URL parser would resolve, or what names another path once decoded.
const ENCODED_SEPARATOR = /%2f|%5c/i;
// `http://authority` before the path of an absolute-form target.
const ABSOLUTE_FORM = /^https?:\/\/[^/?#]*/i;
// The fixed base a target is read against: the Host header plays no part in routing.
const BASE = 'http://herald.invalid';

/**
 * Reads a request target (`req.url`: the HTTP/1.1 request line's target, or HTTP/2's `:path`)
 * for routing, and refuses with HERALD_ERR_MALFORMED_PATH any path that a URL parser or a proxy
 * would read differently from how it is written: a backslash, a dot segment (plain or
 * percent-encoded), an empty segment (`//`), a character outside RFC 3986's path characters.
 * A proxy that forwards only `/.well-known/mercure` can therefore never be walked past to
 * another route, because no route is reached through a path that normalises to it.
 *
 * `encodedSlashes` lists the path prefixes under which a segment may hold `%2F` (an encoded
 * topic in the subscription API): everywhere else an encoded `/` or `\` is refused.
 */
export function readRequestTarget(
  target: string | undefined,
  encodedSlashes: readonly string[] = [],
): RequestTarget {
  // An absolute-form target (RFC 9112 §3.2.2) is routed by its path; the authority is ignored.
  let raw = target ?? '/';
  const authority = ABSOLUTE_FORM.exec(raw);
  if (authority !== null) {
    const rest = raw.slice(authority[0].length);
    raw = rest.startsWith('/') ? rest : `/${rest}`;
  }
  const queryAt = raw.indexOf('?');
  const path = queryAt < 0 ? raw : raw.slice(0, queryAt);
  const problem = pathProblem(path, encodedSlashes);
  if (problem !== undefined) {
    throw new HeraldError(
      'HERALD_ERR_MALFORMED_PATH',
      // The path only: the query may carry a token.
      `The request path ${JSON.stringify(clip(path))} ${problem}; send the path in normal form.`,
    );
  }
  const url = new URL(raw, BASE);
  return { path: url.pathname, url };
}

// The last path found in normal form (nearly every request names the hub's one path), and the
// prefixes it was checked with: the same path passes again without being parsed again.
let lastNormal = { path: '', encodedSlashes: [] as readonly string[] };

function pathProblem(path: string, encodedSlashes: readonly string[]): string | undefined {
  if (path === lastNormal.path && encodedSlashes === lastNormal.encodedSlashes) return undefined;
  const problem = findPathProblem(path, encodedSlashes);
  if (problem === undefined) lastNormal = { path, encodedSlashes };
  return problem;
}

function findPathProblem(path: string, encodedSlashes: readonly string[]): string | undefined {
  if (!path.startsWith('/')) return 'does not start with "/"';
  if (path.includes('\\')) return 'holds a backslash';
  if (!PATH_CHARACTERS.test(path)) return 'holds a character that must be percent-encoded';
  if (path.includes('//')) return 'holds an empty segment ("//")';
  if (DOT_SEGMENT.test(path)) return 'holds a dot segment ("." or "..")';
  if (ENCODED_SEPARATOR.test(path) && !encodedSlashes.some((prefix) => path.startsWith(prefix))) {
    return 'holds an encoded "/" or "\\"';
  }
  // The rules above admit only paths a URL parser leaves as they are; this keeps it so.
  if (new URL(path, BASE).pathname !== path) return 'is not in normal form';
  return undefined;
}

function clip(value: string): string {
  return value.length > 200 ? `${value.slice(0, 200)}…` : value;
}
