/** A sustained rate and a burst: a token bucket of `burst` tokens refilled `perSecond` a second. */
export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

export type RateDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      /** Until the bucket holds the cost. */ readonly retryAfterMs: number;
    };

interface Bucket {
  tokens: number;
  at: number;
}

// How often buckets that have refilled are dropped: a full bucket is the same as none.
const SWEEP_INTERVAL_MS = 10_000;

/**
 * One token bucket per key (a publisher). Buckets that have refilled are forgotten on a sweep
 * every 10 s, so the map holds only keys that spent something lately, however many keys come
 * and go. `now` is a monotonic clock in milliseconds.
 */
export class RateLimiter {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();
  #sweptAt: number;

  constructor(limit: RateLimit, now: () => number = () => performance.now()) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) {
      throw new RangeError('A rate limit needs a rate above 0 and a burst of at least 1.');
    }
    this.#perMs = limit.perSecond / 1000;
    this.#burst = limit.burst;
    this.#now = now;
    this.#sweptAt = now();
  }

  /** Keys that have a bucket (spent something and have not refilled since the last sweep). */
  get size(): number {
    return this.#buckets.size;
  }

  /** Whether `key` could spend `cost` now; spends nothing. */
  check(key: string, cost: number): RateDecision {
    return this.#decide(key, cost, false);
  }

  /**
   * Spends `cost` tokens of `key`'s bucket if it holds them; otherwise spends nothing and says
   * how long until it will. A cost above the burst is counted as the burst, so that the largest
   * request is never refused forever.
   */
  take(key: string, cost: number): RateDecision {
    return this.#decide(key, cost, true);
  }

  /**
   * Sets `key`'s bucket to `tokens` now: the level a bucket shared with other processes was
   * found at (shared-rate-limiter.ts), so that `check` and a fallback `take` start from it.
   */
  adopt(key: string, tokens: number): void {
    if (tokens >= this.#burst) this.#buckets.delete(key);
    else this.#buckets.set(key, { tokens: Math.max(0, tokens), at: this.#now() });
  }

  #decide(key: string, cost: number, spend: boolean): RateDecision {
    const now = this.#now();
    this.#sweep(now);
    const needed = Math.min(cost, this.#burst);
    const bucket = this.#buckets.get(key);
    const tokens = bucket === undefined ? this.#burst : this.#level(bucket, now);
    if (tokens < needed) {
      return { allowed: false, retryAfterMs: (needed - tokens) / this.#perMs };
    }
    if (spend) this.#buckets.set(key, { tokens: tokens - needed, at: now });
    return { allowed: true };
  }

  #level(bucket: Bucket, now: number): number {
    return Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#perMs);
  }

  #sweep(now: number): void {
    if (now - this.#sweptAt < SWEEP_INTERVAL_MS) return;
    this.#sweptAt = now;
    for (const [key, bucket] of this.#buckets) {
      if (this.#level(bucket, now) >= this.#burst) this.#buckets.delete(key);
    }
  }
}
