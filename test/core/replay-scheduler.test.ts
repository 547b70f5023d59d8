import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplayScheduler } from '../../src/core/replay-scheduler.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('no more than maxConcurrent slots are held; waiters get one in arrival order', async () => {
  const scheduler = new ReplayScheduler({ maxConcurrent: 2, sliceMs: 2 });
  const first = await scheduler.acquireSlot();
  const second = await scheduler.acquireSlot();
  const order: string[] = [];
  const third = scheduler.acquireSlot().then((slot) => (order.push('third'), slot));
  const fourth = scheduler.acquireSlot().then((slot) => (order.push('fourth'), slot));
  await tick();
  assert.deepEqual([scheduler.active, scheduler.waiting, order], [2, 2, []]);
  first.release();
  first.release(); // once only
  await tick();
  assert.deepEqual([scheduler.active, scheduler.waiting, order], [2, 1, ['third']]);
  second.release();
  (await third).release();
  (await fourth).release();
  assert.deepEqual([scheduler.active, scheduler.waiting], [0, 0]);
  assert.deepEqual(order, ['third', 'fourth']);
});

test('a slot given back while waiting is taken again afterwards, or not at all once released', async () => {
  const scheduler = new ReplayScheduler({ maxConcurrent: 1, sliceMs: 2 });
  const slow = await scheduler.acquireSlot();
  let drain!: () => void;
  const away = slow.releaseWhile(new Promise<void>((resolve) => (drain = resolve)));
  // Meanwhile another replay runs.
  const other = await scheduler.acquireSlot();
  assert.equal(scheduler.active, 1);
  drain();
  await tick();
  assert.equal(scheduler.waiting, 1, 'the slow one waits for the slot again');
  other.release();
  await away;
  assert.equal(scheduler.active, 1);
  assert.equal(slow.released, false);
  // Ended while away: the slot it gets back goes straight back.
  let drainAgain!: () => void;
  const awayAgain = slow.releaseWhile(new Promise<void>((resolve) => (drainAgain = resolve)));
  slow.release();
  drainAgain();
  await awayAgain;
  assert.equal(scheduler.active, 0);
  assert.equal(slow.released, true);
});

test('slot holders take turns, one per turn of the event loop, and I/O callbacks run between', async () => {
  const scheduler = new ReplayScheduler({ maxConcurrent: 3, sliceMs: 2 });
  const slots = await Promise.all([0, 1, 2].map(() => scheduler.acquireSlot()));
  const log: string[] = [];
  // Counts turns of the loop: an immediate queued from an immediate runs on the next turn.
  let loopTurns = 0;
  let spinning = true;
  const spin = () => {
    loopTurns++;
    if (spinning) setImmediate(spin);
  };
  setImmediate(spin);
  await Promise.all(
    slots.map(async (slot, index) => {
      for (let round = 0; round < 3; round++) {
        await slot.yield();
        log.push(`${index}:${loopTurns}`);
      }
    }),
  );
  spinning = false;
  // Round robin...
  assert.deepEqual(
    log.map((entry) => entry.split(':')[0]),
    ['0', '1', '2', '0', '1', '2', '0', '1', '2'],
  );
  // ...and never two slices in one turn of the loop.
  const turns = log.map((entry) => Number(entry.split(':')[1]));
  for (let i = 1; i < turns.length; i++) {
    assert.ok((turns[i] ?? 0) > (turns[i - 1] ?? 0), `slices on distinct turns: ${log.join(' ')}`);
  }
});
