import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryBackend } from '../../src/backends/memory.ts';
import { Hub } from '../../src/core/hub.ts';
import { Presence } from '../../src/core/presence.ts';
import { PresenceService } from '../../src/core/presence-service.ts';
import {
  expandSegment,
  readSubscriptionEvent,
  subscriptionDocument,
  subscriptionEvent,
  subscriptionId,
} from '../../src/core/subscription-events.ts';
import { RecordingSink } from '../support/recording-sink.ts';

const LIMITS = {
  maxTopicsPerUpdate: 64,
  maxUpdatesPerPublish: 1000,
  maxSelectorsPerSubscription: 64,
  maxPendingBytes: 1 << 20,
};

test('every node of a cluster derives the same active subscriptions from the shared feed', async () => {
  // Two hubs on one backend: the backend hands each of them every update, as a cluster's does.
  const backend = new MemoryBackend({ historySize: 100 });
  const presenceA = new PresenceService(backend);
  const presenceB = new PresenceService(backend);
  const nodeA = new Hub(backend, { ...LIMITS, observer: presenceA });
  const nodeB = new Hub(backend, { ...LIMITS, observer: presenceB });
  const opened = await nodeA.subscribe({
    selectors: ['https://example.com/books/{id}', 'https://example.com/chat'],
    grants: { privateSelectors: [] },
    sink: new RecordingSink(),
    payload: { name: 'alice' },
  });
  const subscriber = opened.subscriberId ?? '';
  assert.match(subscriber, /^urn:uuid:/);
  for (const { subscriptions } of [presenceA, presenceB]) {
    assert.equal(subscriptions.size, 2);
    assert.deepEqual(
      subscriptions.get(
        'https://example.com/chat',
        subscriptionId('https://example.com/chat', subscriber),
      ),
      {
        id: subscriptionId('https://example.com/chat', subscriber),
        type: 'Subscription',
        subscriber,
        topic: 'https://example.com/chat',
        active: true,
        payload: { name: 'alice' },
      },
    );
    assert.equal(subscriptions.lastEventId, await backend.lastEventId());
  }

  nodeA.unsubscribe(opened.subscriber);
  await presenceA.settle();
  for (const { subscriptions } of [presenceA, presenceB]) {
    assert.equal(subscriptions.size, 0);
    assert.deepEqual(subscriptions.list(), []);
  }
  nodeA.close();
  nodeB.close();
  await backend.close();
});

test('presence ignores updates that are not well-formed subscription events', () => {
  const presence = new Presence();
  const real = subscriptionEvent(
    subscriptionDocument('https://example.com/a', 'urn:uuid:1', true, undefined),
  );
  let n = 0;
  const observe = (update: typeof real) => {
    presence.observe({ ...update, id: `id-${++n}` });
  };
  // Public, or on a topic that does not name the document, or not the draft's shape: ignored.
  observe({ ...real, private: false });
  observe({ ...real, topics: [subscriptionId('https://example.com/b', 'urn:uuid:1')] });
  observe({ ...real, data: '{"type":"Subscription"}' });
  observe({ ...real, data: 'not json' });
  assert.equal(presence.size, 0);
  assert.equal(presence.lastEventId, 'id-4', 'every update moves lastEventId');
  observe(real);
  observe(real);
  assert.equal(presence.size, 1, 'the same start seen twice is one subscription');
  observe(
    subscriptionEvent(subscriptionDocument('https://example.com/a', 'urn:uuid:1', false, null)),
  );
  assert.equal(presence.size, 0);
  // An end never started is nothing to remove.
  observe(
    subscriptionEvent(subscriptionDocument('https://example.com/c', 'urn:uuid:2', false, null)),
  );
  assert.equal(presence.size, 0);
  presence.seed('older');
  assert.equal(presence.lastEventId, 'id-8', 'a seed never moves a feed already seen');
});

