/**
 * A set of Unicode code points, as the character classes of the linear matcher need them:
 * sorted, disjoint, non-adjacent ranges, with a bitmap for ASCII (nearly every character a topic
 * holds) so that the common test is one array read.
 */
export class CharSet {
  /** Inclusive [low, high] pairs, flattened, sorted, disjoint and not touching. */
  readonly ranges: readonly number[];
  readonly #ascii = new Uint32Array(4);

  private constructor(ranges: readonly number[]) {
    this.ranges = ranges;
    for (let index = 0; index < ranges.length; index += 2) {
      const low = ranges[index] ?? 0;
      const high = Math.min(ranges[index + 1] ?? 0, 127);
      for (let code = low; code <= high; code++) {
        this.#ascii[code >>> 5] = (this.#ascii[code >>> 5] ?? 0) | (1 << (code & 31));
      }
    }
  }

  static readonly MAX_CODE_POINT = 0x10ffff;

  /** From any list of inclusive ranges, in any order, overlapping or not. */
  static of(pairs: readonly (readonly [number, number])[]): CharSet {
    const sorted = pairs.filter(([low, high]) => low <= high).sort((a, b) => a[0] - b[0]);
    const ranges: number[] = [];
    for (const [low, high] of sorted) {
      const last = ranges.length - 1;
      if (last > 0 && low <= (ranges[last] ?? 0) + 1) {
        ranges[last] = Math.max(ranges[last] ?? 0, high);
      } else {
        ranges.push(low, high);
      }
    }
    return new CharSet(ranges);
  }

  /** The characters of `text`, each one a member. */
  static chars(text: string): CharSet {
    return CharSet.of(
      Array.from(text, (char) => [char.codePointAt(0) ?? 0, char.codePointAt(0) ?? 0]),
    );
  }

  static range(low: number, high: number): CharSet {
    return CharSet.of([[low, high]]);
  }

  union(other: CharSet): CharSet {
    return CharSet.of([...this.pairs(), ...other.pairs()]);
  }

  complement(): CharSet {
    const pairs: [number, number][] = [];
    let next = 0;
    for (const [low, high] of this.pairs()) {
      if (low > next) pairs.push([next, low - 1]);
      next = high + 1;
    }
    if (next <= CharSet.MAX_CODE_POINT) pairs.push([next, CharSet.MAX_CODE_POINT]);
    return CharSet.of(pairs);
  }

  pairs(): [number, number][] {
    const pairs: [number, number][] = [];
    for (let index = 0; index < this.ranges.length; index += 2) {
      pairs.push([this.ranges[index] ?? 0, this.ranges[index + 1] ?? 0]);
    }
    return pairs;
  }

  /** Bits 32·index to 32·index + 31 of the ASCII bitmap (index 0 to 3). */
  asciiWord(index: number): number {
    return this.#ascii[index] ?? 0;
  }

  has(code: number): boolean {
    if (code < 128) return ((this.#ascii[code >>> 5] ?? 0) & (1 << (code & 31))) !== 0;
    // Binary search over the range pairs.
    let low = 0;
    let high = this.ranges.length / 2 - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (code < (this.ranges[middle * 2] ?? 0)) high = middle - 1;
      else if (code > (this.ranges[middle * 2 + 1] ?? 0)) low = middle + 1;
      else return true;
    }
    return false;
  }

  /** Bytes the set holds: its bitmap and its ranges (8 bytes each number, as V8 stores them). */
  get byteSize(): number {
    return 16 + this.ranges.length * 8 + 64;
  }
}
