import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteBackend } from '../../src/backends/sqlite.ts';
import { EARLIEST } from '../../src/core/backend.ts';
import type { Update } from '../../src/core/update.ts';
import { tempDir } from '../support/cli.ts';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub } from '../support/test-hub.ts';
import { waitFor } from '../support/wait.ts';

async function all(updates: AsyncIterable<Update> | Iterable<Update>): Promise<Update[]> {
  const list: Update[] = [];
  for await (const update of updates) list.push(update);
  return list;
}

test('updates older than the maximum age are trimmed, newer ones kept', async (t) => {
  let now = 1_000_000;
  const backend = SqliteBackend.open({
    path: join(tempDir(t), 'age.db'),
    maxEvents: null,
    maxAgeMs: 60_000,
    now: () => now,
  });
  t.after(() => backend.close());
  await backend.append([{ topics: ['t'], data: 'old', private: false }]);
  now += 50_000;
  await backend.append([{ topics: ['t'], data: 'recent', private: false }]);
  now += 20_000;
  assert.equal(backend.trim(), 1);
  const kept = await all((await backend.readAfter(EARLIEST)).updates);
  assert.deepEqual(
    kept.map((update) => update.data),
    ['recent'],
  );
});

test('a large backlog is trimmed in bounded batches, never all in one pass', async (t) => {
  const backend = SqliteBackend.open({
    path: join(tempDir(t), 'batches.db'),
    maxEvents: 10,
    maxAgeMs: null,
    // Only the passes this test makes: the background timer would take a batch of its own
    // whenever the append's sync outlasts its interval.
    trimIntervalMs: 3_600_000,
  });
  t.after(() => backend.close());
  await backend.append(
    Array.from({ length: 12_000 }, (_, i) => ({ topics: ['t'], data: `${i}`, private: false })),
  );
  const passes: number[] = [];
  for (let removed = backend.trim(); removed > 0; removed = backend.trim()) passes.push(removed);
  assert.deepEqual(passes, [5_000, 5_000, 1_990]);
  const kept = await all((await backend.readAfter(EARLIEST)).updates);
  assert.deepEqual(
    kept.map((update) => update.data),
    Array.from({ length: 10 }, (_, i) => `${11_990 + i}`),
  );
});

test('over HTTP, resuming from a trimmed id replays nothing and answers "earliest"', async (t) => {
  const hub = await startTestHub(t, {
    anonymous: true,
    store: { kind: 'sqlite', path: join(tempDir(t), 'http.db') },
    historySize: 3,
  });
  const ids: string[] = [];
  for (let i = 0; i < 8; i++)
    ids.push((await hub.publish({ topic: 'https://example.com/t', data: `${i}` })).body);
  // Retention runs in the background, once a second: wait until history holds three.
  const metrics = new URL('/metrics', hub.hubUrl);
  await waitFor(
    async () => {
      const text = await (await fetch(metrics)).text();
      return Number(/^herald_history_updates (\d+)/m.exec(text)?.[1]) <= 3;
    },
    { interval: 50, message: 'retention to trim history to three' },
  );
  // History read up to a marker published once the replay is open: exactly the newest three.
  const stream = await EventStream.open(t, hub.subscribeUrl(['*'], { lastEventID: 'earliest' }));
  assert.equal((await hub.publish({ topic: 'https://example.com/t', data: 'marker' })).status, 200);
  const kept = (await stream.eventsBefore('marker')).map((event) => event.id ?? '');
  stream.close();
  assert.deepEqual(kept, ids.slice(5));

  const trimmed = await EventStream.open(t, hub.subscribeUrl(['*']), {
    'Last-Event-ID': ids[1] ?? '',
  });
  assert.equal(trimmed.headers.get('last-event-id'), 'earliest');
  const live = (await hub.publish({ topic: 'https://example.com/t', data: 'live' })).body;
  assert.deepEqual(
    (await trimmed.waitForEvents(1)).map((event) => event.id),
    [live],
  );
});
