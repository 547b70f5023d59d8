import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisLimitStore } from '../../src/backends/redis-limits.ts';
import { SharedLimits } from '../../src/core/shared-limits.ts';
import { SharedRateLimiter } from '../../src/core/shared-rate-limiter.ts';
import { SharedStreamsPerClient } from '../../src/core/shared-streams-per-client.ts';
import { EventStream } from '../support/event-stream.ts';
import { PrivateRedis } from '../support/private-redis.ts';
import { RedisCluster } from '../support/redis-cluster.ts';
import { countKeys, deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { startTestHub } from '../support/test-hub.ts';
import type { TestHub } from '../support/test-hub.ts';
import { waitFor } from '../support/wait.ts';

/*
 * The cluster-wide limits against a real Redis, each "process" being its own SharedLimits on
 * its own connection, as each worker and node has. The same classes run inside `herald serve`;
 * test/cluster/limits.test.ts checks them through real processes.
 */

interface Process {
  readonly shared: SharedLimits;
  readonly streams: SharedStreamsPerClient;
  readonly events: string[];
  /** Ends this "process" without releasing anything, as SIGKILL would. */
  kill(): Promise<void>;
}

async function openProcess(
  t: TestContext,
  url: string,
  prefix: string,
  options: { limit: number; leaseMs?: number },
): Promise<Process> {
  // Options as the store's own connection has them: nothing queued while Redis is away.
  const connection = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 50,
  });
  const store = await RedisLimitStore.open(connection, prefix, options.leaseMs);
  const events: string[] = [];
  const shared = new SharedLimits(store, {
    onDegraded: () => events.push('degraded'),
    onRecovered: () => events.push('recovered'),
  });
  t.after(() => shared.close());
  return {
    shared,
    streams: new SharedStreamsPerClient(shared, options.limit),
    events,
    kill: () => shared.close(),
  };
}

function cleanUp(t: TestContext, prefix: string, url: string = REDIS_URL): void {
  t.after(async () => {
    await deleteKeys(prefix, url);
  });
}

const CLIENT = '192.0.2.7';

test('two processes share one count per client: the limit holds across them, a release frees a place', async (t) => {
  const prefix = uniquePrefix('limits');
  cleanUp(t, prefix);
  const a = await openProcess(t, REDIS_URL, prefix, { limit: 3 });
  const b = await openProcess(t, REDIS_URL, prefix, { limit: 3 });

  // Asked at once on both: exactly 3 of 6 are admitted, however the calls interleave.
  const opened = await Promise.all(
    [a, b, a, b, a, b].map(async (process) => ({
      process,
      admitted: await process.streams.tryOpen(CLIENT),
    })),
  );
  assert.equal(opened.filter((o) => o.admitted).length, 3);
  // Another client has its own count.
  assert.equal(await a.streams.tryOpen('192.0.2.8'), true);
  a.streams.release('192.0.2.8');

  // A release is written in the background: the other process admits once it has landed.
  const holder = opened.find((o) => o.admitted)?.process ?? a;
  const other = holder === a ? b : a;
  holder.streams.release(CLIENT);
  await waitFor(() => other.streams.tryOpen(CLIENT), { message: 'the released place to be taken' });
  assert.equal(await a.streams.tryOpen(CLIENT), false);
  assert.equal(await b.streams.tryOpen(CLIENT), false);

  // Every stream released (a release beyond what a process holds is ignored): nothing is left.
  for (const process of [a, b]) {
    for (let i = 0; i < 3; i++) process.streams.release(CLIENT);
    await process.streams.settle();
  }
  assert.equal(await countKeys(prefix), 0);
  assert.deepEqual([...a.events, ...b.events], []);
  assert.equal(a.shared.fallbacks + b.shared.fallbacks, 0);
});

