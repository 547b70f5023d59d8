import type { RateDecision, RateLimit } from './rate-limiter.ts';
import { RateLimiter } from './rate-limiter.ts';
import type { SharedLimits } from './shared-limits.ts';

const ALLOWED: RateDecision = Object.freeze({ allowed: true });

/**
 * One token bucket per key (a publisher) for the whole cluster: the bucket lives in the shared
 * store, so a publisher spends from the same bucket whichever process or node serves it.
 *
 * This process keeps a mirror of each bucket at the level the store last answered, refilled
 * locally: other processes can only have spent since, so the mirror is never below the real
 * level, and `check` (the refusal before a body is read) never refuses what the shared bucket
 * would allow, without a round trip. When the store does not answer, `take` spends from the
 * mirror alone (see SharedLimits): each process then admits up to the limit on its own.
 */
export class SharedRateLimiter {
  readonly #shared: SharedLimits;
  readonly #limit: RateLimit;
  readonly #mirror: RateLimiter;

  constructor(shared: SharedLimits, limit: RateLimit, now?: () => number) {
    this.#shared = shared;
    this.#limit = limit;
    this.#mirror = new RateLimiter(limit, now);
  }

  /** Whether `key` might spend `cost` now, by this process's mirror; spends nothing. */
  check(key: string, cost: number): RateDecision {
    return this.#mirror.check(key, cost);
  }

  /** Spends `cost` tokens of `key`'s shared bucket if it holds them (see RateLimiter.take). */
  async take(key: string, cost: number): Promise<RateDecision> {
    const found = await this.#shared.attempt((store) => store.takeTokens(key, this.#limit, cost));
    if (found === undefined) {
      this.#shared.fallbacks++;
      return this.#mirror.take(key, cost);
    }
    this.#mirror.adopt(key, found.tokens);
    if (found.allowed) return ALLOWED;
    const needed = Math.min(cost, this.#limit.burst);
    return {
      allowed: false,
      retryAfterMs: ((needed - found.tokens) * 1000) / this.#limit.perSecond,
    };
  }
}
