import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetch } from 'undici';
import { subscriptionId, topicCollectionId } from '../../src/core/subscription-events.ts';
import { EventStream } from '../support/event-stream.ts';
import type { StreamEvent } from '../support/event-stream.ts';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { startTestHub } from '../support/test-hub.ts';
import type { TestHub } from '../support/test-hub.ts';
import { waitFor } from '../support/wait.ts';

const API = '/.well-known/mercure/subscriptions';
const BOOKS = 'https://example.com/books/{id}';
/**
 * The watcher's selector: the events of BOOKS' subscriptions only. On Redis a node delivers an
 * update after the fact, so a watcher of every subscription event may or may not receive its
 * own start (stored before it joins, delivered around then); this one has none to receive.
 */
const EVENTS = `${topicCollectionId(BOOKS)}/{subscriber}`;

async function snapshot(hub: TestHub, path: string, token: string) {
  const response = await fetch(new URL(path, hub.hubUrl), {
    headers: { Authorization: `Bearer ${token}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * Both nodes' answers once they have read the same feed: each node reads the shared stream at
 * its own pace, so a node may briefly stand behind the other.
 */
async function agreed(nodes: TestHub[], path: string, token: string) {
  return waitFor(
    async () => {
      const answers = await Promise.all(nodes.map((node) => snapshot(node, path, token)));
      const ids = new Set(answers.map((answer) => answer.body['lastEventID']));
      return ids.size === 1 && answers;
    },
    { interval: 20, message: `both nodes to answer ${path} at the same lastEventID` },
  );
}

function document(event: StreamEvent): Record<string, unknown> {
  return JSON.parse(event.data) as Record<string, unknown>;
}

test('nodes on one Redis store see the same subscriptions, whichever node holds them', async (t) => {
  const keyPrefix = uniquePrefix('presence');
  const store = { kind: 'redis', url: REDIS_URL, keyPrefix } as const;
  const nodeA = await startTestHub(t, { subscriptions: true, store });
  const nodeB = await startTestHub(t, { subscriptions: true, store });
  t.after(async () => {
    await Promise.all([nodeA.herald.close(), nodeB.herald.close()]);
    await deleteKeys(keyPrefix);
  });
  const token = await nodeA.token({ subscribe: [`${API}{/topic}{/subscriber}`] });

  // The watcher is on node B; alice subscribes on node A.
  const watcher = await EventStream.open(t, nodeB.subscribeUrl([EVENTS]), {
    Authorization: `Bearer ${token}`,
  });
  const alice = await EventStream.open(t, nodeA.subscribeUrl([BOOKS]), {
    Authorization: `Bearer ${await nodeA.token({ payload: { name: 'alice' } })}`,
  });
  const [started] = (await watcher.waitForEvents(1, 10_000)).map(document);
  assert.equal(started?.['topic'], BOOKS);
  assert.equal(started['active'], true);
  assert.deepEqual(started['payload'], { name: 'alice' });
  const subscriber = String(started['subscriber']);

  const [onA, onB] = await agreed([nodeA, nodeB], API, token);
  assert.equal(onA?.status, 200);
  assert.deepEqual(onA.body, onB?.body, 'both nodes answer the same');
  const topics = (onA.body['subscriptions'] as Record<string, unknown>[]).map(
    (item) => item['topic'],
  );
  assert.deepEqual(topics.sort(), [BOOKS, EVENTS].sort());
  // A node that starts now (a rolling deploy, a scale-out) lists what was announced before it.
  const nodeC = await startTestHub(t, { subscriptions: true, store });
  t.after(() => nodeC.herald.close());
  const [, onC] = await agreed([nodeB, nodeC], API, token);
  assert.deepEqual(onC?.body, onB?.body, 'a node started later answers the same');
  await nodeC.herald.close();

  const one = subscriptionId(BOOKS, subscriber);
  for (const answer of await agreed([nodeA, nodeB], one, token)) {
    assert.equal(answer.status, 200);
    assert.equal(answer.body['subscriber'], subscriber);
  }

  alice.close();
  await watcher.until(() => watcher.events.length === 2, "alice's end", 10_000);
  assert.equal(document(watcher.events[1] as StreamEvent)['active'], false);
  // Node B delivered the end, so it knows; node A wrote it, and reads it back soon after.
  assert.equal((await snapshot(nodeB, one, token)).status, 404);
  await agreed([nodeA, nodeB], API, token);
  for (const node of [nodeA, nodeB]) assert.equal((await snapshot(node, one, token)).status, 404);

  // Node A shuts down gracefully with a subscriber: node B's watcher sees it end.
  const bob = await EventStream.open(t, nodeA.subscribeUrl([BOOKS]), {
    Authorization: `Bearer ${await nodeA.token({ payload: { name: 'bob' } })}`,
  });
  await watcher.until(() => watcher.events.length === 3, "bob's start", 10_000);
  await nodeA.herald.close();
  await bob.waitForEnd();
  await watcher.until(() => watcher.events.length === 4, "bob's end", 10_000);
  const bobEnd = document(watcher.events[3] as StreamEvent);
  assert.deepEqual([bobEnd['active'], bobEnd['payload']], [false, { name: 'bob' }]);
  const left = await snapshot(nodeB, API, token);
  assert.deepEqual(
    (left.body['subscriptions'] as Record<string, unknown>[]).map((item) => item['topic']),
    [EVENTS],
  );
  assert.deepEqual(nodeA.internalErrors, []);
  assert.deepEqual(nodeB.internalErrors, []);
});
