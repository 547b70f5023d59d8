import { ByteBoundedCache } from './byte-bounded-cache.ts';
import { HeraldError } from './errors.ts';
import { ExpressionTooComplexError } from './linear-matcher.ts';
import { compileUriTemplate, parseUriTemplate } from './uri-template.ts';

/**
 * A compiled topic selector. Draft-07 defines three kinds: `*` matches every topic, a URI
 * Template matches the topics it can expand to, and any other string matches itself.
 * A selector that looks like a template also matches its own literal text, as in the
 * reference hub. Draft-08 adds URL Patterns (`urlpattern`, compiled by `url-pattern.ts`);
 * its exact matchers are `exact` selectors, its `*` an `any` one.
 */
export interface TopicSelector {
  readonly source: string;
  /** `exact` selectors can be found through a map; the others must be tested one by one. */
  readonly kind: 'exact' | 'template' | 'urlpattern' | 'any';
  matches(topic: string): boolean;
}

/**
 * The longest template selector accepted from a client (a subscribe request or a token). Real
 * Mercure templates are a URL with a few variables, well under 200 characters. Matching costs
 * O(topic length × compiled size), and a template compiles to about 3 states per character and
 * 20 per variable, so this keeps one evaluation of the worst template of this length against a
 * 1 KB topic near a millisecond (see BENCHMARKS.md, "Selector matching"). Longer selectors that
 * are not templates are plain strings, compared for equality, and not limited here.
 */
export const MAX_TEMPLATE_SELECTOR_LENGTH = 1024;

/**
 * The memory the compiled-selector cache may hold, in bytes. The cache only saves compiling the
 * same selector again (subscribers hold the selectors they use); bounding it by entries let
 * 10,000 distinct long templates pin gigabytes. At MAX_TEMPLATE_SELECTOR_LENGTH a compiled
 * template holds at most about 50 KB (linear-matcher.ts's byteSize), so this keeps at least
 * 300 of the largest and tens of thousands of ordinary ones.
 */
export const MAX_SELECTOR_CACHE_BYTES = 16 * 1024 * 1024;

/** Estimated bytes of a cached selector that holds no compiled matcher: its source and object. */
function plainBytes(source: string): number {
  return 120 + source.length * 2;
}

interface CacheEntry {
  readonly selector: TopicSelector;
  /** The shared one-element list of subscriptions with only this selector (compileSelectors). */
  single: readonly TopicSelector[] | undefined;
}

// Many subscribers share the same selectors; compiling a template once saves work and memory.
const cache = new ByteBoundedCache<CacheEntry>(MAX_SELECTOR_CACHE_BYTES);

function compile(source: string): { selector: TopicSelector; bytes: number } {
  if (source === '*') {
    return { selector: { source, kind: 'any', matches: () => true }, bytes: plainBytes(source) };
  }
  let template;
  if (source.includes('{')) {
    if (source.length > MAX_TEMPLATE_SELECTOR_LENGTH && parseUriTemplate(source) !== undefined) {
      throw new HeraldError(
        'HERALD_ERR_SELECTOR_TOO_LARGE',
        `A URI template selector may be at most ${MAX_TEMPLATE_SELECTOR_LENGTH} characters long; this one has ${source.length}.`,
      );
    }
    try {
      template = compileUriTemplate(source);
    } catch (error) {
      if (!(error instanceof ExpressionTooComplexError)) throw error;
      throw new HeraldError(
        'HERALD_ERR_SELECTOR_TOO_LARGE',
        `This URI template selector compiles to more than ${error.limit} matcher states; use fewer variables.`,
      );
    }
  }
  if (template === undefined) {
    return {
      selector: { source, kind: 'exact', matches: (topic) => topic === source },
      bytes: plainBytes(source),
    };
  }
  const matcher = template;
  return {
    selector: {
      source,
      kind: 'template',
      matches: (topic) => topic === source || matcher.matches(topic),
    },
    bytes: plainBytes(source) + matcher.byteSize,
  };
}

function cacheEntry(source: string): CacheEntry {
  let entry = cache.get(source);
  if (entry === undefined) {
    const { selector, bytes } = compile(source);
    entry = { selector, single: undefined };
    cache.set(source, entry, bytes);
  }
  return entry;
}

/**
 * Compiles a draft-07 topic selector (`topic=` query parameter, `mercure` claim). Throws a HeraldError with
 * `HERALD_ERR_SELECTOR_TOO_LARGE` for a template longer than MAX_TEMPLATE_SELECTOR_LENGTH or
 * one that compiles to more than MAX_TEMPLATE_STATES states.
 */
export function compileSelector(source: string): TopicSelector {
  return cacheEntry(source).selector;
}

/** The bytes the selector cache holds now, for tests and metrics. */
export function selectorCacheBytes(): number {
  return cache.bytes;
}

// Most subscriptions have one selector: subscribers of the same one share its one-element list,
// so an idle subscriber holds no array of its own. Nothing changes a subscriber's selectors.
/** The compiled selectors of a subscription, without duplicates, in their order. */
export function compileSelectors(sources: readonly string[]): readonly TopicSelector[] {
  const unique = [...new Set(sources)];
  const [only] = unique;
  if (unique.length !== 1 || only === undefined) return unique.map(compileSelector);
  const entry = cacheEntry(only);
  entry.single ??= [entry.selector];
  return entry.single;
}

/** True when any of `selectors` matches any of `topics`. */
export function anySelectorMatches(
  selectors: readonly TopicSelector[],
  topics: readonly string[],
): boolean {
  for (const selector of selectors) {
    for (const topic of topics) {
      if (selector.matches(topic)) return true;
    }
  }
  return false;
}
