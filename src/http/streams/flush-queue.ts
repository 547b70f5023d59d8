/** Something with frames waiting to be written, written out in one go by `flush`. */
export interface Flushable {
  flush(): void;
}

/**
 * Streams with queued frames, written out a slice at a time. Between slices the event loop
 * reads the sockets, so a publish that arrives during a long fan-out queues its frame behind
 * the one still waiting on each stream not yet written: under load several frames leave in
 * one write (one syscall), while a single update on an idle hub goes out on the next turn.
 * Each stream is listed once until flushed, in the order it first had something waiting.
 */
export class FlushQueue {
  readonly #sliceSize: number;
  #waiting: Flushable[] = [];
  #next = 0;
  #scheduled = false;

  constructor(sliceSize: number) {
    this.#sliceSize = sliceSize;
  }

  /** Lists a stream that just went from nothing queued to something queued. */
  add(stream: Flushable): void {
    this.#waiting.push(stream);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#run);
    }
  }

  readonly #run = (): void => {
    const waiting = this.#waiting;
    const end = Math.min(waiting.length, this.#next + this.#sliceSize);
    for (let i = this.#next; i < end; i++) waiting[i]?.flush();
    this.#next = end;
    if (end < waiting.length) {
      setImmediate(this.#run);
      return;
    }
    this.#waiting = [];
    this.#next = 0;
    this.#scheduled = false;
  };
}

/** Streams per slice: about a millisecond of writes on this kind of machine. */
export const FLUSH_SLICE = 256;

/** The process's one queue: every HTTP/1.1 stream flushes through it. */
export const flushQueue = new FlushQueue(FLUSH_SLICE);
