/** What the budget needs of a stream: how much it holds unsent, and a way to drop it. */
export interface HoldsUnsentBytes {
  /** Bytes queued for this stream and not yet handed to the kernel. */
  readonly unsentBytes: number;
  /** Bytes handed to the kernel so far: it grows while the client reads. */
  readonly bytesSent: number;
  /**
   * Whether the kernel refused bytes offered to this stream: Node holds some for its socket.
   * Unsent bytes that only wait for the flush queue are the hub's delay, not the client's.
   */
  readonly awaitingClient: boolean;
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
// Past this multiple of the limit, streams that still read are dropped too, the largest first,
// down to it.
const HARD_FACTOR = 2;

/**
 * The bound on unsent bytes across every stream of the process, on top of each stream's own
 * cap: a burst that many readers do not take (each under its cap) cannot hold unbounded memory.
 *
 * Streams report their unsent bytes as they queue frames, and the budget keeps the sum. A
 * stream is not told when its socket drains, so the sum can only overstate what is held; when
 * it passes the limit, the budget reads every stream's real figure a moment later (20 ms). If
 * the real total is past the limit, it drops, largest first, the streams whose sockets refuse
 * what they were offered and took no byte in the meantime (their clients are not reading) until
 * the total is back under 90% of it. Streams that are reading are looked at again a moment later
 * rather than dropped, unless the total is past twice the limit: then the largest readers whose
 * sockets refuse bytes go until it is back under twice the limit. Bytes that only wait for the
 * flush queue (a hub behind on its own work) never count against a stream. Dropped clients
 * resume with Last-Event-ID. The queued frames are shared by every stream they go to, so what
 * passes the limit meanwhile is references to the same frames, not copies.
 */
export class UnsentBudget<Stream extends HoldsUnsentBytes> {
  readonly limit: number;
  /** The streams that reported bytes, until a scan finds them empty or they close. */
  readonly #holders = new Set<Stream>();
  /** The sum of what streams reported: at least what they hold. */
  #total = 0;
  #scanTimer: NodeJS.Timeout | undefined;
  /** Each holder's bytes sent when the scan was armed: a stream whose figure grew since reads. */
  #sentAtMark = new Map<Stream, number>();
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
    this.#sentAtMark.delete(stream);
  }

  #check(): void {
    // Not at once: a burst queues the same frames on every stream, reader or laggard alike.
    // A moment later the flush queue has written them and readers' sockets have drained; what
    // is still held then tells the laggards apart.
    if (this.#scanTimer !== undefined) return;
    this.#sentAtMark = new Map([...this.#holders].map((stream) => [stream, stream.bytesSent]));
    this.#scanTimer = setTimeout(() => {
      this.#scanTimer = undefined;
      if (this.#total > this.limit) this.scan();
    }, SCAN_DELAY_MS);
  }

  /**
   * Reads every stream's real figure. Over the limit, drops the streams whose sockets refuse
   * bytes and took none since the scan was armed (their clients are not reading), largest
   * first, down to 90% of the limit. If that is not enough, the others are given another look a
   * moment later, when they have read or stopped; only past twice the limit do the largest
   * readers go at once (memory first), down to twice the limit.
   */
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
    const mark = this.#sentAtMark;
    this.#sentAtMark = new Map();
    if (total <= this.limit) return;
    // Only a stream whose socket refuses what it was offered is held up by its client; bytes
    // that wait for the flush queue (a busy hub) are the hub's delay, written in the next turns.
    // Of those, a stream that took nothing since the mark has stopped reading. A holder that was
    // not there when the scan was armed is given the benefit of the doubt.
    const stopped = (stream: Stream) => {
      const before = mark.get(stream);
      return before !== undefined && stream.bytesSent <= before;
    };
    const largestFirst = (a: Stream, b: Stream) => b.reportedUnsent - a.reportedUnsent;
    const heldUpByClient = holders.filter((stream) => stream.awaitingClient);
    this.#dropUntil(heldUpByClient.filter(stopped).sort(largestFirst), this.limit * LOW_WATER);
    if (this.#total <= this.limit) return;
    if (this.#total > this.limit * HARD_FACTOR) {
      // Memory first, but no further: a slow reader should not pay for the laggards a later
      // look will find.
      const reading = heldUpByClient.filter((stream) => !stopped(stream));
      this.#dropUntil(reading.sort(largestFirst), this.limit * HARD_FACTOR);
    }
    if (this.#total <= this.limit) return;
    // Look again in a moment, marking where each stream is now.
    clearTimeout(this.#scanTimer);
    this.#scanTimer = undefined;
    this.#check();
  }

  #dropUntil(streams: readonly Stream[], target: number): void {
    for (const stream of streams) {
      if (this.#total <= target) return;
      this.dropped++;
      // The stream forgets its bytes as it closes.
      stream.dropAsSlowConsumer();
    }
  }

  close(): void {
    clearTimeout(this.#scanTimer);
    this.#scanTimer = undefined;
    this.#sentAtMark.clear();
  }
}
