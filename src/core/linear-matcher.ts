import { CharSet } from './char-set.ts';

/**
 * A matcher for regular languages that cannot backtrack, so that no selector a client sends can
 * make matching a topic cost more than O(topic length × compiled size).
 *
 * JavaScript's RegExp backtracks: a pattern whose parts overlap (`{a}{b}{c}` in a URI template,
 * `:a:b:c` in a URL pattern) takes exponential or high-polynomial time on a topic that almost
 * matches, and blocks the event loop meanwhile. Here an expression is compiled to a Thompson NFA
 * and simulated in lockstep: every live state advances on each character together, each state at
 * most once per character, so the work per character is bounded by the number of states.
 *
 * Bounded repetitions (`x{0,9999}` from a URI template prefix modifier) would need one state per
 * copy. Instead a loop with a large bound keeps a counter beside the state: the fewer iterations a
 * thread has used, the more it may still do, so of the threads at one state only the one with the
 * smallest count matters. The closure is then a shortest-path problem over ε-edges weighted 0 or
 * +1, solved with a small heap, and each state is still settled once per character.
 */
export type Expression =
  | { readonly kind: 'set'; readonly set: CharSet }
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'sequence'; readonly items: readonly Expression[] }
  | { readonly kind: 'choice'; readonly options: readonly Expression[] }
  | {
      readonly kind: 'repeat';
      readonly body: Expression;
      readonly min: number;
      /** `Infinity` for `*` and `+`. */
      readonly max: number;
    };

export const literal = (text: string): Expression => ({ kind: 'literal', text });
export const oneOf = (set: CharSet): Expression => ({ kind: 'set', set });
export const sequence = (...items: Expression[]): Expression => ({ kind: 'sequence', items });
export const choice = (...options: Expression[]): Expression =>
  options.length === 1 ? (options[0] as Expression) : { kind: 'choice', options };
export const repeat = (body: Expression, min: number, max: number): Expression => ({
  kind: 'repeat',
  body,
  min,
  max,
});
export const optional = (body: Expression): Expression => repeat(body, 0, 1);

/**
 * The cost limit of one evaluation, in states settled: SETTLES_PER_CHARACTER per character of the
 * input, plus twice the program's states (one full closure at the start, whatever the input), and
 * never less than SETTLES_ALWAYS_ALLOWED. An
 * ordinary selector settles 2 to 10 states per character; a pathological one (hundreds of
 * adjacent wildcards) thousands. Past the limit an evaluation answers "no match", as draft-08
 * allows for URL Patterns and issue 12 for templates: whatever a client sends, testing it against
 * a topic costs at most a few times what an ordinary selector costs, linear in the topic's length.
 * 64 leaves 6 times the cost of ordinary selectors. Every evaluation may also spend
 * SETTLES_ALWAYS_ALLOWED: the 12 adjacent variables of issue 12's example (about 85 per
 * character) still match topics of up to about 1,200 characters.
 */
export const SETTLES_PER_CHARACTER = 64;

/**
 * What any evaluation may settle whatever the input's length, so that a complex but honest
 * selector is never cut on a short topic: about half a millisecond of one core.
 */
export const SETTLES_ALWAYS_ALLOWED = 100_000;

/** Thrown when an expression would compile to more states than the caller allows. */
export class ExpressionTooComplexError extends Error {
  constructor(readonly limit: number) {
    super(`The expression needs more than ${limit} matcher states.`);
    this.name = 'ExpressionTooComplexError';
  }
}

// Node kinds of the compiled program.
const CODE = 0; // consumes the code point `argument`
const SET = 1; // consumes a code point of sets[argument]
const SPLIT = 2; // ε to next and alternative (alternative -1: a plain jump)
const RESET = 3; // ε to next, counter := 0
const LOOP = 4; // ε to next (the body) while counter < argument; ε to alternative (the exit)
const INCREMENT = 5; // ε to next, counter += 1
const ACCEPT = 6;

/** Repetitions up to this many optional copies are unrolled; larger ones count. */
const UNROLL_LIMIT = 8;

/** Bytes per compiled state: kind (1) + argument, next, alternative (4 each) + ASCII row (16). */
const BYTES_PER_STATE = 29;

