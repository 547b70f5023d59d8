import { URLPattern } from 'urlpattern-polyfill/urlpattern';
import { LinearMatcher } from './linear-matcher.ts';
import { parseAnchoredRegExp } from './regexp-subset.ts';

/**
 * URL Pattern matching in linear time (draft-08, "URL Pattern" and "URL-Pattern Denial of
 * Service"). `urlpattern-polyfill` stays the authority on what a pattern means: it parses the
 * pattern, canonicalizes each of its eight components and compiles each to a regular expression,
 * exactly as the URL Pattern standard says. But it then runs those expressions on V8's
 * backtracking engine, where `/:a:b:c:d…` or `/(a|aa)+` against a near-miss topic costs
 * exponential or high-polynomial time. Here the same eight expressions are recompiled for the
 * linear matcher, and a topic is split into its canonical components by the polyfill itself
 * (matching against an all-wildcard pattern), so both sides are the polyfill's to the character.
 *
 * Every evaluation also has a cost budget (the draft allows one and says an evaluation that
 * reaches it does not match): the linear matcher's cost is topic length × pattern size, and both
 * can be long; the budget caps the pattern's factor (LinearMatcher.budgetFor) and the total.
 */

/** The URL components in the order the polyfill compiles them. */
const COMPONENTS = [
  'protocol',
  'username',
  'password',
  'hostname',
  'port',
  'pathname',
  'search',
  'hash',
] as const;

/**
 * The most matcher states one pattern may compile to (all components together). A pattern of
 * the longest accepted length (4,096 characters) made only of segment wildcards needs about
 * 8,200; larger counts come only from counted repetitions inside regexp groups.
 */
export const MAX_URL_PATTERN_STATES = 20_000;

/**
 * The most states one evaluation may settle, whatever the topic's length, before it gives up
 * and answers "no match" (on top of LinearMatcher.budgetFor's limit per character). An ordinary pattern
 * settles a handful per character, so only topics of hundreds of kilobytes reach it; it bounds
 * one evaluation to about 10 ms of one core (see BENCHMARKS.md, "Selector matching").
 */
export const URL_PATTERN_EVALUATION_BUDGET = 2_000_000;

// Every component is a wildcard: exec() returns the topic's canonical components, as the
// polyfill computes them for test(). Its expressions are `^(.*)$`, linear on any engine.
const WILDCARD = new URLPattern({});

export class UrlPatternMatcher {
  readonly #components: readonly LinearMatcher[];

  private constructor(components: readonly LinearMatcher[]) {
    this.#components = components;
  }

  /**
   * Compiles `pattern` (relative ones against `baseUrl`). Throws the polyfill's TypeError for a
   * malformed pattern, UnsupportedRegExpError for a regexp group outside the regular subset
   * (backreferences, lookaround), ExpressionTooComplexError past MAX_URL_PATTERN_STATES.
   */
  static compile(pattern: string, baseUrl: string): UrlPatternMatcher {
    const expressions = polyfillExpressions(pattern, baseUrl);
    let budget = MAX_URL_PATTERN_STATES;
    const components = expressions.map(({ source, flags }) => {
      const matcher = LinearMatcher.compile(parseAnchoredRegExp(source, flags), budget);
      budget -= matcher.stateCount;
      return matcher;
    });
    return new UrlPatternMatcher(components);
  }

  /** Memory the compiled form holds. */
  get byteSize(): number {
    return this.#components.reduce((bytes, matcher) => bytes + matcher.byteSize, 64);
  }

  /**
   * Whether `topic` (relative ones against `baseUrl`) matches: what the polyfill's
   * `test(topic, baseUrl)` answers, in linear time, or false once the evaluation budget is spent.
   */
  matches(topic: string, baseUrl: string): boolean {
    let parts;
    try {
      parts = WILDCARD.exec(topic, baseUrl);
    } catch {
      return false;
    }
    // null when the topic is not a URL reference against the base: no match (draft-08).
    if (parts === null) return false;
    let budget = URL_PATTERN_EVALUATION_BUDGET;
    for (const [index, component] of COMPONENTS.entries()) {
      const input = parts[component].input;
      const matcher = this.#components[index];
      if (matcher === undefined) return false;
      // A component that does not match, or that spent its budget or the total: no match.
      if (!matcher.matches(input, Math.min(budget, matcher.budgetFor(input.length)))) return false;
      budget -= LinearMatcher.lastCost;
    }
    return true;
  }
}

/**
 * The eight regular expressions the polyfill compiles `pattern` to, in COMPONENTS order.
 *
 * The polyfill keeps them in private fields and exposes no other form of its compiled pattern.
 * Re-deriving them from the component pattern strings would mean reimplementing the standard's
 * parser, and any slip would change what patterns mean; so the expressions are recorded as the
 * polyfill builds them, by lending it, for the synchronous duration of its constructor, a
 * `RegExp` that notes each source it is given. Nothing else can run meanwhile (the constructor
 * is synchronous), and the real `RegExp` is restored in `finally`. The polyfill builds one
 * expression per component, last of all and in COMPONENTS order (a constructor string may make
 * it compile its protocol once more before): the last eight are the components'. Tests compare
 * every answer with the polyfill's own test(), so a polyfill that builds them otherwise fails
 * loudly there.
 */
function polyfillExpressions(
  pattern: string,
  baseUrl: string,
): { source: string; flags: string }[] {
  const NativeRegExp = globalThis.RegExp;
  const built: { source: string; flags: string }[] = [];
  function RecordingRegExp(source: string | RegExp, flags?: string): RegExp {
    const expression = new NativeRegExp(source, flags);
    built.push({ source: expression.source, flags: expression.flags });
    return expression;
  }
  RecordingRegExp.prototype = NativeRegExp.prototype;
  globalThis.RegExp = RecordingRegExp as unknown as RegExpConstructor;
  try {
    new URLPattern(pattern, baseUrl);
  } finally {
    globalThis.RegExp = NativeRegExp;
  }
  if (built.length < COMPONENTS.length) {
    throw new TypeError('The URL Pattern implementation did not compile every component.');
  }
  return built.slice(-COMPONENTS.length);
}
