import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fetch } from 'undici';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub } from '../support/test-hub.ts';
import { waitFor } from '../support/wait.ts';

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
  assert.match(problem.detail, /over the hub's rate limit of subscription events/);
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

for (const kind of ['memory', 'sqlite'] as const) {
  test(`${kind}: subscription events never trim a published update (each kind has its own retention)`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-presence-'));
    t.after(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    const hub = await startTestHub(t, {
      anonymous: true,
      subscriptions: true,
      presenceRate: null,
      historySize: 3,
      store: kind === 'memory' ? { kind } : { kind, path: join(dir, 'history.db') },
    });
    assert.equal((await hub.publish({ topic: TOPIC, data: 'needed', id: 'needed' })).status, 200);
    // Many more subscription events than history keeps: 10 cycles of 2 selectors, 40 events.
    for (let i = 0; i < 10; i++) {
      const stream = await EventStream.open(
        t,
        hub.subscribeUrl([`${TOPIC}/${i}`, `${TOPIC}/x${i}`]),
      );
      stream.close();
      await stream.done;
    }
    // Retention runs once a second: wait until it has trimmed the subscription events.
    const metrics = new URL('/metrics', hub.hubUrl);
    let size = Number.NaN;
    await waitFor(
      async () => {
        const text = await (await fetch(metrics)).text();
        size = Number(/^herald_history_updates (\d+)/m.exec(text)?.[1]);
        return size <= 4;
      },
      { interval: 100, message: () => `history to hold 4 updates (holds ${size})` },
    );
    // The published update is still there to resume from.
    const resumed = await EventStream.open(t, hub.subscribeUrl([TOPIC], { lastEventID: 'needed' }));
    assert.equal(resumed.headers.get('last-event-id'), 'needed');
    assert.deepEqual(hub.internalErrors, []);
  });
}
