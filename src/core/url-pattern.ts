import { ByteBoundedCache } from './byte-bounded-cache.ts';
import { HeraldError } from './errors.ts';
import { ExpressionTooComplexError } from './linear-matcher.ts';
import { UnsupportedRegExpError } from './regexp-subset.ts';
import { MAX_SELECTOR_CACHE_BYTES, type TopicSelector } from './topic-selector.ts';
import { MAX_URL_PATTERN_STATES, UrlPatternMatcher } from './url-pattern-matcher.ts';

/*
 * Draft-08 topic matchers (draft-dunglas-mercure-08, "Matcher Types"): `exact` compares bytes,
 * `urlpattern` evaluates a WHATWG URL Pattern, and the value `*` matches every topic whatever
 * the type. Every draft-08 matcher, from a subscribe query or from a token's
 * `authorization_details`, becomes a TopicSelector here and only here, so that the engine under
 * URL Patterns can be replaced (issue 12: a matcher that cannot backtrack) without touching
 * its callers.
 *
 * The URL Pattern implementation is `urlpattern-polyfill`'s class, imported without installing
 * it globally: Node 24 has a native `URLPattern` and Node 20 does not, and matching must be the
 * same on every Node version Herald runs on. Its regular expressions run on Herald's linear
 * matcher, not V8's backtracking one (url-pattern-matcher.ts).
 */

/** The matcher types Herald supports, by their canonical (case-sensitive) names. */
export const MATCH_TYPES = ['exact', 'urlpattern'] as const;

export type MatchType = (typeof MATCH_TYPES)[number];

export function isMatchType(value: unknown): value is MatchType {
  return value === 'exact' || value === 'urlpattern';
}

/** Longest matcher value accepted, in UTF-16 code units (past it: 400). */
export const MAX_MATCHER_LENGTH = 4096;

/**
 * C0 and C1 controls, DEL, and Unicode format characters (general category Cf: bidirectional
 * and zero-width controls). Draft-08 forbids them in topics and matcher values: they are
 * invisible and let one identifier pass for another.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN_CHARACTERS = /[\u0000-\u001F\u007F-\u009F\p{Cf}]/u;
// A lone surrogate: no UTF-8 byte sequence encodes it, so the value was not valid UTF-8.
const LONE_SURROGATE = /\p{Cs}/u;

/** Whether a topic or matcher value holds a character draft-08 forbids. */
export function hasForbiddenCharacter(value: string): boolean {
  return FORBIDDEN_CHARACTERS.test(value);
}

const ANY: TopicSelector = Object.freeze({ source: '*', kind: 'any', matches: () => true });

// Many subscribers share matchers; compiling a pattern once saves work and memory. Keyed by
// hub URL too: a relative pattern means something else under another base. Bounded in bytes
// like the draft-07 selector cache (see MAX_SELECTOR_CACHE_BYTES), each with its own bound.
const exactCache = new ByteBoundedCache<TopicSelector>(MAX_SELECTOR_CACHE_BYTES);
const patternCache = new ByteBoundedCache<TopicSelector>(MAX_SELECTOR_CACHE_BYTES);

/** Estimated bytes of a selector object and its source string. */
function selectorBytes(source: string): number {
  return 120 + source.length * 2;
}

/**
 * Checks a matcher value the way draft-08 requires of every one (query parameter or token):
 * well-formed Unicode, no forbidden character, at most MAX_MATCHER_LENGTH long. Throws
 * HERALD_ERR_INVALID_MATCHER or HERALD_ERR_MATCHER_TOO_LONG.
 */
export function checkMatcherValue(match: string): void {
  if (match.length > MAX_MATCHER_LENGTH) {
    throw new HeraldError(
      'HERALD_ERR_MATCHER_TOO_LONG',
      `A topic matcher may be at most ${MAX_MATCHER_LENGTH} characters long; this one has ${match.length}.`,
    );
  }
  if (LONE_SURROGATE.test(match) || hasForbiddenCharacter(match)) {
    throw new HeraldError(
      'HERALD_ERR_INVALID_MATCHER',
      'A topic matcher must be valid UTF-8 without control characters (C0, C1, DEL) or Unicode format characters.',
    );
  }
}

/**
 * Compiles a URL Pattern matcher. A relative pattern is resolved against `hubUrl`; so is each
 * relative topic it is tested against. `ignoreCase` stays off: paths, queries and fragments are
 * case-sensitive, hosts are compared canonicalized. A topic that is not a URL reference
 * against the hub URL does not match. Throws HERALD_ERR_INVALID_MATCHER for a pattern that does
 * not compile.
 */
export function compileUrlPattern(pattern: string, hubUrl: string): TopicSelector {
  const key = `${hubUrl}\u0000${pattern}`;
  const cached = patternCache.get(key);
  if (cached !== undefined) return cached;
  let compiled: UrlPatternMatcher;
  try {
    compiled = UrlPatternMatcher.compile(pattern, hubUrl);
  } catch (error) {
    throw refusalOf(pattern, error);
  }
  const selector: TopicSelector = {
    source: pattern,
    kind: 'urlpattern',
    matches: (topic) => compiled.matches(topic, hubUrl),
  };
  patternCache.set(key, selector, selectorBytes(key) + compiled.byteSize);
  return selector;
}

function refusalOf(pattern: string, error: unknown): HeraldError {
  if (error instanceof ExpressionTooComplexError) {
    return new HeraldError(
      'HERALD_ERR_MATCHER_TOO_COMPLEX',
      `This URL Pattern compiles to more than ${MAX_URL_PATTERN_STATES} matcher states; use fewer wildcards, groups or repetitions.`,
    );
  }
  if (error instanceof UnsupportedRegExpError) {
    return new HeraldError(
      'HERALD_ERR_INVALID_MATCHER',
      `"${pattern}" uses a regular-expression feature Herald does not match (it matches URL Patterns in linear time, so backreferences, lookaround, \\b and \\p{…} in regexp groups are refused): ${error.message}`,
    );
  }
  // The compiler's own message names internals; the client gets a plain explanation.
  return new HeraldError(
    'HERALD_ERR_INVALID_MATCHER',
    `"${pattern}" is not a well-formed URL Pattern.`,
  );
}

function exactSelector(match: string): TopicSelector {
  let selector = exactCache.get(match);
  if (selector === undefined) {
    // Byte for byte: no base URL, no normalization, and `{` means nothing (unlike draft-07).
    selector = { source: match, kind: 'exact', matches: (topic) => topic === match };
    exactCache.set(match, selector, selectorBytes(match));
  }
  return selector;
}

/**
 * The selector of one draft-08 matcher: `*` matches every topic whatever `matchType` says;
 * `exact` compares bytes; `urlpattern` evaluates the pattern against `hubUrl`. Checks the value
 * first (see checkMatcherValue); throws HeraldError for a value that is refused.
 */
export function matcherSelector(
  match: string,
  matchType: MatchType,
  hubUrl: string,
): TopicSelector {
  checkMatcherValue(match);
  if (match === '*') return ANY;
  return matchType === 'exact' ? exactSelector(match) : compileUrlPattern(match, hubUrl);
}
