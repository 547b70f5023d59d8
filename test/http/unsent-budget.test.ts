import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import type { HoldsUnsentBytes } from '../../src/http/streams/unsent-budget.ts';
import { UnsentBudget } from '../../src/http/streams/unsent-budget.ts';

/** A stream as the budget sees it: what it holds, what its socket took so far, whether dropped. */
class FakeStream implements HoldsUnsentBytes {
  unsentBytes: number;
  bytesSent = 0;
  /** Its socket refuses what it is offered (the kernel's buffers are full). */
  awaitingClient = true;
  reportedUnsent = 0;
  dropped = false;
  readonly #budget: UnsentBudget<FakeStream>;

  constructor(budget: UnsentBudget<FakeStream>, unsent: number) {
    this.#budget = budget;
    this.unsentBytes = unsent;
  }

  dropAsSlowConsumer(): void {
    this.dropped = true;
    this.#budget.forget(this);
  }
}

/** A budget of `limit` bytes whose pending look is cancelled when the test ends. */
function openBudget(t: TestContext, limit: number): UnsentBudget<FakeStream> {
  const budget = new UnsentBudget<FakeStream>(limit);
  t.after(() => {
    budget.close();
  });
  return budget;
}

test('past the total, streams whose sockets took nothing are dropped before a larger one that reads', (t) => {
  const budget = openBudget(t, 1000);
  // A reader that is behind a burst holds the most; two clients that stopped reading hold less.
  const reader = new FakeStream(budget, 600);
  const stalledA = new FakeStream(budget, 300);
  const stalledB = new FakeStream(budget, 250);
  for (const stream of [reader, stalledA, stalledB]) budget.report(stream, stream.unsentBytes);
  assert.ok(budget.total > budget.limit);

  // Meanwhile the reader's socket takes bytes; the others' take none.
  reader.bytesSent += 50;
  reader.unsentBytes -= 50;
  budget.scan();

  // 1,100 held, 900 to reach: the stalled stream holding the most goes, and that is enough.
  // (Largest first regardless, the reader would have gone instead.)
  assert.equal(stalledA.dropped, true);
  assert.equal(stalledB.dropped, false);
  assert.equal(reader.dropped, false, 'the stream that reads is the last to go');
  assert.equal(budget.dropped, 1);
  assert.equal(budget.total, 800);
});

test('readers alone over the limit are looked at again, and dropped once they stop reading', (t) => {
  const budget = openBudget(t, 1000);
  const big = new FakeStream(budget, 900);
  const small = new FakeStream(budget, 400);
  for (const stream of [big, small]) budget.report(stream, stream.unsentBytes);
  for (const stream of [big, small]) stream.bytesSent += 10;
  budget.scan();
  assert.equal(budget.dropped, 0, 'both read: under twice the limit, nobody is dropped yet');

  // The next look (armed by that scan): the big one took nothing meanwhile, the small one read.
  small.bytesSent += 10;
  budget.scan();
  assert.equal(big.dropped, true);
  assert.equal(small.dropped, false);
});

test('past twice the limit, the largest streams go even while they read', (t) => {
  const budget = openBudget(t, 1000);
  const big = new FakeStream(budget, 1500);
  const small = new FakeStream(budget, 700);
  for (const stream of [big, small]) budget.report(stream, stream.unsentBytes);
  for (const stream of [big, small]) stream.bytesSent += 10;
  budget.scan();
  assert.equal(big.dropped, true);
  assert.equal(small.dropped, false);
  assert.equal(budget.total, 700);
});

test('past twice the limit, readers go only until the total is back under twice the limit', (t) => {
  const budget = openBudget(t, 1000);
  const streams = [900, 800, 700].map((unsent) => new FakeStream(budget, unsent));
  for (const stream of streams) budget.report(stream, stream.unsentBytes);
  for (const stream of streams) stream.bytesSent += 10;
  budget.scan();
  // 2,400 held by readers: the largest goes (1,500 left, under 2,000); the others get a later look.
  assert.deepEqual(
    streams.map((stream) => stream.dropped),
    [true, false, false],
  );
  assert.equal(budget.total, 1500);
});

test('a stream whose bytes only wait for the flush queue is not taken for one that stopped reading', (t) => {
  const budget = openBudget(t, 1000);
  // A busy hub has not written to either socket since the mark: neither took a byte. One socket
  // refuses what it holds; the other holds nothing (its bytes wait for the flush queue).
  const stalled = new FakeStream(budget, 700);
  const waiting = new FakeStream(budget, 800);
  waiting.awaitingClient = false;
  for (const stream of [stalled, waiting]) budget.report(stream, stream.unsentBytes);
  budget.scan();
  assert.equal(stalled.dropped, true);
  assert.equal(waiting.dropped, false, 'the larger one was never offered its bytes');
});
