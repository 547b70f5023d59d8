import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeraldError } from '../../src/core/errors.ts';
import {
  MAX_MATCHER_LENGTH,
  compileUrlPattern,
  matcherSelector,
} from '../../src/core/url-pattern.ts';
import type { MatchType } from '../../src/core/url-pattern.ts';

const HUB = 'https://hub.example.com/.well-known/mercure';

// [match, match_type, topic, matches] — draft-08 "Matcher Types".
const CASES: [string, MatchType, string, boolean][] = [
  ['*', 'exact', 'https://example.com/anything', true],
  ['*', 'urlpattern', 'not a url at all', true],
  ['https://example.com/books/1', 'exact', 'https://example.com/books/1', true],
  ['https://example.com/books/1', 'exact', 'https://example.com/books/10', false],
  // Exact is byte for byte: no case folding, no resolution, no template meaning.
  ['https://example.com/books/1', 'exact', 'https://EXAMPLE.com/books/1', false],
  ['/books/1', 'exact', 'https://hub.example.com/books/1', false],
  ['https://example.com/books/{id}', 'exact', 'https://example.com/books/1', false],
  ['https://example.com/books/{id}', 'exact', 'https://example.com/books/{id}', true],
  ['https://example.com/books/:id', 'urlpattern', 'https://example.com/books/1', true],
  ['https://example.com/books/:id', 'urlpattern', 'https://example.com/books/1/reviews', false],
  ['https://example.com/books/:id', 'urlpattern', 'https://example.com/authors/1', false],
  // No ignoreCase: the path is case-sensitive, the host is canonicalized.
  ['https://example.com/books/:id', 'urlpattern', 'https://example.com/Books/1', false],
  ['https://example.com/books/:id', 'urlpattern', 'https://EXAMPLE.com/books/1', true],
  ['https://example.com/users/42/*', 'urlpattern', 'https://example.com/users/42/books/1', true],
  ['https://example.com/users/42/*', 'urlpattern', 'https://example.com/users/43/books/1', false],
  // Relative patterns and relative topics resolve against the hub URL.
  [
    '/.well-known/mercure/subscriptions/exact/:match/:subscriber',
    'urlpattern',
    '/.well-known/mercure/subscriptions/exact/foo/urn%3Auuid%3A1',
    true,
  ],
  [
    '/.well-known/mercure/subscriptions/exact/:match/:subscriber',
    'urlpattern',
    'https://hub.example.com/.well-known/mercure/subscriptions/exact/foo/bar',
    true,
  ],
  [
    '/.well-known/mercure/subscriptions/exact/:match/:subscriber',
    'urlpattern',
    'https://elsewhere.example.com/.well-known/mercure/subscriptions/exact/foo/bar',
    false,
  ],
  ['https://hub.example.com/books/:id', 'urlpattern', '/books/7', true],
  ['/books/:id', 'urlpattern', 'https://hub.example.com/books/7', true],
  // A topic that is not a URL reference against the hub URL never matches.
  ['https://example.com/:id', 'urlpattern', 'http://[::1', false],
  ['https://example.com/:id', 'urlpattern', 'urn:isbn:123', false],
];

test('draft-08 matchers match as the draft says', () => {
  for (const [match, type, topic, expected] of CASES) {
    assert.equal(
      matcherSelector(match, type, HUB).matches(topic),
      expected,
      `${type} ${match} vs ${topic}`,
    );
  }
});

test('`*` is the wildcard whatever the matcher type', () => {
  assert.equal(matcherSelector('*', 'exact', HUB).kind, 'any');
  assert.equal(matcherSelector('*', 'urlpattern', HUB).kind, 'any');
});

test('selector kinds keep exact matchers indexable', () => {
  assert.equal(matcherSelector('https://example.com/{x}', 'exact', HUB).kind, 'exact');
  assert.equal(matcherSelector('https://example.com/:x', 'urlpattern', HUB).kind, 'urlpattern');
});

test('the same relative pattern means something else under another hub URL', () => {
  const here = compileUrlPattern('/books/:id', HUB);
  const there = compileUrlPattern('/books/:id', 'https://other.example.org/.well-known/mercure');
  assert.equal(here.matches('https://hub.example.com/books/1'), true);
  assert.equal(there.matches('https://hub.example.com/books/1'), false);
});

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (isHeraldError(error)) return error.code;
    throw error;
  }
  assert.fail('expected a refusal');
}

test('malformed URL Patterns are refused, exact values are not parsed', () => {
  for (const pattern of ['https://example.com/(', 'https://example.com/:id(a', 'http://[']) {
    assert.equal(
      refusal(() => matcherSelector(pattern, 'urlpattern', HUB)),
      'HERALD_ERR_INVALID_MATCHER',
    );
    assert.equal(matcherSelector(pattern, 'exact', HUB).matches(pattern), true);
  }
});

test('control, DEL, format characters and lone surrogates are refused in any matcher', () => {
  const bad = [
    'a\u0000b',
    'a\nb',
    'a\u001Fb',
    'a\u007Fb',
    'a\u0085b',
    'a\u200Bb',
    'a\u202Eb',
    'a\uFEFFb',
    'a\uD800b',
  ];
  for (const value of bad) {
    for (const type of ['exact', 'urlpattern'] as const) {
      assert.equal(
        refusal(() => matcherSelector(value, type, HUB)),
        'HERALD_ERR_INVALID_MATCHER',
        JSON.stringify(value),
      );
    }
  }
  // Astral characters (a valid surrogate pair) and ordinary non-ASCII are fine.
  assert.equal(matcherSelector('https://example.com/😀/é', 'exact', HUB).kind, 'exact');
});

test('matchers longer than the limit are refused', () => {
  const long = `https://example.com/${'a'.repeat(MAX_MATCHER_LENGTH)}`;
  assert.equal(
    refusal(() => matcherSelector(long, 'exact', HUB)),
    'HERALD_ERR_MATCHER_TOO_LONG',
  );
  const fits = `https://example.com/${'a'.repeat(MAX_MATCHER_LENGTH - 20)}`;
  assert.equal(fits.length, MAX_MATCHER_LENGTH);
  assert.equal(matcherSelector(fits, 'exact', HUB).matches(fits), true);
});
