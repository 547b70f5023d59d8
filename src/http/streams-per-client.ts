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
   * Counts one more stream for `client` and returns what releases it (once, however often it
   * is called); `undefined` when the client already holds the limit.
   */
  tryOpen(client: string): (() => void) | undefined {
    const count = this.#open.get(client) ?? 0;
    if (count >= this.limit) return undefined;
    this.#open.set(client, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#open.get(client) ?? 1) - 1;
      if (left === 0) this.#open.delete(client);
      else this.#open.set(client, left);
    };
  }
}
