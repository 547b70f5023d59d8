import type { OutgoingHttpHeaders } from 'node:http';
import { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { COMMENT_FRAME } from '../core/sse-frame.ts';
import type { FrameSink } from '../core/subscriber.ts';
import { chunkOf } from './chunk-framing.ts';
import type { HubResponse } from './http-message.ts';

export interface SseConnectionLimits {
  /** Queued bytes past which a replay pauses until the socket drains. */
  readonly highWaterMark: number;
  /** Queued bytes past which a consumer is too slow: the connection is dropped. */
  readonly maxUnsentBytes: number;
}

/**
 * One open event stream over an HTTP response. It bounds the bytes waiting to be sent: a
 * consumer that stops reading is dropped once its queue passes `maxUnsentBytes`, so one stalled
 * client can neither hold server memory nor slow the others. The client resumes with
 * Last-Event-ID and loses nothing that history still holds.
 *
 * Over HTTP/1.1, once Node has sent the head, frames go straight to the socket, each as one
 * pre-framed chunk shared by every subscriber of the update (see chunk-framing.ts): the same
 * bytes `res.write` would send, without its per-call cork, nextTick and three-piece writev.
 * `end()` still goes through the response, which writes the last chunk and keeps the
 * connection reusable.
 */
export class SseConnection implements FrameSink {
  readonly #res: HubResponse;
  readonly #limits: SseConnectionLimits;
  readonly #onDrop: () => void;
  /** Set once the head is sent, when this HTTP/1.1 response owns its socket. */
  #socket: Socket | undefined;
  /** Whether the socket path wraps each frame in a chunk (HTTP/1.1), or sends it bare (1.0). */
  #chunked = false;
  /** Frames written before the head was sent (a publish racing the subscription's start). */
  #early: Uint8Array[] | undefined = [];
  #closed = false;

  constructor(res: HubResponse, limits: SseConnectionLimits, onDrop: () => void) {
    this.#res = res;
    this.#limits = limits;
    this.#onDrop = onDrop;
    res.once('close', () => {
      this.#closed = true;
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends the head and a first comment, which tells the client it is connected. */
  open(headers: OutgoingHttpHeaders): void {
    const res = this.#res;
    res.writeHead(200, headers);
    res.write(COMMENT_FRAME);
    // A pipelined response waits for the one before it and has no socket yet: it keeps
    // writing through Node, which queues in order.
    if (res instanceof ServerResponse && res.socket !== null) {
      this.#socket = res.socket;
      this.#chunked = res.chunkedEncoding;
    }
    const early = this.#early ?? [];
    this.#early = undefined;
    for (const frame of early) this.write(frame);
  }

  write(frame: Uint8Array): boolean {
    if (this.#closed) return false;
    if (this.#early !== undefined) {
      this.#early.push(frame);
      return true;
    }
    const socket = this.#socket;
    let unsent: number;
    if (socket === undefined) {
      this.#res.write(frame);
      unsent = this.#res.writableLength;
    } else {
      if (socket.destroyed) return false;
      socket.write(this.#chunked ? chunkOf(frame) : frame);
      unsent = socket.writableLength;
    }
    if (unsent > this.#limits.maxUnsentBytes) {
      this.#closed = true;
      this.#onDrop();
      // The queue cannot be flushed to a client that does not read: discard it.
      this.#res.destroy();
      return false;
    }
    return unsent < this.#limits.highWaterMark;
  }

  async drained(): Promise<void> {
    if (this.#closed) return;
    const socket = this.#socket;
    const unsent = socket === undefined ? this.#res.writableLength : socket.writableLength;
    if (unsent < this.#limits.highWaterMark) return;
    // Node tells the response of a drain only after `res.write` returned false: with the
    // socket path, the socket's own event is the one to wait for.
    const emitter = socket ?? this.#res;
    const res = this.#res;
    await new Promise<void>((resolve) => {
      const done = () => {
        emitter.off('drain', done);
        res.off('close', done);
        resolve();
      };
      emitter.once('drain', done);
      res.once('close', done);
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#res.end();
  }
}
