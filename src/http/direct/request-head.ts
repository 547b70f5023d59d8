/**
 * The head of an HTTP/1.1 request that Herald may serve without node:http: a `GET` whose whole
 * head is in one chunk and whose meaning cannot be read two ways. Anything else (another
 * method or version, a body, a header repeated, folded or with bytes outside printable ASCII,
 * a bare LF, bytes after the head) is not parsed here at all: `parseRequestHead` answers
 * undefined and the connection goes to Node's parser, which accepts or refuses it as it does
 * every other request. Being strict costs nothing: browsers, EventSource polyfills and HTTP
 * libraries all send heads this simple.
 */
export interface RequestHead {
  /** The request target as sent: origin form, `/path?query`. */
  readonly target: string;
  /** Header names lower-cased, each present once. No prototype: a name may be `__proto__`. */
  readonly headers: Record<string, string>;
}

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;

/** Most headers a direct request may have; a browser sends about 15. */
const MAX_HEADERS = 64;

const REQUEST_LINE_START = Buffer.from('GET /', 'latin1');
const REQUEST_LINE_END = ' HTTP/1.1';

/** RFC 9110 §5.6.2 token characters, the only ones a header name may hold. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TCHAR[c.charCodeAt(0)] = 1;
}

/**
 * Headers whose presence means the request is not a plain bodiless GET (a body, an upgrade, an
 * expectation): Node's parser decides what they mean. And `__proto__`, which Node's header
 * object cannot hold (it drops it): the door would read it where Node does not.
 */
const NOT_DIRECT = new Set([
  'content-length',
  'transfer-encoding',
  'upgrade',
  'expect',
  '__proto__',
]);

/**
 * Parses `chunk` if it is exactly one request head (nothing after the blank line) of at most
 * `maxBytes`, as defined above; undefined otherwise.
 */
export function parseRequestHead(chunk: Buffer, maxBytes: number): RequestHead | undefined {
  const length = chunk.length;
  // The whole head, and nothing after it: a pipelined request or a body is Node's to read.
  if (length < 4 || length > maxBytes) return undefined;
  if (
    chunk[length - 4] !== CR ||
    chunk[length - 3] !== LF ||
    chunk[length - 2] !== CR ||
    chunk[length - 1] !== LF
  ) {
    return undefined;
  }
  if (chunk.compare(REQUEST_LINE_START, 0, REQUEST_LINE_START.length, 0, 5) !== 0) return undefined;
  // One pass over every byte: printable ASCII and tabs, CR only before LF, LF only after CR.
  for (let i = 0; i < length; i++) {
    const byte = chunk[i] as number;
    if (byte >= SPACE && byte < 0x7f) continue;
    if (byte === TAB) continue;
    if (byte === CR && chunk[i + 1] === LF) continue;
    if (byte === LF && chunk[i - 1] === CR) continue;
    return undefined;
  }
  const text = chunk.toString('latin1', 0, length - 2);
  let lineEnd = text.indexOf('\r\n');
  const requestLine = text.slice(0, lineEnd);
  if (!requestLine.endsWith(REQUEST_LINE_END)) return undefined;
  const target = requestLine.slice(4, requestLine.length - REQUEST_LINE_END.length);
  // "GET /a b HTTP/1.1" or a tab in the target: not one request line.
  if (target.includes(' ') || target.includes('\t')) return undefined;

  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  let count = 0;
  let at = lineEnd + 2;
  while (at < text.length) {
    lineEnd = text.indexOf('\r\n', at);
    const colon = text.indexOf(':', at);
    // A line with no colon, or one that starts with whitespace (obsolete folding).
    if (colon < 0 || colon > lineEnd || colon === at) return undefined;
    for (let i = at; i < colon; i++) {
      const code = text.charCodeAt(i);
      // No whitespace before the colon either: "Host : x" is refused by RFC 9112 §5.1.
      if (code >= 0x80 || TCHAR[code] !== 1) return undefined;
    }
    const name = text.slice(at, colon).toLowerCase();
    if (NOT_DIRECT.has(name) || headers[name] !== undefined) return undefined;
    if (++count > MAX_HEADERS) return undefined;
    // Only spaces and tabs can surround a value here (every other whitespace byte was refused
    // above), so trim() strips exactly the optional whitespace of RFC 9110 §5.5.
    headers[name] = text.slice(colon + 1, lineEnd).trim();
    at = lineEnd + 2;
  }
  // HTTP/1.1 requires Host (RFC 9112 §3.2); Node answers its absence with 400.
  if (headers['host'] === undefined) return undefined;
  const connection = headers['connection']?.toLowerCase();
  if (connection !== undefined && connection !== 'keep-alive' && connection !== 'close') {
    return undefined;
  }
  return { target, headers };
}
