import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteBoundedCache } from '../../src/core/byte-bounded-cache.ts';
import {
  compileSelector,
  MAX_SELECTOR_CACHE_BYTES,
  selectorCacheBytes,
} from '../../src/core/topic-selector.ts';

test('the byte-bounded cache evicts the least recently used entries past its bound', () => {
  const cache = new ByteBoundedCache<string>(100);
  cache.set('a', 'A', 40);
  cache.set('b', 'B', 40);
  assert.equal(cache.get('a'), 'A'); // a is now the most recently used
  cache.set('c', 'C', 40); // 120 bytes: b goes
  assert.equal(cache.get('b'), undefined);
  assert.equal(cache.get('a'), 'A');
  assert.equal(cache.get('c'), 'C');
  assert.equal(cache.bytes, 80);
  cache.set('huge', 'H', 500); // larger than the bound: kept alone, everything else goes
  assert.equal(cache.size, 1);
  assert.equal(cache.get('huge'), 'H');
});

test('distinct long templates cannot grow the selector cache past its byte bound', () => {
  // Issue 12, item 4: 10,000 distinct ~9 KB templates pinned 2.3 GB. Templates are now at most
  // 1,024 characters, and the cache holds at most MAX_SELECTOR_CACHE_BYTES of compiled forms.
  const first = compileSelector(`https://ex.com/0/${'{a}{b}'.repeat(160)}`);
  for (let index = 0; index < 600; index++) {
    compileSelector(`https://ex.com/${index}/${'{a}{b}'.repeat(160)}`);
    assert.ok(selectorCacheBytes() <= MAX_SELECTOR_CACHE_BYTES, `${selectorCacheBytes()} bytes`);
  }
  assert.ok(selectorCacheBytes() > MAX_SELECTOR_CACHE_BYTES / 2, 'the cache was filled');
  // The first one was evicted: compiling it again gives a new (equal) selector.
  const again = compileSelector(`https://ex.com/0/${'{a}{b}'.repeat(160)}`);
  assert.notEqual(again, first);
  assert.equal(again.matches('https://ex.com/0/x'), first.matches('https://ex.com/0/x'));
});
