import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisBackend } from '../../src/backends/redis.ts';
import { EARLIEST } from '../../src/core/backend.ts';
import type { Backend } from '../../src/core/backend.ts';
import { EventStream } from '../support/event-stream.ts';
import { countKeys, deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { startTestHub } from '../support/test-hub.ts';

const TOPIC = 'https://example.com/t';

async function historyIds(backend: Backend): Promise<string[]> {
  const ids: string[] = [];
  for await (const update of (await backend.readAfter(EARLIEST)).updates) ids.push(update.id);
  return ids;
}

test('ids shaped like Redis ids are refused: 400 when free, 409 when taken; nothing is stored', async (t) => {
  const keyPrefix = uniquePrefix('ids');
  t.after(() => deleteKeys(keyPrefix));
  const hub = await startTestHub(t, {
    store: { kind: 'redis', url: REDIS_URL, keyPrefix },
    refuseDuplicateIds: true,
  });
  const authorization = { Authorization: `Bearer ${await hub.token({ subscribe: ['*'] })}` };
  const live = await EventStream.open(t, hub.subscribeUrl([TOPIC]), authorization);
  const first = await hub.publish({ topic: TOPIC, data: 'first' });
  assert.equal(first.status, 200);
  assert.match(first.body, /^\d{13}-\d{20}$/);
  const given = await hub.publish({ topic: TOPIC, data: 'given', id: 'urn:example:given' });
  assert.equal(given.status, 200);

  const refusals: [id: string, status: number, code: string][] = [
    ['1732700000000-0', 400, 'HERALD_ERR_INVALID_ID'],
    ['99999999999999999999999-1', 400, 'HERALD_ERR_INVALID_ID'],
    // The id Redis gave `first`, as sent on the wire and without its padding.
    [first.body, 409, 'HERALD_ERR_DUPLICATE_ID'],
    [first.body.replace(/-0+(?=\d)/, '-'), 409, 'HERALD_ERR_DUPLICATE_ID'],
    ['urn:example:given', 409, 'HERALD_ERR_DUPLICATE_ID'],
  ];
  for (const [id, status, code] of refusals) {
    const refused = await hub.publish({ topic: TOPIC, data: `refused ${id}`, id });
    assert.equal(refused.status, status, id);
    const problem = JSON.parse(refused.body) as { code: string; detail: string };
    assert.equal(problem.code, code, id);
    assert.ok(problem.detail.includes(id), problem.detail);
  }
  const last = await hub.publish({ topic: TOPIC, data: 'last' });
  await live.until(() => live.events.some((e) => e.id === last.body), 'the last update');
  assert.deepEqual(
    live.events.map((e) => e.data),
    ['first', 'given', 'last'],
    'no refused update was delivered',
  );
  const replay = await EventStream.open(
    t,
    hub.subscribeUrl([TOPIC], { lastEventID: first.body }),
    authorization,
  );
  const replayed = await replay.waitForEvents(2);
  assert.deepEqual(
    replayed.map((e) => [e.id, e.data]),
    [
      ['urn:example:given', 'given'],
      [last.body, 'last'],
    ],
    'history holds none of the refused updates',
  );
});

test('retention spares updates younger than the grace period, then trims them with their ids', async (t) => {
  const keyPrefix = uniquePrefix('grace');
  t.after(() => deleteKeys(keyPrefix));
  const open = () =>
    RedisBackend.open({
      url: REDIS_URL,
      keyPrefix,
      maxEvents: 0,
      maxAgeMs: null,
      trimIntervalMs: 20,
    });
  const writer = await open();
  t.after(() => writer.close());
  await writer.append([
    { topics: [TOPIC], data: 'a', private: false, id: 'given-a' },
    { topics: [TOPIC], data: 'b', private: false },
  ]);
  // The timer has run many times; within the grace period it trimmed nothing, so a node whose
  // live read lags cannot have missed these.
  await delay(200);
  assert.equal(await writer.historySize(), 2);
  assert.equal(await writer.trim(), 0);
  assert.equal((await writer.readAfter('given-a')).found, true);

  assert.equal(await writer.trim({ ignoreGrace: true }), 2);
  assert.deepEqual(await historyIds(writer), []);
  assert.equal(await writer.lastEventId(), undefined);
  assert.equal((await writer.readAfter('given-a')).found, false);
  const redis = new Redis(REDIS_URL);
  t.after(() => {
    redis.disconnect();
  });
  assert.equal(await redis.hlen(`${keyPrefix}ids`), 0, 'trimmed publisher ids are forgotten');
  assert.equal(await redis.xlen(`${keyPrefix}idlog`), 0);
  // A trimmed publisher id may be used again.
  const [again] = await writer.append([
    { topics: [TOPIC], data: 'a2', private: false, id: 'given-a' },
  ]);
  assert.equal(again?.id, 'given-a');
});

test('retention by age trims what is older than historyMaxAgeMs, by the Redis clock', async (t) => {
  const keyPrefix = uniquePrefix('age');
  t.after(() => deleteKeys(keyPrefix));
  const backend = await RedisBackend.open({
    url: REDIS_URL,
    keyPrefix,
    maxEvents: null,
    maxAgeMs: 300,
    trimIntervalMs: 20,
    trimGraceMs: 0,
  });
  t.after(() => backend.close());
  const old = await backend.append([{ topics: [TOPIC], data: 'old', private: false, id: 'old' }]);
  await delay(400);
  const fresh = await backend.append([{ topics: [TOPIC], data: 'fresh', private: false }]);
  const deadline = Date.now() + 5_000;
  while ((await historyIds(backend)).length > 1 && Date.now() < deadline) await delay(20);
  assert.deepEqual(
    await historyIds(backend),
    fresh.map((u) => u.id),
  );
  assert.equal((await backend.readAfter(old[0]?.id ?? '')).found, false);
});

test('the store keeps three keys, all under its prefix; once closed it refuses work', async (t) => {
  const keyPrefix = uniquePrefix('keys');
  t.after(() => deleteKeys(keyPrefix));
  const redis = new Redis(REDIS_URL);
  t.after(() => {
    redis.disconnect();
  });
  const backend = await RedisBackend.open({
    url: REDIS_URL,
    keyPrefix,
    maxEvents: 10,
    maxAgeMs: null,
  });
  await backend.append([
    { topics: [TOPIC], data: 'x', private: false, id: 'given' },
    { topics: [TOPIC], data: 'y', private: false },
  ]);
  assert.equal(await countKeys(keyPrefix), 3);
  assert.deepEqual((await redis.keys(`${keyPrefix}*`)).sort(), [
    `${keyPrefix}idlog`,
    `${keyPrefix}ids`,
    `${keyPrefix}stream`,
  ]);
  await backend.close();
  await assert.rejects(backend.append([{ topics: [TOPIC], data: 'z', private: false }]), {
    code: 'HERALD_ERR_BACKEND_UNAVAILABLE',
  });
});
