/** What the budget needs of a stream: how much it holds unsent, and a way to drop it. */
export interface HoldsUnsentBytes {
  /** Bytes queued for this stream and not yet handed to the kernel. */
  readonly unsentBytes: number;
  /** The figure this stream last reported to the budget (kept by the budget). */
  reportedUnsent: number;
  /** Drops the stream as a slow consumer: its client resumes with Last-Event-ID. */
  dropAsSlowConsumer(): void;
}

// How long after the total passes the limit the streams are read: time for the flush queue to
// write and for readers to take their bytes. It also spaces scans, which read every holder.
const SCAN_DELAY_MS = 20;
// Drops stop below this share of the limit, so that the next burst does not start again at once.
const LOW_WATER = 0.9;

/**
 * The bound on unsent bytes across every stream of the process, on top of each stream's own
 * cap: a burst that many readers do not take (each under its cap) cannot hold unbounded memory.
 *
 * Streams report their unsent bytes as they queue frames, and the budget keeps the sum. A
 * stream is not told when its socket drains, so the sum can only overstate what is held; when
 * it passes the limit, the budget reads every stream's real figure a moment later (20 ms), and
 * if the real total is past the limit it drops the streams holding the most until the total is
 * back under 90% of it. Those are the laggards: their clients resume with Last-Event-ID. The
 * queued frames are shared by every stream they go to, so what passes the limit meanwhile is
 * references to the same frames, not copies.
 */
export class UnsentBudget<Stream extends HoldsUnsentBytes> {
  readonly limit: number;
  /** The streams that reported bytes, until a scan finds them empty or they close. */
  readonly #holders = new Set<Stream>();
  /** The sum of what streams reported: at least what they hold. */
  #total = 0;
  #scanTimer: NodeJS.Timeout | undefined;
  /** Streams dropped by this budget, for metrics. */
  dropped = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** The reported total (an upper bound of the bytes held). */
  get total(): number {
    return this.#total;
  }

  /** Reads every holder's real figure (for metrics): the total as it is now. */
  measure(): number {
    let total = 0;
    for (const stream of this.#holders) {
      const unsent = stream.unsentBytes;
      stream.reportedUnsent = unsent;
      total += unsent;
    }
    this.#total = total;
    return total;
  }

  /** Records what `stream` holds now; checks the limit when the total passes it. */
  report(stream: Stream, unsent: number): void {
    if (stream.reportedUnsent === 0 && unsent > 0) this.#holders.add(stream);
    this.#total += unsent - stream.reportedUnsent;
    stream.reportedUnsent = unsent;
    if (this.#total > this.limit) this.#check();
  }

  /** A stream that closed holds nothing any more. */
  forget(stream: Stream): void {
    this.#total -= stream.reportedUnsent;
    stream.reportedUnsent = 0;
    this.#holders.delete(stream);
  }

  #check(): void {
    // Not at once: a burst queues the same frames on every stream, reader or laggard alike.
    // A moment later the flush queue has written them and readers' sockets have drained; what
    // is still held then tells the laggards apart.
    this.#scanTimer ??= setTimeout(() => {
      this.#scanTimer = undefined;
      if (this.#total > this.limit) this.scan();
    }, SCAN_DELAY_MS);
  }

  /** Reads every stream's real figure; drops the largest holders while the total is too high. */
  scan(): void {
    let total = 0;
    const holders: Stream[] = [];
    for (const stream of this.#holders) {
      const unsent = stream.unsentBytes;
      stream.reportedUnsent = unsent;
      total += unsent;
      if (unsent > 0) holders.push(stream);
      else this.#holders.delete(stream);
    }
    this.#total = total;
    if (total <= this.limit) return;
    holders.sort((a, b) => b.reportedUnsent - a.reportedUnsent);
    const target = this.limit * LOW_WATER;
    for (const stream of holders) {
      if (this.#total <= target) break;
      this.dropped++;
      // The stream forgets its bytes as it closes.
      stream.dropAsSlowConsumer();
    }
  }

  close(): void {
    clearTimeout(this.#scanTimer);
    this.#scanTimer = undefined;
  }
}