test('a process killed without releasing stops counting once its lease runs out; live ones renew theirs', async (t) => {
  const prefix = uniquePrefix('limits');
  cleanUp(t, prefix);
  const leaseMs = 3_000;
  const key = `${prefix}limits:streams:${CLIENT}`;
  const survivor = await openProcess(t, REDIS_URL, prefix, { limit: 4, leaseMs });
  const doomed = await openProcess(t, REDIS_URL, prefix, { limit: 4, leaseMs });
  for (let i = 0; i < 2; i++) assert.equal(await survivor.streams.tryOpen(CLIENT), true);
  for (let i = 0; i < 2; i++) assert.equal(await doomed.streams.tryOpen(CLIENT), true);
  assert.equal(await survivor.streams.tryOpen(CLIENT), false);

  await doomed.kill();
  // Dead, but within its lease: its 2 still count (a killed process releases nothing).
  assert.equal(await survivor.streams.tryOpen(CLIENT), false);
  // Once its lease ran out they come back, and only those: the survivor's own 2 still count.
  await waitFor(() => survivor.streams.tryOpen(CLIENT), {
    message: 'the dead process to stop counting',
  });
  assert.equal(await survivor.streams.tryOpen(CLIENT), true);
  assert.equal(await survivor.streams.tryOpen(CLIENT), false);
  const probe = new Redis(REDIS_URL);
  t.after(() => {
    probe.disconnect();
  });
  const fields = await probe.hgetall(key);
  assert.equal(Object.keys(fields).length, 1, "the dead process's field was removed");
  const expiry = () => Number((Object.values(fields)[0] ?? '').split(' ')[1]);
  const first = expiry();
  // The survivor renews its lease every third of it, so its 4 outlive many leases.
  await waitFor(
    async () => {
      Object.assign(fields, await probe.hgetall(key));
      return expiry() > first + 2 * leaseMs;
    },
    { message: 'the survivor to renew its lease twice over' },
  );
  const newcomer = await openProcess(t, REDIS_URL, prefix, { limit: 4, leaseMs });
  assert.equal(await newcomer.streams.tryOpen(CLIENT), false);
  assert.deepEqual(survivor.events, []);
  // The key expires with the newest lease: a cluster that is gone leaves nothing behind.
  assert.ok((await probe.pttl(key)) <= leaseMs);
});

test('the publish rate is one bucket for every process; the mirror never refuses what the bucket allows', async (t) => {
  const prefix = uniquePrefix('limits');
  cleanUp(t, prefix);
  const a = await openProcess(t, REDIS_URL, prefix, { limit: 1 });
  const b = await openProcess(t, REDIS_URL, prefix, { limit: 1 });
  // A rate so low that nothing refills during the test.
  const limit = { perSecond: 0.001, burst: 10 };
  const onA = new SharedRateLimiter(a.shared, limit);
  const onB = new SharedRateLimiter(b.shared, limit);

  assert.deepEqual(await onA.take('sub:publisher', 4), { allowed: true });
  assert.deepEqual(await onB.take('sub:publisher', 4), { allowed: true });
  // B's mirror knows only what the store said after its own take: 2 left.
  assert.equal(onB.check('sub:publisher', 2).allowed, true);
  assert.equal(onB.check('sub:publisher', 3).allowed, false);
  // A's mirror still says 6, an upper bound: its check lets 3 through, the store refuses it.
  assert.equal(onA.check('sub:publisher', 3).allowed, true);
  const refused = await onA.take('sub:publisher', 3);
  assert.ok(!refused.allowed && refused.retryAfterMs > 0);
  // Nothing was spent by the refusal: 2 still fit, then none.
  assert.deepEqual(await onA.take('sub:publisher', 2), { allowed: true });
  assert.equal((await onB.take('sub:publisher', 1)).allowed, false);
  // Another publisher has its own bucket.
  assert.deepEqual(await onB.take('sub:other', 10), { allowed: true });
  assert.equal(a.shared.fallbacks + b.shared.fallbacks, 0);
});

