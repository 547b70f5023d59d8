import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '../core/errors.ts';
import { HeraldError } from '../core/errors.ts';
import type { NodeHttp1 } from './node-http1.ts';
import { problemBody } from './problem.ts';

/** What Node's HTTP parser and timers report, as Herald errors. */
const REFUSALS: Readonly<Record<string, () => HeraldError>> = {
  HPE_HEADER_OVERFLOW: () =>
    new HeraldError(
      'HERALD_ERR_HEADERS_TOO_LARGE',
      "The request headers are larger than this hub's maximum header size.",
    ),
  HPE_CHUNK_EXTENSIONS_OVERFLOW: () =>
    new HeraldError('HERALD_ERR_BODY_TOO_LARGE', 'The chunk extensions are too large.'),
  ERR_HTTP_REQUEST_TIMEOUT: () =>
    new HeraldError(
      'HERALD_ERR_REQUEST_TIMEOUT',
      "The request was not received within the hub's headers or request timeout; the connection is closed.",
    ),
};

/**
 * Node's `clientError` handler, answering as Node would (431, 408, 400) but with a problem
 * document like every other refusal, then closing the connection. `onRefusal` counts it.
 */
export function clientErrorHandler(
  onRefusal: (code: ErrorCode) => void,
  http1: NodeHttp1,
): (error: Error & { code?: string }, socket: Duplex) => void {
  return (error, socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const refusal =
      REFUSALS[error.code ?? '']?.() ??
      new HeraldError('HERALD_ERR_MALFORMED_REQUEST', 'The request is not valid HTTP/1.1.');
    onRefusal(refusal.code);
    // Answer only if no response has begun on this connection, so the client is not sent a
    // second status line in the middle of a first response (Node's own rule).
    if (!http1.responseBegun(socket)) {
      const body = problemBody(refusal);
      socket.write(
        `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? ''}\r\n` +
          'Content-Type: application/problem+json\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          'Connection: close\r\n\r\n' +
          body,
      );
    }
    socket.destroy();
  };
}
