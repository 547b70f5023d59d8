/**
 * The last `capacity` samples of a fixed set of named series, in one typed array per series:
 * the memory is fixed at start-up (15 minutes of 11 series, one a second: 80 KB), and pushing
 * a sample writes one number per series. Samples are numbered from 1; a reader that remembers
 * the number of the last it read asks for what came after.
 */
export class SampleRing<Name extends string> {
  readonly names: readonly Name[];
  readonly capacity: number;
  readonly #columns: Float64Array[];
  /** Number of the newest sample; 0 before any. */
  #newest = 0;

  constructor(names: readonly Name[], capacity: number) {
    this.names = names;
    this.capacity = capacity;
    this.#columns = names.map(() => new Float64Array(capacity));
  }

  get newest(): number {
    return this.#newest;
  }

  push(sample: Readonly<Record<Name, number>>): void {
    const slot = this.#newest % this.capacity;
    this.names.forEach((name, index) => {
      const column = this.#columns[index];
      if (column !== undefined) column[slot] = sample[name];
    });
    this.#newest++;
  }

  /**
   * The samples after number `after` that the ring still holds, oldest first, one array per
   * series (`NaN` for a missing value becomes `null` in JSON).
   */
  after(after: number): Record<Name, number[]> {
    const first = Math.max(after, this.#newest - this.capacity, 0);
    const series = {} as Record<Name, number[]>;
    this.names.forEach((name, index) => {
      const column = this.#columns[index] ?? new Float64Array(0);
      const values: number[] = [];
      for (let number = first; number < this.#newest; number++) {
        values.push(column[number % this.capacity] ?? Number.NaN);
      }
      series[name] = values;
    });
    return series;
  }
}
