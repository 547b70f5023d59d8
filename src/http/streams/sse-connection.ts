import type { OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { COMMENT_FRAME } from '../../core/sse-frame.ts';
import type { FrameSink, Subscriber } from '../../core/subscriber.ts';
import type { Flushable } from './flush-queue.ts';
import { flushQueue } from './flush-queue.ts';
import type { HubResponse } from '../http-message.ts';
import { DirectResponse } from '../direct/direct-response.ts';
import type { NodeHttp1 } from '../node-http1.ts';
import type { ClosesWithResponse } from '../request-log.ts';
import type { HoldsUnsentBytes, UnsentBudget } from './unsent-budget.ts';

export interface SseConnectionLimits {
  /** Queued bytes past which a replay pauses until the socket drains. */
  readonly highWaterMark: number;
  /** Queued bytes past which a consumer is too slow: the connection is dropped. */
  readonly maxUnsentBytes: number;
  /**
   * The bound on unsent bytes of every stream together: each stream reports what it holds, and
   * the budget drops the largest holders when the total passes it.
   */
  readonly budget: UnsentBudget<SseConnection>;
  /** Called when a consumer is dropped as too slow, by its own cap or the total (metrics). */
  readonly onDrop: () => void;
  /**
   * Called once when the response closes, however it ended: unsubscribes and uncounts what the
   * connection's fields say. One function shared by every stream, not closures kept by each.
   */
  readonly onClose: (connection: SseConnection) => void;
  /** How frames reach an HTTP/1.1 socket on this Node (node-http1.ts). */
  readonly http1: NodeHttp1;
}

/**
 * One open event stream over an HTTP response. It bounds the bytes waiting to be sent: a
 * consumer that stops reading is dropped once its queue passes `maxUnsentBytes`, so one stalled
 * client can neither hold server memory nor slow the others. The client resumes with
 * Last-Event-ID and loses nothing that history still holds.
 *
 * Every stream also counts against a bound on all streams' unsent bytes together
 * (unsent-budget.ts): past it, the streams that stopped reading are dropped the same way.
 *
 * Over HTTP/1.1, once Node has sent the head, frames go straight to the socket, where the
 * Node HTTP/1.1 adapter (node-http1.ts) found at start-up that this Node allows it: the bytes
 * `res.write` would send, without its per-call cork, nextTick and three-piece writev. They are
 * queued and written by the process's flush queue (flush-queue.ts): one frame leaves as the
 * update's pre-framed chunk, shared by every subscriber (chunk-framing.ts); several frames
 * queued meanwhile leave as one chunk written as a vector (one writev), so that the frames stay
 * the ones every subscriber shares: a stalled reader holds references, not a copy of a burst.
 * `end()` still goes through the response, which writes the last chunk and keeps the connection
 * reusable. Elsewhere (HTTP/2, or a Node the adapter does not trust) frames go through
 * `res.write`.
 */
export class SseConnection implements FrameSink, Flushable, ClosesWithResponse, HoldsUnsentBytes {
  readonly #res: HubResponse;
  readonly #limits: SseConnectionLimits;
  /**
   * The subscription this stream delivers, set once it is live, for `onClose` to end. Fields
   * rather than an end callback: an idle stream holds no closure of its own.
   */
  subscriber: Subscriber | undefined;
  /** The client key this stream is counted under (streams per client), for `onClose` to release. */
  countedAs: string | undefined;
  /** Set once the head is sent, when this HTTP/1.1 response owns its socket. */
  #socket: Socket | undefined;
  /** Whether the socket path wraps frames in a chunk (HTTP/1.1), or sends them bare (1.0). */
  #chunked = false;
  /** Frames written before the socket was taken over (a publish racing the stream's start). */
  #early: Uint8Array[] | undefined = [];
  /**
   * Pending while the head waits in Node for the next tick (Node 26, see `NodeHttp1.afterHead`):
   * a replay writing then is told to wait for it, so that it does not pile its history up in
   * `#early` unbounded.
   */
  #handOver: Promise<void> | undefined;
  /** Frames waiting for the flush queue: none, one (the common case, no array), or several. */
  #queued: Uint8Array | Uint8Array[] | undefined;
  #queuedBytes = 0;
  /** Every frame's bytes since the socket was taken over (or the response began), for bytesSent. */
  #bytesWritten = 0;
  #closed = false;
  /** What this stream last reported to the unsent budget; kept by the budget. */
  reportedUnsent = 0;

  constructor(res: HubResponse, limits: SseConnectionLimits) {
    this.#res = res;
    this.#limits = limits;
  }

  /**
   * To be called once when the response closes, however it ended: by the response's one close
   * listener (RequestLog's), so that an idle stream holds no listener closure of its own.
   */
  responseClosed(): void {
    this.#closed = true;
    this.#queued = undefined;
    this.#limits.budget.forget(this);
    this.#limits.onClose(this);
  }

  /** Bytes queued for this stream and not yet handed to the kernel. */
  get unsentBytes(): number {
    if (this.#closed) return 0;
    const socket = this.#socket;
    if (socket === undefined) return this.#early === undefined ? this.#res.writableLength : 0;
    return socket.writableLength + this.#queuedBytes;
  }

  /** Whether Node holds bytes for this stream's socket that the kernel has not taken yet. */
  get awaitingClient(): boolean {
    if (this.#closed) return false;
    return (this.#socket ?? this.#res).writableLength > 0;
  }

  /**
   * Bytes handed to the kernel so far, about: every frame written, less what is still unsent.
   * It grows while the client reads (chunk framing waiting in the socket makes it a little low).
   */
  get bytesSent(): number {
    return this.#bytesWritten - this.unsentBytes;
  }

  /** Drops this stream: what it holds is discarded, and its client resumes with Last-Event-ID. */
  dropAsSlowConsumer(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queued = undefined;
    this.#queuedBytes = 0;
    this.#limits.budget.forget(this);
    this.#limits.onDrop();
    // The queue cannot be flushed to a client that does not read: discard it.
    this.#res.destroy();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends the head and a first comment, which tells the client it is connected. */
  open(headers: OutgoingHttpHeaders): void {
    const res = this.#res;
    res.writeHead(200, headers);
    res.write(COMMENT_FRAME);
    // The socket may carry frames of ours only once the head is in it: on Node 26 that is the
    // next tick (frames meanwhile wait in #early, in order).
    this.#handOver = this.#limits.http1.afterHead(res, () => {
      this.#takeOver();
    });
  }

  /** Takes the socket over once the head is in it, then writes what came meanwhile. */
  #takeOver(): void {
    this.#handOver = undefined;
    const res = this.#res;
    const early = this.#early ?? [];
    this.#early = undefined;
    if (this.#closed) return;
    if (res instanceof DirectResponse) {
      // Served without node:http (direct/stream-door.ts): the socket is the stream's own.
      this.#socket = res.socket;
      this.#chunked = res.chunked;
    } else {
      // Undefined where frames keep going through Node, which queues them in order.
      const socket = this.#limits.http1.takeSocket(res);
      if (socket !== undefined) {
        this.#socket = socket;
        this.#chunked = this.#limits.http1.isChunked(res);
      }
    }
    for (const frame of early) this.write(frame);
  }

  write(frame: Uint8Array): boolean {
    if (this.#closed) return false;
    if (this.#early !== undefined) {
      this.#early.push(frame);
      return this.#handOver === undefined;
    }
    const socket = this.#socket;
    this.#bytesWritten += frame.byteLength;
    let unsent: number;
    if (socket === undefined) {
      this.#res.write(frame);
      unsent = this.#res.writableLength;
    } else {
      const queued = this.#queued;
      if (queued === undefined) {
        this.#queued = frame;
        flushQueue.add(this);
      } else if (Array.isArray(queued)) {
        queued.push(frame);
      } else {
        this.#queued = [queued, frame];
      }
      this.#queuedBytes += frame.byteLength;
      unsent = socket.writableLength + this.#queuedBytes;
    }
    if (unsent > this.#limits.maxUnsentBytes) {
      this.dropAsSlowConsumer();
      return false;
    }
    // Counted in the total, which drops the largest holders a moment after it passes its limit.
    this.#limits.budget.report(this, unsent);
    return unsent < this.#limits.highWaterMark;
  }

  /** Writes the queued frames to the socket: one chunk, one writev, the frames not copied. */
  flush(): void {
    const queued = this.#queued;
    const socket = this.#socket;
    if (queued === undefined || socket === undefined) return;
    this.#queued = undefined;
    const bytes = this.#queuedBytes;
    this.#queuedBytes = 0;
    if (this.#closed || socket.destroyed) return;
    if (Array.isArray(queued)) {
      this.#limits.http1.writeFrames(socket, this.#chunked, queued, bytes);
    } else {
      this.#limits.http1.writeFrame(socket, this.#chunked, queued);
    }
  }

  async drained(): Promise<void> {
    if (this.#handOver !== undefined) await this.#handOver;
    if (this.#closed) return;
    const socket = this.#socket;
    if (socket === undefined) {
      if (this.#res.writableLength < this.#limits.highWaterMark) return;
      await this.#until(this.#res);
      return;
    }
    // A replay waits for the socket, not for the flush queue's turn.
    this.flush();
    // Node emits 'drain' only after a write found the buffer full; otherwise there is
    // nothing to wait for.
    if (socket.writableLength < this.#limits.highWaterMark || !socket.writableNeedDrain) return;
    await this.#until(socket);
  }

  /** Resolves on the emitter's next drain, or when the stream closes. */
  #until(emitter: HubResponse | Socket): Promise<void> {
    const res = this.#res;
    return new Promise<void>((resolve) => {
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
    // What was queued before the end goes first: frames waiting for the hand-over (a stream
    // ended in the tick it opened) through Node, then the flush queue's.
    const early = this.#early;
    if (early !== undefined && this.#res.headersSent) {
      this.#early = undefined;
      for (const frame of early) this.#res.write(frame);
    }
    this.flush();
    this.#closed = true;
    this.#res.end();
  }
}
