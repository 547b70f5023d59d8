/**
 * Counts each client's open streams under `--max-streams-per-client`: StreamsPerClient for
 * one process, SharedStreamsPerClient (core/shared-streams-per-client.ts) for a cluster on a
 * shared store.
 */
export interface StreamCounter {
  readonly limit: number;
  /** Clients this process holds a stream of. */
  readonly clients: number;
  /** Counts one more stream for `client`; false when it already holds the limit. */
  tryOpen(client: string): boolean | Promise<boolean>;
  /** Uncounts one stream of `client`, counted by `tryOpen`. */
  release(client: string): void;
}

/**
 * Counts the open event streams of each client of this process, so that one client cannot hold every socket
 * the process has. A client's count goes down as its streams close; a client with none is
 * forgotten, so the map holds only clients that have a stream open.
 */
export class StreamsPerClient implements StreamCounter {
  readonly limit: number;
  readonly #open = new Map<string, number>();

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Clients with at least one stream open. */
  get clients(): number {
    return this.#open.size;
  }

  /**
   * Counts one more stream for `client`; false when the client already holds the limit. Each
   * stream counted is released once, by `release`: the caller keeps the key, not a closure.
   */
  tryOpen(client: string): boolean {
    const count = this.#open.get(client) ?? 0;
    if (count >= this.limit) return false;
    this.#open.set(client, count + 1);
    return true;
  }

  /** Uncounts one stream of `client`, counted by `tryOpen`. */
  release(client: string): void {
    const left = (this.#open.get(client) ?? 1) - 1;
    if (left === 0) this.#open.delete(client);
    else this.#open.set(client, left);
  }
}