export class LinearMatcher {
  readonly #kinds: Uint8Array;
  readonly #arguments: Int32Array;
  readonly #next: Int32Array;
  readonly #alternative: Int32Array;
  readonly #sets: readonly CharSet[];
  readonly #start: number;
  readonly #accept: number;
  readonly #counts: boolean;
  readonly #ascii: Uint32Array;

  private constructor(builder: ProgramBuilder, start: number) {
    const size = builder.kinds.length;
    this.#kinds = Uint8Array.from(builder.kinds);
    this.#arguments = Int32Array.from(builder.argumentsOf);
    this.#next = Int32Array.from(builder.next);
    this.#alternative = Int32Array.from(builder.alternative);
    this.#sets = builder.sets;
    this.#start = start;
    this.#accept = builder.accept;
    this.#counts = builder.counts;
    // Which ASCII characters each state consumes, as 128-bit rows: the test of nearly every
    // character of a topic is one array read.
    this.#ascii = new Uint32Array(size * 4);
    for (let state = 0; state < size; state++) {
      const kind = this.#kinds[state];
      const argument = this.#arguments[state] ?? 0;
      if (kind === CODE && argument < 128) {
        this.#ascii[state * 4 + (argument >>> 5)] = 1 << (argument & 31);
      } else if (kind === SET) {
        const set = this.#sets[argument];
        for (let word = 0; word < 4; word++)
          this.#ascii[state * 4 + word] = set?.asciiWord(word) ?? 0;
      }
    }
    ensureScratch(size);
  }

  /** Compiles `expression`, anchored at both ends. Throws ExpressionTooComplexError past `maxStates`. */
  static compile(expression: Expression, maxStates: number): LinearMatcher {
    const builder = new ProgramBuilder(maxStates);
    const start = builder.compile(expression, builder.accept, false);
    return new LinearMatcher(builder, start);
  }

  /** The states the last evaluation settled: its cost, for budgets spread over several. */
  static get lastCost(): number {
    return scratch.settled;
  }

  /** The default cost limit of an evaluation of `inputLength` characters (see SETTLES_PER_CHARACTER). */
  budgetFor(inputLength: number): number {
    return Math.max(
      SETTLES_ALWAYS_ALLOWED,
      SETTLES_PER_CHARACTER * inputLength + 2 * this.#kinds.length,
    );
  }

  get stateCount(): number {
    return this.#kinds.length;
  }

