import assert from 'node:assert/strict';
import { test } from 'node:test';
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

test('a client cut off from node A resumes on node B with Last-Event-ID: no gap, no duplicate', async (t) => {
  const cluster = await startCluster(t, 3);
  const [a, b, c] = cluster.nodes;
  assert.ok(a !== undefined && b !== undefined && c !== undefined);
  const token = cluster.subscriberToken;

  // The clients reach the cluster through a balancer that sends them to A for now.
  const balancer = await startLoadBalancer(t, a.port);
  const viaBalancer = `http://127.0.0.1:${balancer.port}/.well-known/mercure`;
  const url = cluster.subscribeUrl(viaBalancer, [ALL_ROOMS]);
  const manual = await streamCollector(t, 'stream', url, token);
  const source = eventSourceCollector(t, 'eventsource', url, token);
  const sdk = sdkCollector(t, 'sdk', viaBalancer, [ALL_ROOMS], token);
  await Promise.all([source.opened, sdk.opened]);
  // A subscriber on C that nobody cuts: the reference for what a client should see.
  const reference = await streamCollector(
    t,
    'reference@C',
    cluster.subscribeUrl(c.hubUrl, [ALL_ROOMS]),
    token,
  );

  const loops = cluster.nodes.map(
    (node) => new PublisherLoop(cluster, node.name, () => node, { pauseMs: 20 }),
  );
  await runUntilAcked(loops, 15);

  // The network drops every client connection to A while publishes go on; new ones go to B.
  balancer.target = b.port;
  assert.equal(balancer.cutAll(), 3, 'three client connections cut');
  await manual.stream.waitForEnd();
  const lastSeen = manual.events.at(-1)?.id;
  assert.ok(lastSeen !== undefined, 'the cut client had received events');
  // The test's own client resumes by hand on B, as any SSE client would.
  const resumed = await streamCollector(t, 'stream (resumed)', url, token, lastSeen);
  assert.equal(resumed.stream.headers.get('last-event-id'), lastSeen, 'B knows the id A gave');

  // eventsource waits its default 3 s before reconnecting; publishes go on meanwhile.
  await waitFor(() => source.opens() === 2 && sdk.resumes.length === 1, {
    message: 'the eventsource and SDK clients to reconnect',
  });
  await runUntilAcked(loops, Math.max(...loops.map((loop) => loop.acked.length)) + 10);
  await Promise.all(loops.map((loop) => loop.stop()));
  for (const loop of loops)
    assert.deepEqual(loop.failed, [], `${loop.name}: every publish is acknowledged`);
  const end = await cluster.publish(c, room(2), 'end');
  assert.equal(end.status, 200);
  const endId = end.body;

  const history = await cluster.readHistory(b, endId);
  const acked = loops.flatMap((loop) => loop.acked.map((update) => update.id));
  assert.deepEqual([...history.map((e) => e.id)].sort(), [...acked, endId].sort());

  await reference.waitForId(endId);
  assert.deepEqual(upTo(reference.events, endId), history, 'the reference saw the history');

  // The hand-resumed client: what it got from A, then from B, is exactly the history.
  await resumed.waitForId(endId);
  const joined = [...manual.events, ...upTo(resumed.events, endId)];
  assert.deepEqual(duplicates(joined.map((e) => e.id)), [], 'no duplicate across the resume');
  assert.deepEqual(joined, history, 'no gap across the resume');

  // The eventsource package and Herald's SDK reconnected by themselves, through the balancer.
  for (const client of [source, sdk]) {
    await client.waitForId(endId, 30_000);
    assert.deepEqual(upTo(client.events, endId), history, client.name);
  }
  assert.equal(source.opens(), 2, 'eventsource reconnected once');
  assert.equal(sdk.resumes.length, 1, 'the SDK reconnected once');
  assert.ok(
    sdk.resumes[0] !== undefined && sdk.resumes[0] !== 'earliest',
    `B resumed the SDK after the id A gave (said ${sdk.resumes[0]})`,
  );
  // Three connections went to A, three to B: the resumes really went to another node.
  assert.deepEqual(
    [...balancer.routed].sort(),
    [a.port, a.port, a.port, b.port, b.port, b.port].sort(),
  );

  for (const node of cluster.nodes)
    assert.deepEqual(node.errorLogs(), [], `${node.name} logged no error`);
});
