import { compileUriTemplate } from './uri-template.ts';

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

const MAX_CACHED_SELECTORS = 10_000;
// Many subscribers share the same selectors; compiling a template once saves work and memory.
const cache = new Map<string, TopicSelector>();

function compile(source: string): TopicSelector {
  if (source === '*') return { source, kind: 'any', matches: () => true };
  const template = source.includes('{') ? compileUriTemplate(source) : undefined;
  if (template === undefined) {
    return { source, kind: 'exact', matches: (topic) => topic === source };
  }
  return {
    source,
    kind: 'template',
    matches: (topic) => topic === source || template.test(topic),
  };
}

/** A draft-07 topic selector (`topic=` query parameter, `mercure` claim). */
export function compileSelector(source: string): TopicSelector {
  let selector = cache.get(source);
  if (selector === undefined) {
    if (cache.size >= MAX_CACHED_SELECTORS) cache.clear();
    selector = compile(source);
    cache.set(source, selector);
  }
  return selector;
}

// Most subscriptions have one selector: subscribers of the same one share its one-element list,
// so an idle subscriber holds no array of its own. Nothing changes a subscriber's selectors.
const singles = new Map<string, readonly TopicSelector[]>();

/** The compiled selectors of a subscription, without duplicates, in their order. */
export function compileSelectors(sources: readonly string[]): readonly TopicSelector[] {
  const unique = [...new Set(sources)];
  const [only] = unique;
  if (unique.length !== 1 || only === undefined) return unique.map(compileSelector);
  let list = singles.get(only);
  if (list === undefined) {
    if (singles.size >= MAX_CACHED_SELECTORS) singles.clear();
    list = [compileSelector(only)];
    singles.set(only, list);
  }
  return list;
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