  /** Memory the compiled form holds, for caches that are bounded in bytes. */
  get byteSize(): number {
    let bytes = 160 + this.#kinds.length * BYTES_PER_STATE;
    for (const set of this.#sets) bytes += set.byteSize;
    return bytes;
  }

  /**
   * Whether the whole of `input` is in the language. O(input length × states), and gives up
   * (answering false) once it has settled `budget` states (by default budgetFor(input.length)).
   */
  matches(input: string, budget = this.budgetFor(input.length)): boolean {
    scratch.settled = 0;
    let current = scratch.listA;
    let currentCounters = scratch.countersA;
    let next = scratch.listB;
    let nextCounters = scratch.countersB;
    const { sourceStates, sourceCounters } = scratch;
    const ascii = this.#ascii;
    const nexts = this.#next;
    let step = nextStep();
    sourceStates[0] = this.#start;
    sourceCounters[0] = 0;
    let live = this.#closure(1, current, currentCounters, step);
    for (let index = 0; index < input.length && live > 0;) {
      const code = input.codePointAt(index) as number;
      index += code > 0xffff ? 2 : 1;
      step = nextStep();
      // Every thread that takes this character seeds one closure, computed once for all of
      // them, so that each state is settled once per character, at its smallest counter.
      let sources = 0;
      if (code < 128) {
        const word = code >>> 5;
        const bit = 1 << (code & 31);
        for (let position = 0; position < live; position++) {
          const state = current[position] as number;
          if (((ascii[state * 4 + word] as number) & bit) === 0) continue;
          sourceStates[sources] = nexts[state] as number;
          sourceCounters[sources] = currentCounters[position] as number;
          sources++;
        }
      } else {
        for (let position = 0; position < live; position++) {
          const state = current[position] as number;
          if (!this.#advances(state, code)) continue;
          sourceStates[sources] = nexts[state] as number;
          sourceCounters[sources] = currentCounters[position] as number;
          sources++;
        }
      }
      live = this.#closure(sources, next, nextCounters, step);
      if (scratch.settled > budget) return false;
      const list = current;
      current = next;
      next = list;
      const counters = currentCounters;
      currentCounters = nextCounters;
      nextCounters = counters;
    }
    return live > 0 && scratch.stamps[this.#accept] === step;
  }

  /** Whether consuming state `state` takes the code point `code`. */
  #advances(state: number, code: number): boolean {
    const kind = this.#kinds[state];
    if (kind === CODE) return this.#arguments[state] === code;
    return kind === SET && (this.#sets[this.#arguments[state] ?? 0]?.has(code) ?? false);
  }

  /**
   * Settles every state reachable by ε-edges from the `sources` (scratch.sourceStates), each once
   * per step, and lists the consuming (and accepting) ones with the smallest counter that reaches
   * them. Returns the length of `list`.
   *
   * Without counters this is a plain depth-first walk (#plainClosure). With counters, ε-edges add 0 or 1 to the
   * counter or reset it to 0, and a heap ordered by counter settles each state at its smallest
   * value first (Dijkstra). A reset, though, yields 0 whatever reached it, so it must enter the
   * heap at 0 before anything it could improve is settled: a first walk, blind to counters, finds
   * the resets reachable this step. The walk cannot find a reset the real closure would not
   * reach, because a loop's guard only blocks its body, and a body holds no reset and cannot
   * reach its own end without consuming (bodies are non-nullable and counters do not nest).
   */
  #closure(sources: number, list: Int32Array, listCounters: Int32Array, step: number): number {
    if (!this.#counts) return this.#plainClosure(sources, list, step);
    const { stamps, stackStates, stackCounters, sourceStates, sourceCounters } = scratch;
    let top = this.#resetsReachable(sources, step);
    for (let index = 0; index < sources; index++) {
      top = this.#push(sourceStates[index] ?? 0, sourceCounters[index] ?? 0, top);
    }
    let length = 0;
    while (top > 0) {
      const state = stackStates[0] ?? 0;
      const value = stackCounters[0] ?? 0;
      top = heapPop(top);
      if (stamps[state] === step) continue;
      stamps[state] = step;
      scratch.settled++;
      const kind = this.#kinds[state];
      const next = this.#next[state] ?? 0;
      switch (kind) {
        case CODE:
        case SET:
        case ACCEPT:
          list[length] = state;
          listCounters[length] = value;
          length++;
          break;
        case SPLIT: {
          const alternative = this.#alternative[state] ?? -1;
          if (alternative >= 0) top = this.#push(alternative, value, top);
          top = this.#push(next, value, top);
          break;
        }
        case RESET:
          top = this.#push(next, 0, top);
          break;
        case LOOP:
          top = this.#push(this.#alternative[state] ?? 0, value, top);
          if (value < (this.#arguments[state] ?? 0)) top = this.#push(next, value, top);
          break;
        case INCREMENT:
          top = this.#push(next, value + 1, top);
          break;
      }
    }
    return length;
  }

  /**
   * #closure for programs without counters (nearly all): the same walk, depth-first, with the
   * program's arrays in locals and every counter left at 0. This is the hot loop of matching.
   */
  #plainClosure(sources: number, list: Int32Array, step: number): number {
    const { stamps, stackStates, sourceStates } = scratch;
    const kinds = this.#kinds;
    const nexts = this.#next;
    const alternatives = this.#alternative;
    let top = 0;
    for (let index = 0; index < sources; index++) {
      const state = sourceStates[index] as number;
      if (stamps[state] !== step) stackStates[top++] = state;
    }
    let length = 0;
    let settled = 0;
    while (top > 0) {
      const state = stackStates[--top] as number;
      if (stamps[state] === step) continue;
      stamps[state] = step;
      settled++;
      const kind = kinds[state] as number;
      if (kind === SPLIT) {
        const alternative = alternatives[state] as number;
        if (alternative >= 0 && stamps[alternative] !== step) stackStates[top++] = alternative;
        const next = nexts[state] as number;
        if (stamps[next] !== step) stackStates[top++] = next;
      } else {
        // CODE, SET or ACCEPT: the only other kinds a program without counters holds.
        list[length++] = state;
      }
    }
    scratch.settled += settled;
    return length;
  }

  /**
   * The first walk of a counting closure: pushes onto the (empty) heap, at counter 0, every reset
   * reachable from the sources by ε-edges. Uses `seen` stamps, not the settling ones. Returns the
   * heap's size.
   */
  #resetsReachable(sources: number, step: number): number {
    const { seen, walk, sourceStates } = scratch;
    let depth = 0;
    for (let index = 0; index < sources; index++) walk[depth++] = sourceStates[index] ?? 0;
    let heap = 0;
    while (depth > 0) {
      const state = walk[--depth] ?? 0;
      if (seen[state] === step) continue;
      seen[state] = step;
      const kind = this.#kinds[state];
      if (kind === CODE || kind === SET || kind === ACCEPT) continue;
      if (kind === RESET) heap = heapPush(state, 0, heap);
      const next = this.#next[state] ?? -1;
      const alternative = this.#alternative[state] ?? -1;
      if (next >= 0 && seen[next] !== step) walk[depth++] = next;
      if (alternative >= 0 && seen[alternative] !== step) walk[depth++] = alternative;
    }
    return heap;
  }

  /** Queues `state` at counter `value` on the closure's heap, unless already settled. */
  #push(state: number, value: number, top: number): number {
    if (scratch.stamps[state] === scratch.step) return top;
    return heapPush(state, value, top);
  }
}

class ProgramBuilder {
  readonly kinds: number[] = [];
  readonly argumentsOf: number[] = [];
  readonly next: number[] = [];
  readonly alternative: number[] = [];
  readonly sets: CharSet[] = [];
  readonly #setIndex = new Map<CharSet, number>();
  readonly accept: number;
  counts = false;

  constructor(readonly maxStates: number) {
    this.accept = this.add(ACCEPT, 0, -1, -1);
  }

  add(kind: number, argument: number, next: number, alternative: number): number {
    if (this.kinds.length >= this.maxStates) throw new ExpressionTooComplexError(this.maxStates);
    this.kinds.push(kind);
    this.argumentsOf.push(argument);
    this.next.push(next);
    this.alternative.push(alternative);
    return this.kinds.length - 1;
  }

  /**
   * Compiles `expression` in front of the already compiled `continuation` (built back to front,
   * so no jump needs patching) and returns its entry state. `counting` says whether a counter
   * loop encloses it: loops do not nest their counters, so an inner bounded repetition unrolls.
   */
  compile(expression: Expression, continuation: number, counting: boolean): number {
    switch (expression.kind) {
      case 'literal': {
        let entry = continuation;
        const codes = Array.from(expression.text).map((char) => char.codePointAt(0) ?? 0);
        for (let index = codes.length - 1; index >= 0; index--) {
          entry = this.add(CODE, codes[index] ?? 0, entry, -1);
        }
        return entry;
      }
      case 'set': {
        let index = this.#setIndex.get(expression.set);
        if (index === undefined) {
          index = this.sets.length;
          this.sets.push(expression.set);
          this.#setIndex.set(expression.set, index);
        }
        return this.add(SET, index, continuation, -1);
      }
      case 'sequence': {
        let entry = continuation;
        for (let index = expression.items.length - 1; index >= 0; index--) {
          entry = this.compile(expression.items[index] as Expression, entry, counting);
        }
        return entry;
      }
      case 'choice': {
        const entries = expression.options.map((option) =>
          this.compile(option, continuation, counting),
        );
        let entry = entries[entries.length - 1] ?? continuation;
        for (let index = entries.length - 2; index >= 0; index--) {
          entry = this.add(SPLIT, 0, entries[index] ?? 0, entry);
        }
        return entry;
      }
      case 'repeat':
        return this.#repeat(
          expression.body,
          expression.min,
          expression.max,
          continuation,
          counting,
        );
    }
  }

  #repeat(
    body: Expression,
    min: number,
    max: number,
    continuation: number,
    counting: boolean,
  ): number {
    let entry: number;
    if (max === Infinity) {
      // A star: the split is the loop head; the body returns to it.
      const head = this.add(SPLIT, 0, -1, continuation);
      this.next[head] = this.compile(body, head, counting);
      entry = head;
    } else if (max - min <= UNROLL_LIMIT || counting || nullable(body)) {
      entry = continuation;
      for (let copy = 0; copy < max - min; copy++) {
        entry = this.add(SPLIT, 0, this.compile(body, entry, counting), continuation);
      }
    } else {
      // A counter loop. A nullable body is unrolled above: a counter loop must consume to count.
      this.counts = true;
      const exit = this.add(RESET, 0, continuation, -1);
      const head = this.add(LOOP, max - min, -1, exit);
      const increment = this.add(INCREMENT, 0, head, -1);
      this.next[head] = this.compile(body, increment, true);
      entry = this.add(RESET, 0, head, -1);
    }
    for (let copy = 0; copy < min; copy++) entry = this.compile(body, entry, counting);
    return entry;
  }
}