test('warming up from history, with live updates arriving meanwhile, ends in the state of the feed', async () => {
  const event = (id: string, topic: string, subscriber: string, active: boolean) => ({
    ...subscriptionEvent(subscriptionDocument(topic, subscriber, active, undefined)),
    id,
  });
  const a = 'https://example.com/a';
  const presence = new Presence();
  // History: X started, Y started, X ended; the last two were stored after this node listened,
  // so the live feed delivers them too (while history is still being read), then Z and Y's end.
  async function* history() {
    yield event('1', a, 'urn:uuid:x', true);
    yield event('2', a, 'urn:uuid:y', true);
    presence.observe(event('2', a, 'urn:uuid:y', true));
    presence.observe(event('3', a, 'urn:uuid:x', false));
    await Promise.resolve();
    yield event('3', a, 'urn:uuid:x', false);
    presence.observe(event('4', a, 'urn:uuid:z', true));
    presence.observe(event('5', a, 'urn:uuid:y', false));
  }
  await presence.warmUp(history());
  assert.deepEqual(
    presence.list().map((document) => document.subscriber),
    ['urn:uuid:z'],
  );
  assert.equal(presence.lastEventId, '5');
  // Live again: observed at once.
  presence.observe(event('6', a, 'urn:uuid:z', false));
  assert.equal(presence.size, 0);
});

test('topic selectors and subscriber ids are percent-encoded as RFC 6570 expands them', () => {
  assert.equal(
    expandSegment("https://example.com/{selector}?a=b c!'()*~._-é"),
    'https%3A%2F%2Fexample.com%2F%7Bselector%7D%3Fa%3Db%20c%21%27%28%29%2A~._-%C3%A9',
  );
  // The draft's own example.
  assert.equal(
    subscriptionId(
      'https://example.com/{selector}',
      'urn:uuid:bb3de268-05b0-4c65-b44e-8f9acefc29d6',
    ),
    '/.well-known/mercure/subscriptions/https%3A%2F%2Fexample.com%2F%7Bselector%7D/urn%3Auuid%3Abb3de268-05b0-4c65-b44e-8f9acefc29d6',
  );
});

test('loading many subscriptions at start-up, and ending an earlier run’s, lets the event loop go round', async (t) => {
  const count = 20_000;
  const backend = new MemoryBackend({ historySize: count });
  const starts = Array.from({ length: count }, (_, i) =>
    subscriptionEvent(
      subscriptionDocument(`https://example.com/rooms/${i}`, `urn:uuid:${i}`, true, undefined),
    ),
  );
  for (let at = 0; at < count; at += 1000) await backend.append(starts.slice(at, at + 1000));

  // A callback that runs once per turn of the event loop, for as long as loading lasts.
  let turns = 0;
  let loading = true;
  const tick = () => {
    turns++;
    if (loading) setImmediate(tick);
  };
  const warming = new Presence();
  setImmediate(tick);
  t.after(() => {
    loading = false;
  });
  await warming.warmUp((await backend.readAfter('earliest')).updates);
  const turnsWhileWarming = turns;
  assert.equal(warming.size, count);
  assert.ok(turnsWhileWarming > 0, 'history read synchronously is still loaded in slices');

  // The memory store is this process's alone: the new run ends all of them, in pages.
  const service = new PresenceService(backend);
  const hub = new Hub(backend, { ...LIMITS, observer: service });
  const before = turns;
  assert.equal(await service.start(), count);
  loading = false;
  assert.ok(
    turns - before >= count / 500 - 1,
    `one turn at least between pages: ${turns - before}`,
  );
  assert.equal(service.subscriptions.size, 0);
  // The ends pushed the starts out of the memory store's ring of subscription events.
  let ends = 0;
  for await (const update of (await backend.readAfter('earliest')).updates) {
    if (readSubscriptionEvent(update)?.active === false) ends++;
  }
  assert.equal(ends, count);
  hub.close();
  await service.close();
  await backend.close();
});
