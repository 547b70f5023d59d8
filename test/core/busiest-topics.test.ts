import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryBackend } from '../../src/backends/memory.ts';
import { Hub } from '../../src/core/hub.ts';
import type { FrameSink, Subscriber } from '../../src/core/subscriber.ts';
import { waitFor } from '../support/wait.ts';

const sink: FrameSink = {
  write: () => true,
  drained: () => Promise.resolve(),
  close: () => undefined,
  closed: false,
};

function activeHub(): Hub {
  return new Hub(new MemoryBackend({ historySize: 100 }), {
    maxTopicsPerUpdate: 10,
    maxUpdatesPerPublish: 1000,
    maxSelectorsPerSubscription: 10,
    maxPendingBytes: 1 << 20,
    topicActivity: true,
  });
}

async function subscribe(hub: Hub, topic: string, times: number): Promise<Subscriber[]> {
  const subscribers: Subscriber[] = [];
  for (let i = 0; i < times; i++) {
    const opened = await hub.subscribe({
      selectors: [topic],
      grants: { privateSelectors: [] },
      sink,
    });
    subscribers.push(opened.subscriber);
  }
  return subscribers;
}

test('among 100,000 subscribed topics, the most subscribed are found as counts change', async () => {
  const hub = activeHub();
  for (let i = 0; i < 100_000; i++) await subscribe(hub, `https://example.com/t/${i}`, 1);
  const hot = await subscribe(hub, 'https://example.com/hot', 50);
  await subscribe(hub, 'https://example.com/warm', 20);
  assert.equal(hub.topicCount, 100_002);

  const top = hub.busiestTopics(3);
  assert.deepEqual(
    top.slice(0, 2).map(({ topic, subscribers }) => [topic, subscribers]),
    [
      ['https://example.com/hot', 50],
      ['https://example.com/warm', 20],
    ],
  );
  // Subscribers leave: the counts are live, and the order follows.
  for (const subscriber of hot.slice(0, 45)) hub.unsubscribe(subscriber);
  assert.deepEqual(
    hub.busiestTopics(2).map(({ topic, subscribers }) => [topic, subscribers]),
    [
      ['https://example.com/warm', 20],
      ['https://example.com/hot', 5],
    ],
  );
  // The last one leaves: the topic is forgotten.
  for (const subscriber of hot.slice(45)) hub.unsubscribe(subscriber);
  assert.ok(hub.busiestTopics(100).every(({ topic }) => topic !== 'https://example.com/hot'));
  hub.close();
});

test('the topic receiving a steady share of updates leads, among thousands of one-off topics, in bounded memory', async () => {
  const hub = activeHub();
  await subscribe(hub, 'https://example.com/feed', 3);
  for (let batch = 0; batch < 10; batch++) {
    // One update in ten to the steady topic, the rest each to a topic never seen again.
    const updates = Array.from({ length: 1000 }, (_, i) => ({
      topics: [
        i % 10 === 0 ? 'https://example.com/feed' : `https://example.com/once/${batch}/${i}`,
      ],
      data: 'x',
      private: false,
    }));
    await hub.publish(updates);
    // Live dispatch runs in slices over several turns: rates are read once this batch is out.
    await waitFor(() => hub.stats.updatesDispatched === (batch + 1) * 1000, {
      message: `batch ${batch} dispatched`,
    });
    hub.topicRates?.tick(1000);
  }
  const [first] = hub.busiestTopics(5);
  assert.equal(first?.topic, 'https://example.com/feed');
  assert.equal(first.subscribers, 3);
  // 100 updates a second reached 3 subscribers each (smoothed: close to it after 10 ticks).
  assert.ok(
    first.updatesPerSecond > 95 && first.updatesPerSecond <= 100,
    `${first.updatesPerSecond}`,
  );
  assert.ok(first.deliveriesPerSecond > 285, `${first.deliveriesPerSecond}`);
  // 9,000 distinct topics were published to; the sketch kept at most its 256.
  assert.ok([...(hub.topicRates?.topics() ?? [])].length <= 256);
  hub.close();
});
