import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter } from '../../src/core/rate-limiter.ts';

/** A limiter on a clock the test moves by hand. */
function limiter(perSecond: number, burst: number) {
  const clock = { now: 0 };
  return { clock, limits: new RateLimiter({ perSecond, burst }, () => clock.now) };
}

test('a bucket allows the burst, then the rate, and says how long until a cost fits', () => {
  const { clock, limits } = limiter(10, 20);
  assert.deepEqual(limits.take('a', 20), { allowed: true });
  assert.deepEqual(limits.take('a', 1), { allowed: false, retryAfterMs: 100 });
  assert.deepEqual(limits.check('a', 5), { allowed: false, retryAfterMs: 500 });
  clock.now = 500;
  assert.deepEqual(limits.check('a', 5), { allowed: true });
  // check spends nothing; take does.
  assert.deepEqual(limits.take('a', 5), { allowed: true });
  assert.deepEqual(limits.check('a', 1), { allowed: false, retryAfterMs: 100 });
  // Another key has its own full bucket.
  assert.deepEqual(limits.take('b', 20), { allowed: true });
  // A refill never passes the burst.
  clock.now = 60_000;
  assert.deepEqual(limits.take('a', 20), { allowed: true });
  assert.deepEqual(limits.take('a', 1), { allowed: false, retryAfterMs: 100 });
});

test('a cost above the burst counts as the burst', () => {
  const { limits } = limiter(1, 5);
  assert.deepEqual(limits.take('a', 50), { allowed: true });
  assert.deepEqual(limits.take('a', 50), { allowed: false, retryAfterMs: 5000 });
});

test('buckets that have refilled are forgotten: the map does not grow without bound', () => {
  const { clock, limits } = limiter(100, 200);
  for (let i = 0; i < 10_000; i++) limits.take(`publisher-${i}`, 1);
  assert.equal(limits.size, 10_000);
  // Within the sweep interval nothing is dropped.
  clock.now = 5_000;
  limits.take('busy', 200);
  assert.equal(limits.size, 10_001);
  // At the next sweep, every refilled bucket goes; the one still spending stays.
  clock.now = 10_500;
  limits.take('busy', 200);
  assert.equal(limits.size, 1);
  assert.deepEqual(limits.take('busy', 1), { allowed: false, retryAfterMs: 10 });
});

test('a limit needs a positive rate and a burst of at least 1', () => {
  assert.throws(() => new RateLimiter({ perSecond: 0, burst: 1 }), RangeError);
  assert.throws(() => new RateLimiter({ perSecond: 1, burst: 0 }), RangeError);
});
