import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileSelector, compileSelectors } from '../../src/core/topic-selector.ts';

// [selector, topic, matches] — semantics of the reference hub (yosida95/uritemplate).
const CASES: [string, string, boolean][] = [
  ['*', 'https://example.com/anything', true],
  ['https://example.com/books/1', 'https://example.com/books/1', true],
  ['https://example.com/books/1', 'https://example.com/books/10', false],
  ['https://example.com/books/{id}', 'https://example.com/books/1', true],
  ['https://example.com/books/{id}', 'https://example.com/books/abc-_.~%20', true],
  ['https://example.com/books/{id}', 'https://example.com/books/', true],
  ['https://example.com/books/{id}', 'https://example.com/books/1/reviews', false],
  ['https://example.com/books/{id}', 'https://example.com/books/a:b', false],
  ['https://example.com/books/{id}', 'https://example.com/authors/1', false],
  // A template also matches its own text.
  ['https://example.com/books/{id}', 'https://example.com/books/{id}', true],
  ['https://example.com/{+path}', 'https://example.com/books/1/reviews', true],
  ['https://example.com/books{/id}', 'https://example.com/books/7', true],
  ['https://example.com/books{/id}', 'https://example.com/books', true],
  ['https://example.com/books{/id*}', 'https://example.com/books/7/8', true],
  ['https://example.com/search{?q,lang}', 'https://example.com/search?q=cat&lang=en', true],
  ['https://example.com/search{?q}', 'https://example.com/search?q=cat&x=1', false],
  ['https://example.com/users/foo/{?topic}', 'https://example.com/users/foo/?topic=a%2Fb', true],
  ['https://example.com/file{.ext}', 'https://example.com/file.json', true],
  ['https://example.com/c/{code:2}', 'https://example.com/c/ab', true],
  ['https://example.com/c/{code:2}', 'https://example.com/c/abc', false],
  ['https://example.com/{a}/{b}', 'https://example.com/x/y', true],
  // Not templates: compared as plain strings.
  ['https://example.com/books/{id', 'https://example.com/books/1', false],
  ['https://example.com/books/{id', 'https://example.com/books/{id', true],
  ['https://example.com/{bad op}', 'https://example.com/x', false],
  ['https://example.com/a|b/{id}', 'https://example.com/a|b/1', false],
  // Regex metacharacters in literals are literal.
  ['https://example.com/a.b/{id}', 'https://example.com/aXb/1', false],
];

for (const [selector, topic, expected] of CASES) {
  test(`${selector} ${expected ? 'matches' : 'does not match'} ${topic}`, () => {
    assert.equal(compileSelector(selector).matches(topic), expected);
  });
}

test('selectors are classified for the topic index', () => {
  assert.equal(compileSelector('*').kind, 'any');
  assert.equal(compileSelector('https://example.com/x').kind, 'exact');
  assert.equal(compileSelector('https://example.com/{x}').kind, 'template');
  assert.equal(compileSelector('https://example.com/{x').kind, 'exact');
});

test('compileSelectors dedupes in order, and one-selector subscriptions share one list', () => {
  const one = compileSelectors(['https://example.com/books/1']);
  assert.equal(one.length, 1);
  assert.equal(compileSelectors(['https://example.com/books/1']), one, 'the same list');
  assert.equal(
    compileSelectors(['https://example.com/books/1', 'https://example.com/books/1']),
    one,
    'duplicates collapse to the single list',
  );
  const two = compileSelectors(['b', 'https://example.com/books/{id}', 'b']);
  assert.deepEqual(
    two.map((selector) => selector.source),
    ['b', 'https://example.com/books/{id}'],
  );
  assert.equal(two[1]?.matches('https://example.com/books/7'), true);
  assert.equal(two[0]?.matches('c'), false);
});
