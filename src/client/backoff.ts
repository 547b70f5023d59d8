/** How long to wait before a reconnection attempt. */
export interface BackoffOptions {
  /**
   * The delay of the first attempt's window, in milliseconds; the window doubles with every
   * failed attempt.
   *
   * @defaultValue `1000`
   */
  readonly initialDelay: number;
  /**
   * The largest window, in milliseconds.
   *
   * @defaultValue `30000`
   */
  readonly maxDelay: number;
  /**
   * The reconnection time the server last set with a `retry` field, if any. It replaces
   * `initialDelay` as the base of the window, and raises the cap when it is larger: the server
   * knows its load better than the client.
   */
  readonly serverRetry?: number | undefined;
  /**
   * A source of uniform numbers in [0, 1).
   *
   * @defaultValue `Math.random`
   */
  readonly random?: (() => number) | undefined;
}

/**
 * The window of attempt `attempt` (0 for the first reconnection): `min(cap, base × 2^attempt)`,
 * with `base` the server's `retry` or `initialDelay`, and `cap` the larger of `maxDelay` and the
 * server's `retry`.
 */
export function backoffWindow(attempt: number, options: BackoffOptions): number {
  const base = options.serverRetry ?? options.initialDelay;
  const cap = Math.max(options.maxDelay, options.serverRetry ?? 0);
  // 2^attempt overflows to Infinity long after it passes any cap; min() handles that.
  return Math.min(cap, base * 2 ** Math.max(0, attempt));
}

/**
 * Capped exponential backoff with full jitter (a uniform delay in [0, window]), which spreads
 * the reconnections of many clients cut at the same moment, such as by a hub restart.
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const random = options.random ?? Math.random;
  return Math.floor(random() * backoffWindow(attempt, options));
}