test('with Redis down, each process counts alone (up to the limit each), says so once, and writes its counts back when Redis returns', async (t) => {
  const redis = await PrivateRedis.start(t);
  const prefix = uniquePrefix('limits');
  const a = await openProcess(t, redis.url, prefix, { limit: 3, leaseMs: 600 });
  const limit = { perSecond: 0.001, burst: 5 };
  const rate = new SharedRateLimiter(a.shared, limit);
  assert.equal(await a.streams.tryOpen(CLIENT), true);
  assert.deepEqual(await rate.take('sub:p', 2), { allowed: true });

  await redis.stop('SIGKILL');
  // The first call finds Redis gone: this process decides alone from then on, at once.
  assert.equal(await a.streams.tryOpen(CLIENT), true);
  assert.equal(a.shared.degraded, true);
  assert.equal(await a.streams.tryOpen(CLIENT), true);
  // This process's own count still holds the limit: 3 here, the 4th is refused.
  assert.equal(await a.streams.tryOpen(CLIENT), false);
  // The publish rate falls back to this process's mirror of the bucket (3 left of 5).
  assert.deepEqual(await rate.take('sub:p', 3), { allowed: true });
  assert.equal((await rate.take('sub:p', 1)).allowed, false);
  assert.deepEqual(a.events, ['degraded'], 'told once');
  assert.equal(a.shared.fallbacks, 5);

  // Redis returns (empty: its data went with the kill). The renewal timer finds it, and this
  // process writes back the 3 streams it holds, so other processes count them again.
  await redis.restart();
  const probe = new Redis(redis.url);
  t.after(() => {
    probe.disconnect();
  });
  await waitFor(() => Promise.resolve(a.events.length === 2), {
    message: 'the store to be found again',
  });
  assert.deepEqual(a.events, ['degraded', 'recovered']);
  assert.equal(a.shared.degraded, false);
  await waitFor(
    async () => {
      const fields = await probe.hgetall(`${prefix}limits:streams:${CLIENT}`);
      return Object.values(fields).some((value) => value.startsWith('3 '));
    },
    { message: 'the count to be written back' },
  );
  // Shared decisions again: a second process sees the 3 and refuses.
  const b = await openProcess(t, redis.url, prefix, { limit: 3, leaseMs: 600 });
  assert.equal(await b.streams.tryOpen(CLIENT), false);
  assert.deepEqual(b.events, []);
});

test('on a Redis Cluster the limits hold across hubs too (each key alone on its slot)', async (t) => {
  const cluster = await RedisCluster.start((cleanup) => {
    t.after(cleanup);
  });
  const prefix = uniquePrefix('limits');
  const hubs = await Promise.all(
    [0, 1].map(() =>
      startTestHub(t, {
        store: { kind: 'redis', url: cluster.url, keyPrefix: prefix },
        anonymous: true,
        maxStreamsPerClient: 3,
        publishRate: 1,
        publishBurst: 4,
      }),
    ),
  );
  const [one, two] = hubs as [TestHub, TestHub];
  const topic = 'https://example.com/cluster-limits';
  const opened = [];
  for (const hub of [one, two, one]) {
    opened.push(await EventStream.open(t, hub.subscribeUrl([topic])));
  }
  assert.deepEqual(
    opened.map((stream) => stream.status),
    [200, 200, 200],
  );
  for (const hub of hubs) {
    const refused = await EventStream.open(t, hub.subscribeUrl([topic]));
    assert.equal(refused.status, 429);
    assert.match(refused.errorBody ?? '', /HERALD_ERR_TOO_MANY_STREAMS/);
  }
  // One publisher's bucket of 4 across both hubs (1 a second refills: at most one more).
  const statuses = [];
  for (let i = 0; i < 8; i++) {
    statuses.push((await (i % 2 === 0 ? one : two).publish({ topic, data: `${i}` })).status);
  }
  const admitted = statuses.filter((status) => status === 200).length;
  assert.ok(admitted >= 4 && admitted <= 5, statuses.join(' '));
  assert.ok(
    statuses.every((status) => status === 200 || status === 429),
    statuses.join(' '),
  );
  for (const hub of hubs) assert.deepEqual(hub.internalErrors, []);
});
