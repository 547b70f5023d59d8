import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RedisBackend } from '../../src/backends/redis.ts';
import { parseServeOptions } from '../../src/cli/serve-options.ts';
import { resolveConfig } from '../../src/config.ts';
import { EARLIEST } from '../../src/core/backend.ts';
import type { Backend, NodeLeases } from '../../src/core/backend.ts';
import type { Update } from '../../src/core/update.ts';
import { countKeys, deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

async function history(backend: Backend): Promise<Update[]> {
  const updates: Update[] = [];
  for await (const update of (await backend.readAfter(EARLIEST)).updates) updates.push(update);
  return updates;
}

function leasesOf(backend: RedisBackend): NodeLeases {
  const leases = backend.capabilities.nodeLeases;
  assert.ok(leases !== undefined, 'the Redis store keeps node leases');
  return leases;
}

test('an expired lease is settled exactly once, however many nodes race for it; its node then finds it lapsed', async (t) => {
  const keyPrefix = uniquePrefix('leases');
  const open = () =>
    RedisBackend.open({ url: REDIS_URL, keyPrefix, maxEvents: null, maxAgeMs: null });
  const [dying, survivorA, survivorB] = await Promise.all([open(), open(), open()]);
  t.after(async () => {
    await Promise.all([dying.close(), survivorA.close(), survivorB.close()]);
    await deleteKeys(keyPrefix);
  });
  assert.equal(dying.capabilities.exclusive, false);

  const ends = (n: number) =>
    [1, 2].map((form) => ({
      topics: [`/.well-known/mercure/subscriptions/t${n}/form${form}`],
      data: `{"end": ${n}, "form": ${form}, "text": "é\\n\\"quoted\\""}`,
      private: true,
      ...(form === 1 ? { type: 'mercure' } : {}),
    }));
  const leases = leasesOf(dying);
  assert.deepEqual(await leases.renew('dying', 1_000, true), { lapsed: false, expired: [] });
  for (let n = 0; n < 3; n++) await leases.hold('dying', `key-${n}`, ends(n));
  // Released keys (a subscription that ended normally) are not settled.
  await leases.release('dying', 'key-1');
  const a = leasesOf(survivorA);
  const b = leasesOf(survivorB);
  await a.renew('a', 60_000, true);
  await b.renew('b', 60_000, true);
  assert.equal(await a.settle('dying'), 0, 'a live lease is not settled');

  // 'dying' renews no more: wait (on the Redis clock) until a renewal reports it expired.
  await waitFor(async () => (await a.renew('a', 60_000, false)).expired.includes('dying'), {
    interval: 100,
    message: "a renewal to report 'dying' expired",
  });
  const settled = await Promise.all([a.settle('dying'), b.settle('dying'), a.settle('dying')]);
  assert.equal(
    settled.reduce((sum, n) => sum + n, 0),
    2,
  );
  assert.ok(settled.includes(2), 'one caller settled both keys');

  // Each key's updates stay together and in order; keys come in no particular order.
  const stored = (await history(survivorB)).map(({ topics, data, private: isPrivate, type }) => ({
    topics,
    data,
    private: isPrivate,
    ...(type === undefined ? {} : { type }),
  }));
  const byKey = [stored.slice(0, 2), stored.slice(2, 4)].sort((x, y) =>
    String(x[0]?.topics[0]).localeCompare(String(y[0]?.topics[0])),
  );
  assert.equal(stored.length, 4);
  assert.deepEqual(byKey, [ends(0), ends(2)], 'the held updates, each stored once, as held');
  assert.equal((await a.renew('a', 60_000, false)).expired.length, 0, 'the lease is gone');

  // The node comes back (it was paused): its lease had lapsed, so it must announce again.
  assert.equal((await leases.renew('dying', 1_000, false)).lapsed, true);
  assert.equal((await leases.renew('dying', 1_000, false)).lapsed, false);
  await leases.drop('dying');
  await a.drop('a');
  await b.drop('b');
  // Only the stream's own keys are left.
  const left = await countKeys(`${keyPrefix}lease`);
  assert.equal(left, 0);
});

test('--presence-lease takes a duration from 1s to 1h; the default is 15 s', () => {
  const env = { HERALD_JWT_KEY: 'k'.repeat(40) };
  const parsed = parseServeOptions(['--presence-lease', '30s'], env);
  assert.equal(parsed !== 'help' && parsed.herald.presenceLeaseMs, 30_000);
  const fromEnv = parseServeOptions([], { ...env, HERALD_PRESENCE_LEASE: '2s' });
  assert.equal(fromEnv !== 'help' && fromEnv.herald.presenceLeaseMs, 2_000);
  assert.equal(
    resolveConfig({ publisherJwtKey: 'k', subscriberJwtKey: 'k' }).presenceLeaseMs,
    15_000,
  );
  assert.throws(
    () => parseServeOptions(['--presence-lease', '500ms'], env),
    /--presence-lease must be from 1s to 1h; got "500ms"/,
  );
  assert.throws(
    () => parseServeOptions([], { ...env, HERALD_PRESENCE_LEASE: '2h' }),
    /HERALD_PRESENCE_LEASE must be from 1s to 1h; got "2h"/,
  );
});
