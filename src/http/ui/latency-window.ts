// Bucket i holds durations up to SMALLEST * GROWTH^i: 1 µs to about 15 s in 64 buckets, each
// 30% wider than the one before, so a percentile is known to within 30%.
const SMALLEST_SECONDS = 1e-6;
const GROWTH = 1.3;
const BUCKETS = 64;
const LOG_GROWTH = Math.log(GROWTH);

/**
 * Durations observed during one interval, for its percentiles: a fixed log-scale histogram, so
 * observing costs one logarithm and one increment, and the memory is the same whatever the
 * traffic. Reset once read.
 */
export class LatencyWindow {
  readonly #counts = new Uint32Array(BUCKETS);
  #total = 0;

  observe(seconds: number): void {
    const index =
      seconds <= SMALLEST_SECONDS
        ? 0
        : Math.ceil(Math.log(seconds / SMALLEST_SECONDS) / LOG_GROWTH);
    const bucket = Math.min(index, BUCKETS - 1);
    this.#counts[bucket] = (this.#counts[bucket] ?? 0) + 1;
    this.#total++;
  }

  /**
   * The `quantile` (0 to 1) of the durations observed, in seconds: the upper bound of the
   * bucket it falls in. `NaN` when nothing was observed.
   */
  quantile(quantile: number): number {
    if (this.#total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(quantile * this.#total));
    let seen = 0;
    for (const [index, count] of this.#counts.entries()) {
      seen += count;
      if (seen >= rank) return SMALLEST_SECONDS * GROWTH ** index;
    }
    return SMALLEST_SECONDS * GROWTH ** (BUCKETS - 1);
  }

  reset(): void {
    this.#counts.fill(0);
    this.#total = 0;
  }
}
