/**
 * What a Redis outage does to running hubs, end to end: two hub nodes on one redis-server of the
 * test's own, real HTTP publishers under load on both, a real subscriber on each; Redis is
 * killed (or frozen) and brought back. Every publish answered 200 must be delivered by both
 * nodes and kept; every other one is a 503; readiness follows Redis; the subscribers' streams
 * survive and go on without a gap or a repeat, in the same order on both nodes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { fetch } from 'undici';
import { EventStream } from '../support/event-stream.ts';
import { PrivateRedis } from '../support/private-redis.ts';
import { uniquePrefix } from '../support/redis.ts';
import { startTestHub } from '../support/test-hub.ts';
import type { TestHub } from '../support/test-hub.ts';
import { startPublishLoad } from '../support/publish-load.ts';
import { waitFor } from '../support/wait.ts';

const TOPIC = 'https://example.com/outage';
const PUBLISHERS = 6;

type Phase = 'before' | 'down' | 'after';

async function readiness(hubUrl: string): Promise<{ status: number; body: string }> {
  const response = await fetch(new URL('/readyz', hubUrl));
  return { status: response.status, body: await response.text() };
}

async function outage(
  t: TestContext,
  redis: PrivateRedis,
  interrupt: () => Promise<void>,
  resume: () => Promise<void>,
): Promise<void> {
  const prefix = uniquePrefix('outage');
  const nodes = await Promise.all(
    [0, 1].map(() =>
      startTestHub(t, {
        store: { kind: 'redis', url: redis.url, keyPrefix: prefix },
        heartbeatMs: 200,
      }),
    ),
  );
  const [hub, other] = nodes as [TestHub, TestHub];
  const authorization = { Authorization: `Bearer ${await hub.token({ subscribe: ['*'] })}` };
  const live = await EventStream.open(t, hub.subscribeUrl([TOPIC]), authorization);
  const liveOnOther = await EventStream.open(t, other.subscribeUrl([TOPIC]), authorization);
  assert.equal(live.status, 200);
  assert.equal(liveOnOther.status, 200);

  const load = startPublishLoad<Phase>(nodes, {
    publishers: PUBLISHERS,
    topic: TOPIC,
    phase: 'before',
  });
  const { outcomes } = load;

  await waitFor(() => load.acked('before') >= 100, { message: 'publishes acknowledged before' });
  load.phase = 'down';
  await interrupt();
  const heartbeatsAtOutage = [live.comments, liveOnOther.comments];
  for (const node of nodes) {
    const notReady = await waitFor(
      async () => {
        const ready = await readiness(node.hubUrl);
        return ready.status === 503 ? ready : undefined;
      },
      { message: '/readyz to answer 503' },
    );
    assert.equal(
      (JSON.parse(notReady.body) as { code: string }).code,
      'HERALD_ERR_BACKEND_UNAVAILABLE',
    );
  }
  // While Redis is away: publishes are refused, and heartbeats go on on streams left open.
  await waitFor(() => outcomes.some((o) => o.phase === 'down' && o.status !== 200), {
    message: 'a publish refused while Redis is away',
  });
  for (const [i, stream] of [live, liveOnOther].entries()) {
    await stream.until(
      () => stream.comments >= (heartbeatsAtOutage[i] ?? 0) + 3,
      'three heartbeats while Redis is away',
    );
    assert.equal(stream.ended, false, 'the stream stays open while Redis is away');
  }
  await resume();
  for (const node of nodes) {
    await waitFor(async () => (await readiness(node.hubUrl)).status === 200, {
      message: '/readyz to answer 200',
    });
  }
  load.phase = 'after';
  await waitFor(() => load.acked('after') >= 100, { message: 'publishes acknowledged after' });
  await load.stop();

  // Every refusal is a 503 naming the backend.
  const acknowledged = outcomes.filter((o) => o.status === 200);
  const refused = outcomes.filter((o) => o.status !== 200);
  for (const outcome of refused) {
    assert.equal(outcome.status, 503, `${outcome.data}: ${outcome.body}`);
    assert.equal(
      (JSON.parse(outcome.body) as { code: string }).code,
      'HERALD_ERR_BACKEND_UNAVAILABLE',
    );
  }
  for (const expected of ['before', 'after'] as const) {
    assert.ok(
      acknowledged.some((o) => o.phase === expected),
      `publishes acknowledged ${expected}`,
    );
  }
  assert.ok(refused.length > 0, 'publishes were refused while Redis was away');

  // A marker published last: once it has arrived, everything stored before it has too.
  const marker = await hub.publish({ topic: TOPIC, data: 'marker' });
  assert.equal(marker.status, 200);
  for (const stream of [live, liveOnOther]) {
    await stream.until(() => stream.events.some((e) => e.id === marker.body), 'the marker', 20_000);
    assert.equal(stream.ended, false, 'the same stream delivered everything, without reconnecting');
  }

  const delivered = live.events.map((e) => e.id ?? '');
  assert.deepEqual(
    liveOnOther.events.map((e) => e.id ?? ''),
    delivered,
    'both nodes delivered the same updates in the same order',
  );
  assert.equal(new Set(delivered).size, delivered.length, 'no update delivered twice');
  const position = new Map(delivered.map((id, i) => [id, i]));
  const missing = acknowledged.filter((o) => !position.has(o.body));
  assert.deepEqual(missing, [], 'every acknowledged publish is delivered');
  // Each publisher published one at a time: its acknowledged updates arrive in that order.
  for (let publisher = 0; publisher < PUBLISHERS; publisher++) {
    const at = acknowledged
      .filter((o) => o.publisher === publisher)
      .map((o) => position.get(o.body) ?? -1);
    assert.deepEqual(
      at,
      [...at].sort((a, b) => a - b),
      `publisher ${publisher}'s order`,
    );
  }
  const byData = new Map(live.events.map((e) => [e.data, e.id]));
  for (const o of acknowledged) assert.equal(byData.get(o.data), o.body, 'ids match the data');

  // History holds exactly what was delivered, in the same order.
  const replay = await EventStream.open(
    t,
    hub.subscribeUrl([TOPIC], { lastEventID: 'earliest' }),
    authorization,
  );
  await replay.until(
    () => replay.events.some((e) => e.id === marker.body),
    'the replayed marker',
    20_000,
  );
  assert.deepEqual(
    replay.events.map((e) => e.id),
    delivered,
  );
  const storedAnyway = refused.filter((o) => byData.has(o.data)).length;
  t.diagnostic(
    `${acknowledged.length} acknowledged, ${refused.length} refused (${storedAnyway} of them stored all the same: the reply was lost), ${delivered.length} delivered`,
  );
  assert.equal(delivered.length, acknowledged.length + storedAnyway + 1);
  for (const node of nodes) {
    assert.deepEqual(node.internalErrors, [], 'an outage is no internal error');
  }
}

test('Redis killed under load and restarted: every 200 is delivered by both nodes and kept, the rest are 503', async (t) => {
  const redis = await PrivateRedis.start(t);
  await outage(
    t,
    redis,
    () => redis.stop('SIGKILL'),
    () => redis.restart(),
  );
});

test('Redis frozen under load and thawed: every 200 is delivered by both nodes and kept, the rest are 503', async (t) => {
  const redis = await PrivateRedis.start(t);
  await outage(
    t,
    redis,
    () => {
      redis.signal('SIGSTOP');
      return Promise.resolve();
    },
    () => {
      redis.signal('SIGCONT');
      return Promise.resolve();
    },
  );
});
