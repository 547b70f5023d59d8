import type { RateLimit } from './rate-limiter.ts';

/**
 * What a store shared by every process of a cluster (the Redis store) offers so that the
 * per-client stream limit and the per-publisher publish rate hold for the whole cluster rather
 * than for each process. Every call touches one key, so the keys may live on any node of a
 * Redis Cluster.
 */
export interface SharedLimitStore {
  /**
   * How long a process's stream counts stand without being renewed: the counts of a process
   * that died without releasing them (SIGKILL, a lost machine) stop counting within this.
   */
  readonly leaseMs: number;
  /**
   * Counts one more stream of `client` for this process, which holds `held` of them already,
   * if every live process together holds fewer than `limit`; false (nothing counted) if not.
   * Renews this process's lease on the client's count.
   */
  openStream(client: string, held: number, limit: number): Promise<boolean>;
  /** Sets this process's count of `client`'s streams (0 removes it) and renews its lease. */
  setStreams(client: string, held: number): Promise<void>;
  /**
   * Spends `cost` tokens (at most the burst) from `key`'s shared bucket if it holds them, else
   * nothing; answers whether it spent and the bucket's level after.
   */
  takeTokens(
    key: string,
    limit: RateLimit,
    cost: number,
  ): Promise<{ readonly allowed: boolean; readonly tokens: number }>;
  /** Resolves once the store answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** What the process is told when the shared store stops or starts answering again. */
export interface SharedLimitsEvents {
  /** Once per outage: from now on this process decides alone. */
  onDegraded(error: unknown): void;
  /** The store answers again: the counts are written back and shared decisions resume. */
  onRecovered(): void;
}

/**
 * The link between this process's limits and the shared store, with the fallback when the
 * store cannot be reached: the first failed call switches every limit to this process's own
 * counts (told once through `onDegraded`), later decisions do not wait for the store, and a
 * timer every third of the lease asks the store again; once it answers, the tick listeners
 * (the stream counts) write back what this process holds and shared decisions resume. While
 * the store answers, the same timer renews the leases.
 */
export class SharedLimits {
  readonly store: SharedLimitStore;
  readonly #events: SharedLimitsEvents;
  readonly #tickListeners = new Set<() => void>();
  readonly #timer: NodeJS.Timeout;
  #degraded = false;
  #probing = false;
  #closed = false;
  /** Decisions this process took alone because the store did not answer (counted by them). */
  fallbacks = 0;

  constructor(store: SharedLimitStore, events: SharedLimitsEvents) {
    this.store = store;
    this.#events = events;
    this.#timer = setInterval(
      () => {
        this.#tick();
      },
      Math.max(1, Math.floor(store.leaseMs / 3)),
    );
    // Renewal alone must not keep the process alive.
    this.#timer.unref();
  }

  /** True while the store does not answer and every limit is this process's alone. */
  get degraded(): boolean {
    return this.#degraded;
  }

  /**
   * Runs `call` against the store; `undefined` when the store cannot be used (at once while
   * degraded), and the caller then decides with this process's own counts.
   */
  async attempt<T>(call: (store: SharedLimitStore) => Promise<T>): Promise<T | undefined> {
    if (this.#degraded || this.#closed) return undefined;
    try {
      return await call(this.store);
    } catch (error) {
      this.#degrade(error);
      return undefined;
    }
  }

  /**
   * Called on every tick while the store answers (to renew leases) and once when it answers
   * again after an outage (to write back). Returns an unsubscribe.
   */
  onTick(listener: () => void): () => void {
    this.#tickListeners.add(listener);
    return () => this.#tickListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#tickListeners.clear();
    await this.store.close();
  }

  #degrade(error: unknown): void {
    if (this.#degraded || this.#closed) return;
    this.#degraded = true;
    this.#events.onDegraded(error);
  }

  #tick(): void {
    if (!this.#degraded) {
      for (const listener of this.#tickListeners) listener();
      return;
    }
    if (this.#probing) return;
    this.#probing = true;
    this.store.ping().then(
      () => {
        this.#probing = false;
        if (this.#closed) return;
        this.#degraded = false;
        this.#events.onRecovered();
        for (const listener of this.#tickListeners) listener();
      },
      () => {
        this.#probing = false;
      },
    );
  }
}
