import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { EventStream } from './event-stream.ts';
import type { TestHub } from './test-hub.ts';

/** What publishers and the hub nodes' streams saw during a run, as the no-loss check reads it. */
export interface PublishRun {
  /** The publishes answered 200: who sent each and the id it was given (`body`). */
  readonly acknowledged: readonly { readonly publisher: number; readonly body: string }[];
  /** Ids each node's live stream delivered, in order. */
  readonly delivered: readonly (readonly string[])[];
  /** Ids history holds afterwards, from the earliest, in order. */
  readonly kept: readonly string[];
}

/**
 * Every acknowledged update is delivered once on every node, in one order on all of them, and
 * kept in history in that order; each publisher's (publishing one at a time) arrive in the
 * order it published them.
 */
export function assertNoneLost(run: PublishRun): void {
  const ackedIds = run.acknowledged.map((o) => o.body);
  const isAcked = new Set(ackedIds);
  const [first = [], second = []] = run.delivered;
  for (const delivered of run.delivered) {
    assert.equal(new Set(delivered).size, delivered.length, 'no update delivered twice');
    const at = new Set(delivered);
    assert.deepEqual(
      ackedIds.filter((id) => !at.has(id)),
      [],
      'every acknowledged update is delivered',
    );
  }
  assert.deepEqual(
    second.filter((id) => isAcked.has(id)),
    first.filter((id) => isAcked.has(id)),
    'both nodes delivered the acknowledged updates in the same order',
  );
  const kept = new Set(run.kept);
  assert.deepEqual(
    ackedIds.filter((id) => !kept.has(id)),
    [],
    'every acknowledged update is kept for resuming',
  );
  assert.deepEqual(
    run.kept.filter((id) => isAcked.has(id)),
    first.filter((id) => isAcked.has(id)),
    'history holds them in the order delivered',
  );
  const position = new Map(first.map((id, i) => [id, i]));
  for (const publisher of new Set(run.acknowledged.map((o) => o.publisher))) {
    const at = run.acknowledged
      .filter((o) => o.publisher === publisher)
      .map((o) => position.get(o.body) ?? -1);
    assert.deepEqual(
      at,
      [...at].sort((a, b) => a - b),
      `publisher ${publisher}'s order`,
    );
  }
}

/** Where `readBack` reads: two hub nodes on one store and a live stream on each. */
export interface ReadBackFrom {
  /** The node that replays history from the earliest. */
  readonly hub: TestHub;
  /** The node the marker is published on. */
  readonly other: TestHub;
  readonly streams: readonly EventStream[];
  readonly authorization: Record<string, string>;
  readonly topic: string;
  /** What the streams went through (`the failover`), for the failures. */
  readonly outage: string;
}

/**
 * Once the publishers stopped: publishes a marker (once it has arrived, everything stored
 * before it has too), waits for it on every stream, which must not have ended, and in a replay
 * of history from the earliest; checks that neither node logged an internal error. Returns the
 * ids each stream delivered and those history keeps, in order, for `assertNoneLost`.
 */
export async function readBack(
  t: TestContext,
  { hub, other, streams, authorization, topic, outage }: ReadBackFrom,
): Promise<Pick<PublishRun, 'delivered' | 'kept'>> {
  const marker = await other.publish({ topic, data: 'marker' });
  assert.equal(marker.status, 200, marker.body);
  for (const stream of streams) {
    await stream.until(() => stream.events.some((e) => e.id === marker.body), 'the marker', 20_000);
    assert.equal(stream.ended, false, `the same stream went on through ${outage}`);
  }
  const replay = await EventStream.open(
    t,
    hub.subscribeUrl([topic], { lastEventID: 'earliest' }),
    authorization,
  );
  await replay.until(
    () => replay.events.some((e) => e.id === marker.body),
    'the replayed marker',
    20_000,
  );
  for (const node of [hub, other]) {
    assert.deepEqual(node.internalErrors, [], `${outage} is no internal error`);
  }
  return {
    delivered: streams.map((stream) => stream.events.map((e) => e.id ?? '')),
    kept: replay.events.map((e) => e.id ?? ''),
  };
}
