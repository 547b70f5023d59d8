import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetch } from 'undici';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub } from '../support/test-hub.ts';

const TOPIC = 'https://example.com/presence';
const EVENTS = '/.well-known/mercure/subscriptions{/topic}{/subscriber}';

test('subscription events are rate limited per client address: 429, Retry-After, nothing stored', async (t) => {
  const hub = await startTestHub(t, {
    anonymous: true,
    subscriptions: true,
    presenceRate: 1,
    presenceBurst: 10,
  });
  const token = await hub.token({ subscribe: [EVENTS] });
  // The watcher costs 2 events (its one selector, start and end): 8 left.
  const watcher = await EventStream.open(t, hub.subscribeUrl([EVENTS]), {
    Authorization: `Bearer ${token}`,
  });
  const topics = ['a', 'b', 'c', 'd'].map((name) => `${TOPIC}/${name}`);
  // Four selectors: 8 events, the rest of the burst.
  const first = await EventStream.open(t, hub.subscribeUrl(topics));
  assert.equal(first.status, 200);
  await watcher.waitForEvents(4); // one per selector of `first`
  const refused = await fetch(hub.subscribeUrl([TOPIC]));
  assert.equal(refused.status, 429);
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  const problem = (await refused.json()) as { code: string; detail: string };
  assert.equal(problem.code, 'HERALD_ERR_PRESENCE_RATE_LIMITED');
  assert.match(problem.detail, /--presence-rate/);
  // Publishing is not affected, and the refused subscription announced nothing: the next
  // events the watcher sees are `first` leaving.
  assert.equal((await hub.publish({ topic: TOPIC, data: 'published' })).status, 200);
  first.close();
  const events = await watcher.waitForEvents(8);
  const announced = events.map(
    (event) => JSON.parse(event.data) as { topic: string; active: boolean },
  );
  assert.deepEqual(
    announced.map((document) => [document.topic, document.active]),
    [...topics.map((topic) => [topic, true]), ...topics.map((topic) => [topic, false])],
  );
  assert.ok(!announced.some((document) => document.topic === TOPIC));
  assert.deepEqual(hub.internalErrors, []);
});

test('without --subscriptions nothing is stored per subscription, so nothing is charged', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, presenceRate: 1, presenceBurst: 1 });
  for (let i = 0; i < 5; i++) {
    const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC, `${TOPIC}/${i}`]));
    assert.equal(stream.status, 200);
    stream.close();
  }
});
