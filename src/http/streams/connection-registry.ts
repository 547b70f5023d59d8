import { COMMENT_FRAME } from '../../core/sse-frame.ts';
import type { SseConnection } from './sse-connection.ts';
import { UnsentBudget } from './unsent-budget.ts';

// setTimeout's longest delay (about 24.8 days); a later expiry re-arms when it fires.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Every open event stream of this process. One timer writes the heartbeat comment to all of
 * them (not one timer per connection), one more ends streams whose token expires, and shutdown
 * ends them all at once.
 */
export class ConnectionRegistry {
  readonly #connections = new Set<SseConnection>();
  readonly #timer: NodeJS.Timeout | undefined;
  /**
   * Streams whose token expires, bucketed by the expiry's whole second (JWT `exp` is in seconds):
   * the expiry timer is armed for the earliest bucket only.
   */
  readonly #expiring = new Map<number, Set<SseConnection>>();
  readonly #bucketOf = new Map<SseConnection, number>();
  #expiryTimer: NodeJS.Timeout | undefined;
  #expiryArmedFor: number | undefined;
  /**
   * Connections dropped as slow consumers: their unsent bytes passed the per-stream cap, or they
   * were among the largest holders when all streams' unsent bytes passed the total.
   */
  droppedSlowConsumers = 0;
  /** The bound on every stream's unsent bytes together. */
  readonly unsent: UnsentBudget<SseConnection>;
  /** Connections ended because their token expired. */
  expiredConnections = 0;

  constructor(heartbeatMs: number | null, maxUnsentBytesTotal = Number.MAX_SAFE_INTEGER) {
    this.unsent = new UnsentBudget(maxUnsentBytesTotal);
    if (heartbeatMs !== null) {
      this.#timer = setInterval(() => {
        for (const connection of this.#connections) connection.write(COMMENT_FRAME);
      }, heartbeatMs);
      // The heartbeat alone must not keep the process alive.
      this.#timer.unref();
    }
  }

  get size(): number {
    return this.#connections.size;
  }

  /**
   * Registers an open stream. With `expiresAt` (milliseconds since the epoch) the stream ends
   * when that moment comes; the client reconnects with a fresh token.
   */
  add(connection: SseConnection, expiresAt?: number): void {
    this.#connections.add(connection);
    if (expiresAt === undefined) return;
    if (expiresAt <= Date.now()) {
      this.#expire(connection);
      return;
    }
    const bucket = Math.ceil(expiresAt / 1000);
    let members = this.#expiring.get(bucket);
    if (members === undefined) {
      members = new Set();
      this.#expiring.set(bucket, members);
    }
    members.add(connection);
    this.#bucketOf.set(connection, bucket);
    if (this.#expiryArmedFor === undefined || bucket < this.#expiryArmedFor) this.#arm(bucket);
  }

  delete(connection: SseConnection): void {
    this.#connections.delete(connection);
    const bucket = this.#bucketOf.get(connection);
    if (bucket === undefined) return;
    this.#bucketOf.delete(connection);
    const members = this.#expiring.get(bucket);
    members?.delete(connection);
    // An emptied bucket is forgotten; the timer armed for it finds nothing and re-arms.
    if (members?.size === 0) this.#expiring.delete(bucket);
  }

  /**
   * Ends every open stream while the hub goes on serving (new streams, heartbeats and expiry
   * go on), sending each `lastFrame()` first, e.g. a `retry:` hint. Returns how many ended.
   */
  endAll(lastFrame?: () => Uint8Array): number {
    const open = [...this.#connections];
    for (const connection of open) {
      if (lastFrame !== undefined) connection.write(lastFrame());
      connection.close();
    }
    return open.length;
  }

  /** Ends every stream; clients reconnect (elsewhere, or here once the hub is back). */
  closeAll(): void {
    clearInterval(this.#timer);
    this.unsent.close();
    clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    this.#expiryArmedFor = undefined;
    for (const connection of this.#connections) connection.close();
    this.#connections.clear();
    this.#expiring.clear();
    this.#bucketOf.clear();
  }

  #arm(bucket: number): void {
    clearTimeout(this.#expiryTimer);
    this.#expiryArmedFor = bucket;
    const delay = Math.min(Math.max(bucket * 1000 - Date.now(), 0), MAX_TIMER_MS);
    this.#expiryTimer = setTimeout(() => {
      this.#sweep();
    }, delay);
    this.#expiryTimer.unref();
  }

  /** Ends every stream whose second has come, then arms the timer for the next one. */
  #sweep(): void {
    this.#expiryTimer = undefined;
    this.#expiryArmedFor = undefined;
    const now = Date.now();
    let next: number | undefined;
    for (const [bucket, members] of this.#expiring) {
      if (bucket * 1000 <= now) {
        for (const connection of members) this.#expire(connection);
        this.#expiring.delete(bucket);
      } else if (next === undefined || bucket < next) {
        next = bucket;
      }
    }
    if (next !== undefined) this.#arm(next);
  }

  #expire(connection: SseConnection): void {
    this.#bucketOf.delete(connection);
    this.#connections.delete(connection);
    this.expiredConnections++;
    connection.close();
  }
}
