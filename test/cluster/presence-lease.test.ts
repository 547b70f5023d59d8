import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { fetch } from 'undici';
import { SUBSCRIPTIONS_PATH } from '../../src/core/subscription-events.ts';
import type { ClusterNode } from '../support/cluster.ts';
import { room, startCluster } from '../support/cluster.ts';
import { EventStream } from '../support/event-stream.ts';
import type { StreamEvent } from '../support/event-stream.ts';
import { REDIS_URL } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

const LEASE = '3s';
const SUBSCRIBERS = 100;
// A draft-07 template matching every subscription event (each in its own dialect's form).
const EVENTS = `${SUBSCRIPTIONS_PATH}/{topic}/{subscriber}`;
const MARKER = 'https://example.com/marker';

interface Document {
  readonly subscriber: string;
  readonly topic: string;
  readonly active: boolean;
}

function documentOf(event: StreamEvent): Document | undefined {
  if (event.data === 'marker') return undefined;
  return JSON.parse(event.data) as Document;
}

/** The subscribers a node's subscription API lists, by their topic. */
async function listed(node: ClusterNode, token: string): Promise<Document[]> {
  const response = await fetch(new URL(SUBSCRIPTIONS_PATH, node.hubUrl), {
    headers: { Authorization: `Bearer ${token}` },
  });
  assert.equal(response.status, 200);
  const body = (await response.json()) as { subscriptions: Document[] };
  return body.subscriptions;
}

test('a node killed with SIGKILL: its 100 subscriptions end on every other node once its lease expires, announced once', async (t) => {
  const cluster = await startCluster(t, 3, {
    args: ['--subscriptions', '--presence-lease', LEASE],
  });
  const [a, b, c] = cluster.nodes;
  assert.ok(a !== undefined && b !== undefined && c !== undefined);
  const token = cluster.subscriberToken;
  const auth = { Authorization: `Bearer ${token}` };

  // A watcher of every subscription event on A, one on B (the marker proves each saw all).
  const watchers = await Promise.all(
    [a, b].map((node) =>
      EventStream.open(t, cluster.subscribeUrl(node.hubUrl, [EVENTS, MARKER]), auth),
    ),
  );
  const onC = new Set<string>();
  const streams: EventStream[] = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    streams.push(await EventStream.open(t, cluster.subscribeUrl(c.hubUrl, [room(i)]), auth));
  }
  const startsOnC = (watcher: EventStream) =>
    watcher.events
      .map(documentOf)
      .filter((document) => document?.active === true && document.topic.includes('/rooms/'));
  for (const watcher of watchers) {
    await watcher.until(
      () => startsOnC(watcher).length === SUBSCRIBERS,
      `the starts of C's ${SUBSCRIBERS} subscriptions`,
      30_000,
    );
  }
  for (const document of startsOnC(watchers[0] as EventStream)) {
    if (document !== undefined) onC.add(document.subscriber);
  }
  assert.equal(onC.size, SUBSCRIBERS);
  for (const node of [a, b]) {
    const subscribers = new Set((await listed(node, token)).map((item) => item.subscriber));
    assert.ok(
      [...onC].every((id) => subscribers.has(id)),
      `${node.name} lists C's subscribers`,
    );
  }

  // C dies without a word: no shutdown, nothing announced.
  const killedAt = Date.now();
  await c.kill();
  assert.equal(c.cli.child.signalCode, 'SIGKILL');
  for (const stream of streams) await stream.waitForEnd(10_000);

  // Within the lease (plus a check), A and B stop listing them...
  const stillListed = async (node: ClusterNode) =>
    (await listed(node, token)).filter((item) => onC.has(item.subscriber)).length;
  let remaining: number[] = [];
  await waitFor(
    async () => {
      remaining = await Promise.all([a, b].map(stillListed));
      return remaining.every((count) => count === 0);
    },
    {
      timeout: 60_000,
      interval: 50,
      message: () => `A and B to unlist C's: ${remaining.join(', ')}`,
    },
  );
  const unlistedAfterMs = Date.now() - killedAt;
  // ...and every watcher received the end of each, exactly once: one surviving node settled C.
  const endsOnC = (watcher: EventStream) =>
    watcher.events
      .map(documentOf)
      .filter((document) => document?.active === false && onC.has(document.subscriber));
  for (const watcher of watchers) {
    await watcher.until(
      () => endsOnC(watcher).length >= SUBSCRIBERS,
      `the ends of C's ${SUBSCRIBERS} subscriptions`,
      30_000,
    );
  }
  const endedAfterMs = Date.now() - killedAt;
  assert.equal((await cluster.publish(a, MARKER, 'marker')).status, 200);
  for (const watcher of watchers) {
    await watcher.until(
      () => watcher.events.some((event) => event.data === 'marker'),
      'the marker',
      30_000,
    );
    const ends = endsOnC(watcher).map((document) => document?.subscriber);
    assert.equal(ends.length, SUBSCRIBERS, 'one end per subscription, from one node only');
    assert.deepEqual(new Set(ends), onC);
  }
  t.diagnostic(
    `lease ${LEASE}: unlisted on A and B ${unlistedAfterMs} ms, ends delivered ${endedAfterMs} ms after SIGKILL`,
  );

  // C's lease is gone with what it held; A's and B's stay.
  const redis = new Redis(REDIS_URL);
  try {
    assert.equal(await redis.zcard(`${cluster.prefix}leases`), 2);
    const held = await redis.keys(`${cluster.prefix}lease:*`);
    assert.ok(held.length <= 2, `only the live nodes hold subscriptions: ${held.join(', ')}`);
  } finally {
    redis.disconnect();
  }
  for (const node of [a, b]) assert.deepEqual(node.errorLogs(), []);
  for (const watcher of watchers) watcher.close();
});
