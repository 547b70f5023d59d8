import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { FlushQueue } from '../../src/http/streams/flush-queue.ts';

test('the flush queue writes a slice per turn, in the order streams were listed', async () => {
  const queue = new FlushQueue(2);
  const flushed: number[] = [];
  for (let i = 0; i < 5; i++) queue.add({ flush: () => flushed.push(i) });
  assert.equal(flushed.length, 0, 'nothing is written in the turn that queued it');
  await nextTurn();
  assert.deepEqual(flushed, [0, 1]);
  // A stream listed between slices waits behind those already listed.
  queue.add({ flush: () => flushed.push(5) });
  await nextTurn();
  assert.deepEqual(flushed, [0, 1, 2, 3]);
  await nextTurn();
  assert.deepEqual(flushed, [0, 1, 2, 3, 4, 5]);
  await nextTurn();
  assert.equal(flushed.length, 6, 'each listing is flushed once');
  // Emptied, the queue starts over on the next add.
  queue.add({ flush: () => flushed.push(6) });
  await nextTurn();
  assert.deepEqual(flushed.slice(6), [6]);
});
