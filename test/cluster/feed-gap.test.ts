/**
 * A node that fell behind notices: a `herald serve` process is paused (SIGSTOP) while another
 * node publishes and retention removes what it had not read yet. On resume its live feed
 * would go on past the gap; instead it ends its streams (the clients resume and are told what
 * history still holds), counts the gap in `herald_feed_gaps_total` and logs it. The node that
 * kept up notices nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetch } from 'undici';
import { RedisBackend } from '../../src/backends/redis.ts';
import { runCli } from '../support/cli.ts';
import { EventStream } from '../support/event-stream.ts';
import { PrivateRedis } from '../support/private-redis.ts';
import { uniquePrefix } from '../support/redis.ts';
import { startTestHub, TEST_KEY } from '../support/test-hub.ts';
import { waitFor } from '../support/wait.ts';

const TOPIC = 'https://example.com/gap';
const KEPT = 5;

async function feedGaps(hubUrl: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', hubUrl))).text();
  return Number(/^herald_feed_gaps_total (\d+)$/m.exec(text)?.[1] ?? 'NaN');
}

test('a node paused past retention ends its streams on resume, counts the gap and logs it', async (t) => {
  const redis = await PrivateRedis.start(t);
  const prefix = uniquePrefix('feed-gap');
  const store = { kind: 'redis', url: redis.url, keyPrefix: prefix } as const;
  const paused = runCli(
    t,
    [
      'serve',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--store',
      redis.url,
      '--redis-prefix',
      prefix,
      '--history-size',
      String(KEPT),
      '--heartbeat',
      '200ms',
    ],
    { HERALD_JWT_KEY: TEST_KEY },
  );
  const publisher = await startTestHub(t, { store, historySize: KEPT, heartbeatMs: 200 });
  const pausedUrl = await paused.ready;
  const authorization = {
    Authorization: `Bearer ${await publisher.token({ subscribe: ['*'] })}`,
  };
  const onPaused = await EventStream.open(
    t,
    `${pausedUrl}?topic=${encodeURIComponent(TOPIC)}`,
    authorization,
  );
  const onPublisher = await EventStream.open(t, publisher.subscribeUrl([TOPIC]), authorization);
  assert.equal(onPaused.status, 200);
  assert.equal(await feedGaps(pausedUrl), 0);

  const first = await publisher.publish({ topic: TOPIC, data: 'before the pause' });
  assert.equal(first.status, 200);
  await onPaused.until(() => onPaused.events.length === 1, 'the first update on the paused node');

  paused.child.kill('SIGSTOP');
  t.after(() => paused.child.kill('SIGCONT'));
  const missed: string[] = [];
  for (let n = 0; n < 20; n++) {
    const published = await publisher.publish({ topic: TOPIC, data: `while paused ${n}` });
    assert.equal(published.status, 200);
    missed.push(published.body);
  }
  await onPublisher.until(() => onPublisher.events.length === 21, 'every update on the other node');
  // Retention as it runs once the grace period has passed: the paused node has read none of these.
  const retention = await RedisBackend.open({
    ...store,
    maxEvents: KEPT,
    maxAgeMs: null,
    trimIntervalMs: 3_600_000,
  });
  t.after(() => retention.close());
  assert.equal(await retention.trim({ ignoreGrace: true }), 21 - KEPT);
  paused.child.kill('SIGCONT');

  await onPaused.until(() => onPaused.ended, 'the paused node to end its stream', 20_000);
  assert.equal(await feedGaps(pausedUrl), 1, 'the gap is counted');
  const warning = await waitFor(
    () =>
      paused.stdout
        .split('\n')
        .filter((line) => line.includes('the live feed missed updates that retention removed'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .at(0),
    { message: 'the gap to be logged' },
  );
  assert.equal(warning['level'], 40);
  assert.equal(warning['endedStreams'], 1);
  assert.equal(typeof warning['through'], 'string');
  // What the stream did deliver came in order, and nothing after the gap was passed off as
  // continuous: every update it got is one it should have had, in publish order.
  const got = onPaused.events.map((e) => e.id ?? '');
  const all = [first.body, ...missed];
  assert.deepEqual(got, all.slice(0, got.length));

  // The client resumes from the last id it had: gone from history, so the hub says so
  // (Last-Event-ID: earliest) rather than carry on as if nothing was missed...
  const resumed = await EventStream.open(t, `${pausedUrl}?topic=${encodeURIComponent(TOPIC)}`, {
    ...authorization,
    'Last-Event-ID': got.at(-1) ?? '',
  });
  assert.equal(resumed.status, 200);
  assert.equal(resumed.headers.get('last-event-id'), 'earliest');
  // ...and the node serves on as before: heartbeats, and live delivery.
  await resumed.until(() => resumed.comments >= 3, 'heartbeats on the new stream');
  const marker = await publisher.publish({ topic: TOPIC, data: 'marker' });
  await resumed.until(() => resumed.events.some((e) => e.id === marker.body), 'the marker');

  // The node that kept up noticed nothing.
  assert.equal(onPublisher.ended, false);
  assert.equal(await feedGaps(publisher.hubUrl), 0);
  assert.deepEqual(publisher.internalErrors, []);
});
