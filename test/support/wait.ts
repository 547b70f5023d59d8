/**
 * Waiting in tests: for a condition, never for a length of time. A test that sleeps and then
 * looks either fails on a loaded machine (the sleep was too short) or proves nothing (it looked
 * before the thing could happen). Poll for what must become true; to show that something did
 * NOT happen, make something that must come after it happen (publish a marker) and wait for
 * that instead.
 *
 * The timeouts here bound how long a broken test hangs; they are no claim about speed, so they
 * are generous: the suite shares two cores with everything else on the machine.
 */

/** How long a wait may last before it fails, unless told (a bound on hanging, not on speed). */
export const WAIT_TIMEOUT_MS = 30_000;
/** How often a condition is checked, unless told. */
const WAIT_INTERVAL_MS = 10;

export interface WaitOptions {
  /** How long before the wait fails, in milliseconds (default `WAIT_TIMEOUT_MS`). */
  readonly timeout?: number | undefined;
  /** How long between two checks, in milliseconds (default 10). */
  readonly interval?: number | undefined;
  /**
   * What was awaited, for the failure: `timed out waiting for <message>`. A function is called
   * only when the wait fails, so it can describe the state then (what did arrive).
   */
  readonly message?: string | (() => string) | undefined;
}

/** What a condition gives when it does not hold yet. */
type NotYet = false | null | undefined;

/**
 * Checks `condition` until it gives something other than `false`, `null` or `undefined`, and
 * returns that (so a probe can hand back what it found). The condition may be async; an error
 * it throws ends the wait at once. Fails with `message` after `timeout`.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitOptions = {},
): Promise<Exclude<T, NotYet>> {
  const deadline = Date.now() + (options.timeout ?? WAIT_TIMEOUT_MS);
  for (;;) {
    const value = await condition();
    if (value !== false && value !== null && value !== undefined) {
      return value as Exclude<T, NotYet>;
    }
    if (Date.now() >= deadline) throw new Error(`timed out waiting for ${describe(options)}`);
    await pause(options.interval ?? WAIT_INTERVAL_MS);
  }
}

/**
 * Runs `check` (assertions) until it passes, and returns what it returns. Once `timeout` has
 * passed, the check's last failure is thrown as it is, so the test reports the real difference
 * (prefixed with `message` when given).
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  options: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeout ?? WAIT_TIMEOUT_MS);
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline) {
        if (options.message !== undefined && error instanceof Error) {
          error.message = `${describe(options)}: ${error.message}`;
        }
        throw error;
      }
    }
    await pause(options.interval ?? WAIT_INTERVAL_MS);
  }
}

function describe(options: WaitOptions): string {
  const { message } = options;
  if (message === undefined) return 'the condition';
  return typeof message === 'string' ? message : message();
}

/** The pause between two checks: the only timer a waiting test needs. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
