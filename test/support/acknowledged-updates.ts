import assert from 'node:assert/strict';

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
