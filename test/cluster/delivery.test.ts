import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Collector } from '../support/cluster.ts';
import {
  ALL_ROOMS,
  duplicates,
  eventSourceCollector,
  PublisherLoop,
  room,
  runUntilAcked,
  sdkCollector,
  startCluster,
  streamCollector,
  upTo,
} from '../support/cluster.ts';

const PER_PUBLISHER = 40;

test('three nodes: concurrent publishes on every node reach every subscriber in one order', async (t) => {
  const cluster = await startCluster(t, 3);
  const token = cluster.subscriberToken;

  // On every node, three independent client implementations subscribe to every room, and one
  // to room 1 only.
  const everything: Collector[] = [];
  const roomOne: Collector[] = [];
  const waiting: Promise<void>[] = [];
  for (const node of cluster.nodes) {
    const url = cluster.subscribeUrl(node.hubUrl, [ALL_ROOMS]);
    everything.push(await streamCollector(t, `stream@${node.name}`, url, token));
    const source = eventSourceCollector(t, `eventsource@${node.name}`, url, token);
    const sdk = sdkCollector(t, `sdk@${node.name}`, node.hubUrl, [ALL_ROOMS], token);
    everything.push(source, sdk);
    waiting.push(source.opened, sdk.opened);
    roomOne.push(
      await streamCollector(
        t,
        `room1@${node.name}`,
        cluster.subscribeUrl(node.hubUrl, [room(1)]),
        token,
      ),
    );
  }
  await Promise.all(waiting);

  // Two publishers per node at once, each one publish after the other; some ids chosen by the
  // publisher, the others assigned by the store.
  const loops = cluster.nodes.flatMap((node) =>
    [1, 2].map(
      (k) => new PublisherLoop(cluster, `${node.name}${k}`, () => node, { customIdEvery: 7 }),
    ),
  );
  await runUntilAcked(loops, PER_PUBLISHER);
  await Promise.all(loops.map((loop) => loop.stop()));
  for (const loop of loops)
    assert.deepEqual(loop.failed, [], `${loop.name}: every publish is acknowledged`);

  // A last publish marks the end: the stream has one order, so everything before it is in.
  const a = cluster.nodes[0];
  const c = cluster.nodes.at(-1);
  assert.ok(a !== undefined && c !== undefined);
  const end = await cluster.publish(a, room(1), 'end');
  assert.equal(end.status, 200);
  const endId = end.body;

  const history = await cluster.readHistory(c, endId);
  const historyIds = history.map((event) => event.id);
  const acked = loops.flatMap((loop) => loop.acked);
  assert.deepEqual(duplicates(historyIds), [], 'no id twice in history');
  assert.deepEqual(
    [...historyIds].sort(),
    [...acked.map((update) => update.id), endId].sort(),
    'history holds every acknowledged publish, and nothing else',
  );
  // Publisher-chosen ids are kept as given; the others are the store's.
  for (const update of acked) {
    if (update.seq % 7 === 0)
      assert.equal(update.id, `urn:herald-test:${update.publisher}:${update.seq}`);
  }
  // Causality: a publisher's next publish starts after the previous was acknowledged, so its
  // updates are in history in its own order.
  const position = new Map(historyIds.map((id, index) => [id, index]));
  for (const loop of loops) {
    const positions = loop.acked.map((update) => position.get(update.id) ?? -1);
    assert.deepEqual(
      positions,
      [...positions].sort((x, y) => x - y),
      `${loop.name} in order`,
    );
  }
  const dataOf = new Map(acked.map((update) => [update.id, update.data]));
  for (const event of history.slice(0, -1)) assert.equal(event.data, dataOf.get(event.id));

  // Every subscriber on every node saw exactly the history: same ids, same order, same data.
  for (const subscriber of everything) {
    await subscriber.waitForId(endId);
    assert.deepEqual(upTo(subscriber.events, endId), history, subscriber.name);
  }
  const roomOneIds = new Set(acked.filter((u) => u.topic === room(1)).map((u) => u.id));
  roomOneIds.add(endId);
  const roomOneHistory = history.filter((event) => roomOneIds.has(event.id));
  for (const subscriber of roomOne) {
    await subscriber.waitForId(endId);
    assert.deepEqual(upTo(subscriber.events, endId), roomOneHistory, subscriber.name);
  }

  for (const node of cluster.nodes)
    assert.deepEqual(node.errorLogs(), [], `${node.name} logged no error`);
  assert.ok((await cluster.redisKeys()) > 0, 'the cluster keeps its history in Redis');
});
