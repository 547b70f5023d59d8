/**
 * Counts the open event streams of each client, so that one client cannot hold every socket
 * the process has. A client's count goes down as its streams close; a client with none is
 * forgotten, so the map holds only clients that have a stream open.
 */
export class StreamsPerClient {
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
