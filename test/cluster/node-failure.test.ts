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
import { startLoadBalancer } from '../support/load-balancer.ts';
import { waitFor } from '../support/wait.ts';

test('a node killed with SIGKILL mid-traffic: nothing acknowledged is lost, its clients resume elsewhere', async (t) => {
  const cluster = await startCluster(t, 3);
  const [a, b, c] = cluster.nodes;
  assert.ok(a !== undefined && b !== undefined && c !== undefined);
  const token = cluster.subscriberToken;

  const survivors: Collector[] = [];
  for (const node of [a, b]) {
    const url = cluster.subscribeUrl(node.hubUrl, [ALL_ROOMS]);
    survivors.push(await streamCollector(t, `stream@${node.name}`, url, token));
  }
  // C's clients: one straight to C, two through a balancer that sends them to C.
  const onC = await streamCollector(
    t,
    'stream@C',
    cluster.subscribeUrl(c.hubUrl, [ALL_ROOMS]),
    token,
  );
  const balancer = await startLoadBalancer(t, c.port);
  const viaBalancer = `http://127.0.0.1:${balancer.port}/.well-known/mercure`;
  const source = eventSourceCollector(
    t,
    'eventsource',
    cluster.subscribeUrl(viaBalancer, [ALL_ROOMS]),
    token,
  );
  const sdk = sdkCollector(t, 'sdk', viaBalancer, [ALL_ROOMS], token);
  await Promise.all([source.opened, sdk.opened]);

  // Two publishers per node; C's move to A once C is gone, as a publisher with a list would.
  const loops = cluster.nodes.flatMap((node) =>
    [1, 2].map(
      (k) =>
        new PublisherLoop(cluster, `${node.name}${k}`, () => (node.alive ? node : a), {
          pauseMs: 10,
        }),
    ),
  );
  await runUntilAcked(loops, 20);

  // C dies without a word; the balancer has taken it out of rotation.
  balancer.target = a.port;
  await c.kill();
  assert.equal(c.cli.child.signalCode, 'SIGKILL');

  await onC.stream.waitForEnd();
  const lastSeen = onC.events.at(-1)?.id;
  assert.ok(lastSeen !== undefined, "C's client had received events");
  const resumed = await streamCollector(
    t,
    'stream@C resumed on B',
    cluster.subscribeUrl(b.hubUrl, [ALL_ROOMS]),
    token,
    lastSeen,
  );
  assert.equal(resumed.stream.headers.get('last-event-id'), lastSeen, 'B knows the id C gave');
  await waitFor(() => source.opens() === 2 && sdk.resumes.length === 1, {
    message: 'the eventsource and SDK clients to reconnect',
  });
  await runUntilAcked(loops, Math.max(...loops.map((loop) => loop.acked.length)) + 10);
  await Promise.all(loops.map((loop) => loop.stop()));

  const end = await cluster.publish(b, room(1), 'end');
  assert.equal(end.status, 200);
  const endId = end.body;
  const history = await cluster.readHistory(a, endId);
  const historyIds = history.map((event) => event.id);
  assert.deepEqual(duplicates(historyIds), [], 'no id twice in history');

  // Every acknowledged publish is in history, those acknowledged by C before it died too.
  const inHistory = new Set(historyIds);
  const acked = loops.flatMap((loop) => loop.acked);
  assert.deepEqual(
    acked.filter((update) => !inHistory.has(update.id)),
    [],
    'no acknowledged publish is missing',
  );
  assert.ok(acked.some((update) => update.publisher.startsWith('C') && update.seq < 20));
  // Only publishes in flight to C when it died went unanswered; one of them may still have
  // been stored (C died after Redis took it): then it is in history once, like any other.
  for (const loop of loops) {
    if (!loop.name.startsWith('C')) assert.deepEqual(loop.failed, [], `${loop.name} lost nothing`);
    for (const failure of loop.failed) assert.equal(failure.status, 0, failure.body);
  }
  const ackedIds = new Set(acked.map((update) => update.id));
  const unacknowledged = history.filter((e) => !ackedIds.has(e.id) && e.id !== endId);
  const inFlight = new Set(
    loops.flatMap((loop) =>
      loop.failed.map((f) => JSON.stringify({ publisher: loop.name, seq: f.seq, node: 'C' })),
    ),
  );
  for (const event of unacknowledged)
    assert.ok(inFlight.has(event.data), `unexpected ${event.data}`);

  // The survivors' subscribers saw exactly the history.
  for (const subscriber of survivors) {
    await subscriber.waitForId(endId);
    assert.deepEqual(upTo(subscriber.events, endId), history, subscriber.name);
  }
  // C's clients: what C sent, then what B or A replayed and sent, is exactly the history.
  await resumed.waitForId(endId);
  const joined = [...onC.events, ...upTo(resumed.events, endId)];
  assert.deepEqual(joined, history, "C's hand-resumed client: no gap, no duplicate");
  for (const client of [source, sdk]) {
    await client.waitForId(endId, 30_000);
    assert.deepEqual(upTo(client.events, endId), history, client.name);
  }
  assert.ok(
    sdk.resumes[0] !== undefined && sdk.resumes[0] !== 'earliest',
    'A resumed the SDK after its id',
  );

  for (const node of [a, b]) assert.deepEqual(node.errorLogs(), [], `${node.name} logged no error`);
});
