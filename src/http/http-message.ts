import type { EventEmitter } from 'node:events';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { DirectRequest } from './direct/direct-request.ts';

/**
 * A request as the routes see it: HTTP/1.1 (`node:http`), HTTP/2 through `node:http2`'s
 * compatibility API, which mirrors it, or a subscribe request the stream door served without
 * node:http (direct/stream-door.ts). Routes read only what all have alike; a request with a
 * body is never a direct one.
 */
export type HubRequest = IncomingMessage | Http2ServerRequest | DirectRequest;

/**
 * A response as the routes use it: what `ServerResponse` and `Http2ServerResponse` have in
 * common. An interface rather than their union, because both overload `writeHead` and
 * TypeScript cannot call a method overloaded in every member of a union.
 */
export interface HubResponse extends EventEmitter {
  statusCode: number;
  readonly headersSent: boolean;
  /** Bytes written but not yet handed to the kernel (HTTP/1.1) or sent in a frame (HTTP/2). */
  readonly writableLength: number;
  setHeader(name: string, value: number | string | readonly string[]): unknown;
  removeHeader(name: string): void;
  writeHead(statusCode: number, headers?: OutgoingHttpHeaders): unknown;
  write(chunk: string | Uint8Array): boolean;
  end(chunk?: string | Uint8Array): unknown;
  destroy(error?: Error): unknown;
}

/** HTTP/2 forbids connection-specific headers (`Connection`, `Keep-Alive`, …): check first. */
export function isHttp2(req: HubRequest): req is Http2ServerRequest {
  return req.httpVersionMajor === 2;
}
