/**
 * Herald on a Redis Cluster, end to end: three masters and three replicas (real processes), two
 * hub nodes given the cluster's URL, publishers under load on both and a subscriber on each.
 * The master holding the hub's slot is SIGKILLed; the cluster promotes its replica and both
 * nodes go on publishing and delivering without a restart. With `--redis-min-replicas 1`
 * every acknowledged update is delivered in one order on both nodes and kept for resuming;
 * without it, the test reports how many acknowledged updates the node loss lost.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { hubKeyPrefix } from '../../src/backends/redis-keys.ts';
import { assertNoneLost, readBack } from '../support/acknowledged-updates.ts';
import { EventStream } from '../support/event-stream.ts';
import { RedisCluster } from '../support/redis-cluster.ts';
import { uniquePrefix } from '../support/redis.ts';
import { startTestHub } from '../support/test-hub.ts';
import type { TestHub } from '../support/test-hub.ts';
import { waitFor } from '../support/wait.ts';

const TOPIC = 'https://example.com/cluster-node-loss';
const PUBLISHERS = 4;

type Phase = 'before' | 'loss' | 'after';

interface Outcome {
  readonly publisher: number;
  readonly node: number;
  readonly phase: Phase;
  readonly status: number;
  readonly body: string;
  readonly at: number;
}

interface NodeLossRun {
  readonly acknowledged: readonly Outcome[];
  readonly refused: readonly Outcome[];
  /** Ids each hub node's live stream delivered, in order. */
  readonly delivered: readonly (readonly string[])[];
  /** Ids history holds afterwards, from the earliest, in order. */
  readonly kept: readonly string[];
  /** Milliseconds from the SIGKILL to the first publish acknowledged after it. */
  readonly outageMs: number;
  readonly slot: number;
}

async function nodeLossUnderLoad(t: TestContext, minReplicas: number): Promise<NodeLossRun> {
  const cluster = await RedisCluster.start((cleanup) => {
    t.after(cleanup);
  });
  const prefix = uniquePrefix('cluster');
  const nodes = await Promise.all(
    [0, 1].map(() =>
      startTestHub(t, {
        store: { kind: 'redis', url: cluster.url, keyPrefix: prefix, minReplicas },
        heartbeatMs: 200,
        publishRate: null,
      }),
    ),
  );
  const [hub, other] = nodes as [TestHub, TestHub];
  const authorization = { Authorization: `Bearer ${await hub.token({ subscribe: ['*'] })}` };
  const streams = await Promise.all(
    nodes.map((node) => EventStream.open(t, node.subscribeUrl([TOPIC]), authorization)),
  );
  for (const stream of streams) assert.equal(stream.status, 200);

  let phase: Phase = 'before';
  let stopping = false;
  const outcomes: Outcome[] = [];
  const publishers = Array.from({ length: PUBLISHERS }, async (_, publisher) => {
    for (let n = 0; !stopping; n++) {
      const sentIn = phase;
      const node = (publisher + n) % nodes.length;
      const { status, body } = await (nodes[node] ?? hub).publish({
        topic: TOPIC,
        data: `p${publisher}-${n}`,
      });
      outcomes.push({ publisher, node, phase: sentIn, status, body, at: Date.now() });
      // Refusals come back at once: do not spin on them.
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
  const acked = (p: Phase) => outcomes.filter((o) => o.phase === p && o.status === 200);

  await waitFor(() => acked('before').length >= 200, {
    message: 'publishes acknowledged before the node loss',
  });
  // Every key of the hub shares the slot of its hash tag: the stream's slot is the hub's.
  const slot = await cluster.slotOf(`${hubKeyPrefix(prefix, true)}stream`);
  const lost = await cluster.masterOf(slot);
  assert.ok(lost !== undefined, `some master holds slot ${slot}`);
  phase = 'loss';
  const killedAt = Date.now();
  await lost.stop('SIGKILL');
  await cluster.failedOver(lost, slot);
  if (minReplicas > 0) {
    // The promoted master has no replica left: nothing can be acknowledged until one joins.
    // The old master, started again, rejoins as its replica.
    await cluster.restart(lost);
    await cluster.healthy();
  }
  phase = 'after';
  await waitFor(
    () =>
      [0, 1].every((n) => acked('after').some((o) => o.node === n)) && acked('after').length >= 100,
    { message: 'publishing to resume on both hub nodes after the node loss' },
  );
  stopping = true;
  await Promise.all(publishers);

  const acknowledged = outcomes.filter((o) => o.status === 200);
  const refused = outcomes.filter((o) => o.status !== 200);
  for (const outcome of refused) {
    assert.equal(outcome.status, 503, outcome.body);
    assert.equal(
      (JSON.parse(outcome.body) as { code: string }).code,
      'HERALD_ERR_BACKEND_UNAVAILABLE',
    );
  }

  const { delivered, kept } = await readBack(t, {
    hub,
    other,
    streams,
    authorization,
    topic: TOPIC,
    outage: 'the node loss',
  });
  return {
    acknowledged,
    refused,
    delivered,
    kept,
    outageMs:
      Math.min(...acknowledged.filter((o) => o.phase !== 'before').map((o) => o.at)) - killedAt,
    slot,
  };
}

test('cluster node loss with --redis-min-replicas 1: publishing resumes; every 200 is delivered in one order on both nodes and kept', async (t) => {
  const run = await nodeLossUnderLoad(t, 1);
  assertNoneLost(run);
  assert.ok(run.refused.length > 0, 'publishes were refused while the slot had no master');
  const report = `cluster, min-replicas 1: ${run.acknowledged.length} acknowledged, 0 lost; ${run.refused.length} refused (503); ${run.outageMs} ms from SIGKILL of slot ${run.slot}'s master to the next 200 (old master restarted as a replica)`;
  console.log(report);
  t.diagnostic(report);
});

test('cluster node loss without --redis-min-replicas: publishing resumes; the acknowledged updates lost are counted', async (t) => {
  const run = await nodeLossUnderLoad(t, 0);
  const kept = new Set(run.kept);
  const lost = run.acknowledged.filter((o) => !kept.has(o.body));
  assert.deepEqual(
    lost.filter((o) => o.phase === 'after'),
    [],
    'nothing acknowledged by the promoted master is lost',
  );
  const after = run.acknowledged.filter((o) => o.phase === 'after').map((o) => o.body);
  for (const delivered of run.delivered) {
    const at = new Set(delivered);
    assert.deepEqual(
      after.filter((id) => !at.has(id)),
      [],
      'every update acknowledged after the promotion is delivered',
    );
  }
  const report = `cluster, min-replicas 0: ${run.acknowledged.length} acknowledged, ${lost.length} lost by the node loss (not in history afterwards); ${run.refused.length} refused (503); ${run.outageMs} ms from SIGKILL of slot ${run.slot}'s master to the next 200`;
  console.log(report);
  t.diagnostic(report);
});
