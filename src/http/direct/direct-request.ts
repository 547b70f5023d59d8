import type { Socket } from 'node:net';
import type { RequestHead } from './request-head.ts';

/**
 * A subscribe request served without node:http (stream-door.ts): what the routes read of a
 * request (method, target, headers, version, the socket's peer), from a head parsed by
 * request-head.ts. It has no body: only bodiless GETs are served this way.
 */
export class DirectRequest {
  readonly method = 'GET';
  readonly httpVersion = '1.1';
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  /** The head was read whole before the request was routed. */
  readonly complete = true;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly socket: Socket;

  constructor(head: RequestHead, socket: Socket) {
    this.url = head.target;
    this.headers = head.headers;
    this.socket = socket;
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }
}
