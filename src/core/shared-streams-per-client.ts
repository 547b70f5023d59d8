import type { SharedLimits } from './shared-limits.ts';

/** What this process knows of one client's streams. */
interface ClientStreams {
  /** Streams of the client this process admitted and has not released. */
  held: number;
  /**
   * The store's figure for this process may differ from `held`: a call failed, or a stream
   * was admitted or released while the store did not answer. The next write corrects it.
   */
  stale: boolean;
  /** A write of `held` is queued and not yet started: one is enough. */
  writeQueued: boolean;
  /** The client's calls to the store, one after the other (see `#enqueue`). */
  chain: Promise<void>;
  /** Calls queued on `chain` and not finished. */
  pending: number;
}

/**
 * The open streams of each client, counted for the whole cluster through the shared store
 * (the Redis store: see SharedLimitStore). Each process writes its own count of each client's
 * streams, with a lease it renews every third of the lease; a client may open a stream while
 * the counts of all live processes together are under the limit. A process that dies without
 * releasing its streams stops counting once its lease runs out.
 *
 * The store's figure for this process is always written as a whole (never incremented), from
 * this process's own count, and a client's calls go one after the other: a failed or lost
 * call cannot leave a wrong count behind for longer than the next write.
 *
 * When the store does not answer, this process decides alone, as StreamsPerClient does: the
 * cluster then admits up to the limit per process for that client (SharedLimits).
 */
export class SharedStreamsPerClient {
  readonly limit: number;
  readonly #shared: SharedLimits;
  readonly #clients = new Map<string, ClientStreams>();
  readonly #unlisten: () => void;

  constructor(shared: SharedLimits, limit: number) {
    this.limit = limit;
    this.#shared = shared;
    // Renews the lease of every count this process holds, and writes back after an outage.
    this.#unlisten = shared.onTick(() => {
      for (const [client, streams] of this.#clients) this.#write(client, streams);
    });
  }

  /** Clients this process holds a stream of, or has a count to correct for. */
  get clients(): number {
    return this.#clients.size;
  }

  /**
   * Counts one more stream for `client` if the cluster holds fewer than the limit; false when
   * it holds the limit. Each stream counted is released once, by `release`.
   */
  tryOpen(client: string): Promise<boolean> {
    const streams = this.#streams(client);
    return this.#enqueue(client, streams, async () => {
      const counted = await this.#shared.attempt((store) =>
        store.openStream(client, streams.held, this.limit),
      );
      if (counted === undefined) {
        // The store did not answer: this process's own count decides.
        this.#shared.fallbacks++;
        if (streams.held >= this.limit) return false;
        streams.held++;
        streams.stale = true;
        return true;
      }
      streams.stale = false;
      if (counted) streams.held++;
      return counted;
    });
  }

  /** Uncounts one stream of `client`, counted by `tryOpen`. */
  release(client: string): void {
    const streams = this.#clients.get(client);
    if (streams === undefined || streams.held === 0) return;
    streams.held--;
    this.#write(client, streams);
  }

  /** Resolves once every call queued so far has finished (before the store is closed). */
  async settle(): Promise<void> {
    this.#unlisten();
    await Promise.all([...this.#clients.values()].map((streams) => streams.chain));
  }

  #streams(client: string): ClientStreams {
    let streams = this.#clients.get(client);
    if (streams === undefined) {
      streams = { held: 0, stale: false, writeQueued: false, chain: Promise.resolve(), pending: 0 };
      this.#clients.set(client, streams);
    }
    return streams;
  }

  /** Queues a write of this process's whole count of `client`'s streams, unless one waits. */
  #write(client: string, streams: ClientStreams): void {
    if (streams.writeQueued) return;
    streams.writeQueued = true;
    void this.#enqueue(client, streams, async () => {
      streams.writeQueued = false;
      const held = streams.held;
      const written = await this.#shared.attempt((store) => store.setStreams(client, held));
      streams.stale = written === undefined;
    });
  }

  /**
   * Runs `call` after the client's earlier calls: a call sends the count it reads when it
   * starts, so two in flight at once could otherwise write an older count last.
   */
  #enqueue<T>(client: string, streams: ClientStreams, call: () => Promise<T>): Promise<T> {
    streams.pending++;
    const result = streams.chain.then(call);
    streams.chain = result.then(
      () => {
        this.#finished(client, streams);
      },
      () => {
        this.#finished(client, streams);
      },
    );
    return result;
  }

  /** Forgets a client with no stream here, nothing queued and nothing to correct. */
  #finished(client: string, streams: ClientStreams): void {
    streams.pending--;
    if (streams.pending === 0 && streams.held === 0 && !streams.stale) {
      if (this.#clients.get(client) === streams) this.#clients.delete(client);
    }
  }
}
