/**
 * Headers of every event stream: the SSE content type, and what keeps caches and buffering
 * proxies (nginx: X-Accel-Buffering) out of it. No `Connection` header: Node's HTTP/1.1 server
 * adds `Connection: keep-alive` itself, and HTTP/2 forbids connection-specific headers.
 */
export const STREAM_HEADERS = Object.freeze({
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'private, no-cache, no-store, must-revalidate, max-age=0, no-transform',
  Pragma: 'no-cache',
  Expires: '0',
  'X-Accel-Buffering': 'no',
});
