/**
 * Herald on Redis Sentinel, end to end: a master, a replica and three Sentinels (real
 * processes), two hub nodes finding the master through the Sentinels, publishers under load on
 * both and a subscriber on each. The master is SIGKILLed; the Sentinels promote the replica and
 * both nodes go on publishing and delivering, without a restart. With `--redis-min-replicas 1`
 * every acknowledged update survives, delivered in one order on both nodes and kept for
 * resuming; without it, the test reports how many acknowledged updates the failover lost.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { assertNoneLost, readBack } from '../support/acknowledged-updates.ts';
import { EventStream } from '../support/event-stream.ts';
import { uniquePrefix } from '../support/redis.ts';
import { MASTER_NAME, SentinelTopology } from '../support/sentinel-topology.ts';
import { startTestHub } from '../support/test-hub.ts';
import type { TestHub } from '../support/test-hub.ts';
import type { LoadOutcome } from '../support/publish-load.ts';
import { startPublishLoad } from '../support/publish-load.ts';
import { waitFor } from '../support/wait.ts';

const TOPIC = 'https://example.com/failover';
const PUBLISHERS = 4;

type Phase = 'before' | 'failover' | 'after';

type Outcome = LoadOutcome<Phase>;

interface FailoverRun {
  readonly acknowledged: readonly Outcome[];
  readonly refused: readonly Outcome[];
  /** Ids each node's live stream delivered, in order. */
  readonly delivered: readonly (readonly string[])[];
  /** Ids history holds after the failover, from the earliest, in order. */
  readonly kept: readonly string[];
  readonly nodes: readonly TestHub[];
  /** Milliseconds from the SIGKILL (or switchover) to the first publish acknowledged after it. */
  readonly outageMs: number;
}

/**
 * `kill`: the master is SIGKILLed and the Sentinels promote the replica. `switchover`: an
 * operator's `SENTINEL FAILOVER`: the replica is promoted and the old master, alive all along,
 * is demoted to its replica (Herald's connections to it must move on their own).
 */
type Trigger = 'kill' | 'switchover';

async function failoverUnderLoad(
  t: TestContext,
  minReplicas: number,
  trigger: Trigger = 'kill',
): Promise<FailoverRun> {
  const topology = await SentinelTopology.start(t);
  const prefix = uniquePrefix('sentinel');
  const nodes = await Promise.all(
    [0, 1].map(() =>
      startTestHub(t, {
        store: { kind: 'redis', url: topology.url, keyPrefix: prefix, minReplicas },
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

  // Each publisher alternates between the nodes.
  const load = startPublishLoad<Phase>(nodes, {
    publishers: PUBLISHERS,
    topic: TOPIC,
    phase: 'before',
    node: (publisher, n) => publisher + n,
  });
  const { outcomes, acked } = load;

  await waitFor(() => acked('before') >= 200, {
    message: 'publishes acknowledged before the failover',
  });
  const oldMaster = await topology.master();
  load.phase = 'failover';
  const triggeredAt = Date.now();
  if (trigger === 'kill') {
    await oldMaster.stop('SIGKILL');
    await topology.failedOver(oldMaster);
    if (minReplicas > 0) {
      // The new master has no replica left: nothing can be acknowledged until one joins.
      await topology.rejoin(oldMaster, 'rejoined');
    }
  } else {
    await topology.sentinels[0]?.call('SENTINEL', 'FAILOVER', MASTER_NAME);
    await topology.failedOver(oldMaster);
    await waitFor(
      async () => ((await oldMaster.call('ROLE')) as unknown[] | undefined)?.[0] === 'slave',
      { message: 'the old master to be demoted to a replica' },
    );
  }
  load.phase = 'after';
  await waitFor(
    () =>
      [0, 1].every((n) =>
        outcomes.some((o) => o.phase === 'after' && o.status === 200 && o.node === n),
      ) && acked('after') >= 100,
    { message: 'publishing to resume on both nodes after the failover' },
  );
  await load.stop();

  const acknowledged = outcomes.filter((o) => o.status === 200);
  const refused = outcomes.filter((o) => o.status !== 200);
  for (const outcome of refused) {
    assert.equal(outcome.status, 503, `${outcome.data}: ${outcome.body}`);
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
    outage: 'the failover',
  });
  return {
    acknowledged,
    refused,
    delivered,
    kept,
    nodes,
    outageMs:
      Math.min(...acknowledged.filter((o) => o.phase !== 'before').map((o) => o.at)) - triggeredAt,
  };
}

test('Sentinel failover with --redis-min-replicas 1: every 200 is delivered in one order on both nodes and kept', async (t) => {
  const run = await failoverUnderLoad(t, 1);
  assertNoneLost(run);
  const waitRefusals = run.refused.filter((o) => o.body.includes('replica(s)'));
  assert.ok(run.refused.length > 0, 'publishes were refused during the failover');
  const report = `min-replicas 1: ${run.acknowledged.length} acknowledged, 0 lost; ${run.refused.length} refused (${waitRefusals.length} for want of a replica); ${run.outageMs} ms from SIGKILL to the next 200 (old master rejoined as a replica)`;
  console.log(report);
  t.diagnostic(report);
});

test('Sentinel failover without --redis-min-replicas: publishing resumes; the acknowledged updates lost are counted', async (t) => {
  const run = await failoverUnderLoad(t, 0);
  const kept = new Set(run.kept);
  const lost = run.acknowledged.filter((o) => !kept.has(o.body));
  // Whatever was lost was acknowledged before the master died, never after the promotion.
  assert.deepEqual(
    lost.filter((o) => o.phase === 'after'),
    [],
    'nothing acknowledged by the new master is lost',
  );
  const after = new Set(run.acknowledged.filter((o) => o.phase === 'after').map((o) => o.body));
  for (const delivered of run.delivered) {
    const at = new Set(delivered);
    assert.deepEqual(
      [...after].filter((id) => !at.has(id)),
      [],
      'every update acknowledged after the failover is delivered',
    );
  }
  const report = `min-replicas 0: ${run.acknowledged.length} acknowledged, ${lost.length} lost by the failover (not in history afterwards); ${run.refused.length} refused; ${run.outageMs} ms from SIGKILL to the next 200`;
  console.log(report);
  t.diagnostic(report);
});

test('Sentinel switchover (SENTINEL FAILOVER, old master demoted alive) with --redis-min-replicas 1: every 200 is delivered and kept', async (t) => {
  const run = await failoverUnderLoad(t, 1, 'switchover');
  assertNoneLost(run);
  const report = `switchover, min-replicas 1: ${run.acknowledged.length} acknowledged, 0 lost; ${run.refused.length} refused; ${run.outageMs} ms from the switchover to the next 200`;
  console.log(report);
  t.diagnostic(report);
});

test('Sentinel switchover without --redis-min-replicas: publishing moves to the new master; the acknowledged updates lost are counted', async (t) => {
  const run = await failoverUnderLoad(t, 0, 'switchover');
  const kept = new Set(run.kept);
  const lost = run.acknowledged.filter((o) => !kept.has(o.body));
  assert.deepEqual(
    lost.filter((o) => o.phase === 'after'),
    [],
    'nothing acknowledged once the old master was demoted is lost',
  );
  const report = `switchover, min-replicas 0: ${run.acknowledged.length} acknowledged, ${lost.length} lost (acknowledged by the old master after the promotion, then discarded when it was demoted); ${run.refused.length} refused; ${run.outageMs} ms from the switchover to the next 200`;
  console.log(report);
  t.diagnostic(report);
});
