/**
 * A least-recently-used map bounded by the bytes its values hold, as estimated by the caller.
 * Compiled matchers differ in size by orders of magnitude, so a bound in entries bounds nothing:
 * 10,000 distinct long templates once pinned gigabytes.
 */
export class ByteBoundedCache<V> {
  // A Map keeps insertion order: a hit moves its entry to the end, so the front is the least
  // recently used.
  readonly #entries = new Map<string, { value: V; bytes: number }>();
  #bytes = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value`, then evicts the least recently used entries until the bound holds again. */
  set(key: string, value: V, bytes: number): void {
    const previous = this.#entries.get(key);
    if (previous !== undefined) {
      this.#entries.delete(key);
      this.#bytes -= previous.bytes;
    }
    this.#entries.set(key, { value, bytes });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.maxBytes || oldest === key) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
    }
  }
}
