import { once } from 'node:events';
import type { FrameSink } from '../core/subscriber.ts';
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
 */
export class SseConnection implements FrameSink {
  readonly #res: HubResponse;
  readonly #limits: SseConnectionLimits;
  readonly #onDrop: () => void;
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

  write(frame: Uint8Array): boolean {
    if (this.#closed) return false;
    this.#res.write(frame);
    const unsent = this.#res.writableLength;
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
    if (this.#closed || this.#res.writableLength < this.#limits.highWaterMark) return;
    await Promise.race([once(this.#res, 'drain'), once(this.#res, 'close')]);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#res.end();
  }
}
