import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RedisBackend } from '../../src/backends/redis.ts';
import { Hub } from '../../src/core/hub.ts';
import type { NewUpdate } from '../../src/core/update.ts';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { RecordingSink } from '../support/recording-sink.ts';

const LIMITS = {
  maxTopicsPerUpdate: 64,
  maxUpdatesPerPublish: 10_000,
  maxSelectorsPerSubscription: 64,
  maxPendingBytes: 64 << 20,
};
const BATCH = 5_000;
const RESUME_AT = 4_000;

const updates = (label: string, count: number): NewUpdate[] =>
  Array.from({ length: count }, (_, i) => ({
    topics: ['https://example.com/lag'],
    data: `${label}${i}`,
    private: false,
  }));

test('a resume on a node whose live feed lags the shared stream writes each update once, in order', async (t) => {
  const keyPrefix = uniquePrefix('lagging-feed');
  const open = () =>
    RedisBackend.open({ url: REDIS_URL, keyPrefix, maxEvents: null, maxAgeMs: null });
  const writer = await open();
  const reader = await open();
  const hub = new Hub(reader, LIMITS);
  t.after(async () => {
    hub.close();
    await writer.close();
    await reader.close();
    await deleteKeys(keyPrefix);
  });
  let delivered = 0;
  reader.onUpdate(() => delivered++);

  // Another node stores a burst; this node's feed reads it 1000 entries at a time, so the
  // subscription below arrives while most of the burst is still on its way here.
  const stored = await writer.append(updates('burst', BATCH));
  const resumeAfter = stored[RESUME_AT - 1]?.id ?? '';
  const sink = new RecordingSink();
  const deliveredAtJoin = delivered;
  const opened = await hub.subscribe({
    selectors: ['https://example.com/lag'],
    grants: { privateSelectors: [] },
    sink,
    lastEventId: resumeAfter,
  });
  assert.equal(opened.resumedAfter, resumeAfter);
  assert.ok(deliveredAtJoin < BATCH, `the feed lagged (${deliveredAtJoin} of ${BATCH} delivered)`);
  const later = await writer.append(updates('later', 50));
  await opened.start();
  await reader.caughtUp();

  const expected = [...stored.slice(RESUME_AT), ...later].map((update) => update.id);
  assert.equal(sink.ids.length, expected.length, 'each update once, none the client had');
  assert.deepEqual(sink.ids, expected, 'in stream order');
});
