/**
 * Longest any long job of the hub works in one go before letting the event loop go round:
 * live dispatch of a burst, a history replay, loading subscriptions at start-up, writing a large
 * subscription collection. A health check, a publish or a lease renewal waits about this long
 * behind any of them. One figure for all, so that no job holds the loop longer than the others
 * and the bound is tuned in one place.
 */
export const WORK_SLICE_MS = 2;
