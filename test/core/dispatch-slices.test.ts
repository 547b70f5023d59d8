import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { MemoryBackend } from '../../src/backends/memory.ts';
import { Hub } from '../../src/core/hub.ts';
import type { NewUpdate } from '../../src/core/update.ts';
import { RecordingSink } from '../support/recording-sink.ts';

function hubOn(backend: MemoryBackend, dispatchSliceMs?: number): Hub {
  return new Hub(backend, {
    maxTopicsPerUpdate: 10,
    maxUpdatesPerPublish: 1000,
    maxSelectorsPerSubscription: 10,
    maxPendingBytes: 64 << 20,
    dispatchSliceMs,
  });
}

const A = 'https://example.com/a';
const B = 'https://example.com/b';

function batch(prefix: string, count: number): NewUpdate[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${i}`,
    topics: [i % 2 === 0 ? A : B],
    data: `${i}`,
    private: false,
  }));
}

async function subscribe(hub: Hub, selectors: string[], lastEventId?: string) {
  const sink = new RecordingSink();
  const opened = await hub.subscribe({
    selectors,
    grants: { privateSelectors: [] },
    sink,
    lastEventId,
  });
  return { sink, opened };
}

/** Lets the event loop go round until `condition` holds (dispatch goes on between turns). */
async function turnsUntil(condition: () => boolean, what: string): Promise<void> {
  for (let turn = 0; !condition(); turn++) {
    if (turn > 1_000_000) throw new Error(`never: ${what}`);
    await nextTurn();
  }
}

for (const sliceMs of [undefined, 0]) {
  test(`a JSON batch reaches every subscriber whole and in order (dispatch slice ${sliceMs ?? 'default'})`, async () => {
    const hub = hubOn(new MemoryBackend({ historySize: 10_000 }), sliceMs);
    const all = await subscribe(hub, ['https://example.com/{x}']);
    const onlyA = await subscribe(hub, [A]);
    // Two selectors matching the same updates: each update still arrives once.
    const twice = await subscribe(hub, [A, B, 'https://example.com/{x}']);
    const updates = batch('u', 1000);
    const stored = await hub.publish(updates);
    assert.deepEqual(
      stored.map((u) => u.id),
      updates.map((u) => u.id),
    );
    await turnsUntil(() => all.sink.ids.length === 1000, 'the whole batch');
    await turnsUntil(() => twice.sink.ids.length >= 1000, 'the whole batch, once');
    const ids = updates.map((u) => u.id ?? '');
    assert.deepEqual(all.sink.ids, ids);
    assert.deepEqual(twice.sink.ids, ids);
    assert.deepEqual(
      onlyA.sink.ids,
      ids.filter((_, i) => i % 2 === 0),
    );
    assert.equal(hub.stats.updatesDispatched, 1000);
    hub.close();
  });
}

test('dispatching a batch lets the event loop go round between slices', async () => {
  const hub = hubOn(new MemoryBackend({ historySize: 10_000 }), 0);
  const { sink } = await subscribe(hub, [A, B]);
  // Queued once the first update is delivered: it runs before the batch is through only if
  // dispatch yields.
  let deliveredBeforeOtherWork: number | undefined;
  sink.onFrame = () => {
    sink.onFrame = undefined;
    setImmediate(() => {
      deliveredBeforeOtherWork = sink.ids.length;
    });
  };
  await hub.publish(batch('y', 200));
  await turnsUntil(() => sink.ids.length === 200, 'the batch');
  assert.ok(deliveredBeforeOtherWork !== undefined);
  assert.ok(
    deliveredBeforeOtherWork < 200,
    `other work ran after ${deliveredBeforeOtherWork} of 200`,
  );
  hub.close();
});

test('a subscriber resuming while a batch is still being dispatched gets each update exactly once, in order', async () => {
  const hub = hubOn(new MemoryBackend({ historySize: 10_000 }), 0);
  const live = await subscribe(hub, [A, B]);
  const first = batch('f', 500);
  await hub.publish(first);
  // Most of the batch waits to be dispatched: resume from its 100th update now.
  assert.ok(live.sink.ids.length < 500);
  const resumed = await subscribe(hub, [A, B], 'f-99');
  assert.equal(resumed.opened.resumedAfter, 'f-99');
  const replay = resumed.opened.start();
  // And another batch while the replay runs.
  const second = batch('s', 50);
  await hub.publish(second);
  await replay;
  // Once the live subscriber has everything, dispatch is through for both.
  await turnsUntil(() => live.sink.ids.length === 550, 'the live subscriber');
  const expected = [...first.slice(100), ...second].map((u) => u.id ?? '');
  assert.deepEqual(resumed.sink.ids, expected);
  assert.deepEqual(
    live.sink.ids,
    [...first, ...second].map((u) => u.id ?? ''),
  );
  hub.close();
});