function nullable(expression: Expression): boolean {
  switch (expression.kind) {
    case 'set':
      return false;
    case 'literal':
      return expression.text.length === 0;
    case 'sequence':
      return expression.items.every(nullable);
    case 'choice':
      return expression.options.some(nullable);
    case 'repeat':
      return expression.min === 0 || nullable(expression.body);
  }
}

// Matching is synchronous and never re-entered, so every matcher shares one set of work arrays,
// sized for the largest program compiled so far.
const scratch = {
  step: 0,
  settled: 0,
  stamps: new Int32Array(0),
  seen: new Int32Array(0),
  walk: new Int32Array(0),
  sourceStates: new Int32Array(0),
  sourceCounters: new Int32Array(0),
  listA: new Int32Array(0),
  listB: new Int32Array(0),
  countersA: new Int32Array(0),
  countersB: new Int32Array(0),
  stackStates: new Int32Array(0),
  stackCounters: new Int32Array(0),
};

function ensureScratch(size: number): void {
  if (scratch.stamps.length >= size) return;
  const capacity = Math.max(size, scratch.stamps.length * 2, 64);
  scratch.stamps = new Int32Array(capacity);
  scratch.seen = new Int32Array(capacity);
  scratch.sourceStates = new Int32Array(capacity);
  scratch.sourceCounters = new Int32Array(capacity);
  // Each walked state pushes at most its two successors.
  scratch.walk = new Int32Array(capacity * 2 + 2);
  scratch.countersA = new Int32Array(capacity);
  scratch.countersB = new Int32Array(capacity);
  scratch.listA = new Int32Array(capacity);
  scratch.listB = new Int32Array(capacity);
  // Pending entries: one per source and reset (at most two per state) plus at most two per
  // settled state.
  scratch.stackStates = new Int32Array(capacity * 4 + 2);
  scratch.stackCounters = new Int32Array(capacity * 4 + 2);
}

function nextStep(): number {
  if (scratch.step >= 0x7fff_fff0) {
    scratch.stamps.fill(0);
    scratch.seen.fill(0);
    scratch.step = 0;
  }
  return ++scratch.step;
}

// A binary min-heap on (stackCounters, stackStates), for the counting closure.
function heapPush(state: number, value: number, size: number): number {
  const { stackStates, stackCounters } = scratch;
  let position = size;
  while (position > 0) {
    const parent = (position - 1) >> 1;
    if ((stackCounters[parent] ?? 0) <= value) break;
    stackStates[position] = stackStates[parent] ?? 0;
    stackCounters[position] = stackCounters[parent] ?? 0;
    position = parent;
  }
  stackStates[position] = state;
  stackCounters[position] = value;
  return size + 1;
}

function heapPop(size: number): number {
  const { stackStates, stackCounters } = scratch;
  const last = size - 1;
  const state = stackStates[last] ?? 0;
  const value = stackCounters[last] ?? 0;
  let position = 0;
  for (;;) {
    let child = position * 2 + 1;
    if (child >= last) break;
    if (child + 1 < last && (stackCounters[child + 1] ?? 0) < (stackCounters[child] ?? 0)) child++;
    if ((stackCounters[child] ?? 0) >= value) break;
    stackStates[position] = stackStates[child] ?? 0;
    stackCounters[position] = stackCounters[child] ?? 0;
    position = child;
  }
  stackStates[position] = state;
  stackCounters[position] = value;
  return last;
}
