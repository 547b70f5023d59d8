import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetch } from 'undici';
import { EventStream } from '../support/event-stream.ts';
import type { TestHub } from '../support/test-hub.ts';
import { startTestHub } from '../support/test-hub.ts';
import { waitFor } from '../support/wait.ts';

const TOPIC = 'https://example.com/metrics';

/** Scrapes /metrics and returns the value of one sample (name with its labels, as printed). */
async function scrape(hub: TestHub): Promise<(sample: string) => number> {
  const response = await fetch(new URL('/metrics', hub.hubUrl));
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  return (sample) => {
    const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
    assert.ok(line !== undefined, `no sample ${sample} in /metrics`);
    return Number(line.slice(sample.length + 1));
  };
}

test('/metrics values move as clients subscribe, publish and are refused', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const before = await scrape(hub);
  assert.equal(before('herald_connections'), 0);
  assert.equal(before('herald_subscriptions'), 0);
  assert.equal(before('herald_published_updates_total'), 0);
  assert.equal(before('herald_deliveries_total'), 0);

  const streams = [
    await EventStream.open(t, hub.subscribeUrl([TOPIC])),
    await EventStream.open(t, hub.subscribeUrl(['https://example.com/{x}'])),
    await EventStream.open(t, hub.subscribeUrl(['https://example.com/other'])),
  ];
  for (let i = 0; i < 3; i++)
    assert.equal((await hub.publish({ topic: TOPIC, data: `m${i}` })).status, 200);
  await streams[0]?.waitForEvents(3);
  await streams[1]?.waitForEvents(3);
  const refused = await fetch(hub.hubUrl, {
    method: 'POST',
    body: new URLSearchParams({ topic: TOPIC }),
  });
  assert.equal(refused.status, 401);

  const after = await scrape(hub);
  assert.equal(after('herald_connections'), 3);
  assert.equal(after('herald_subscriptions'), 3);
  assert.equal(after('herald_published_updates_total'), 3);
  assert.equal(after('herald_dispatched_updates_total'), 3);
  // Two of the three streams match each update.
  assert.equal(after('herald_deliveries_total'), 6);
  const frameBytes = Buffer.byteLength(`id: ${streams[0]?.events[0]?.id ?? ''}\ndata: m0\n\n`);
  assert.equal(after('herald_delivered_bytes_total'), 6 * frameBytes);
  assert.equal(after('herald_publish_duration_seconds_count'), 3);
  assert.equal(after('herald_fanout_duration_seconds_count'), 3);
  assert.equal(after('herald_errors_total{code="HERALD_ERR_UNAUTHORIZED"}'), 1);
  assert.equal(after('herald_history_updates'), 3);
  assert.equal(after('herald_expired_streams_total'), 0);
  assert.ok(after('herald_process_resident_memory_bytes') > 0);

  // A replay counts as deliveries too; closed streams leave the gauges.
  const replay = await EventStream.open(t, hub.subscribeUrl([TOPIC], { lastEventID: 'earliest' }));
  await replay.waitForEvents(3);
  for (const stream of streams) stream.close();
  const last = await waitFor(
    async () => {
      const scraped = await scrape(hub);
      return scraped('herald_connections') === 1 && scraped;
    },
    { interval: 20, message: 'one connection left' },
  );
  assert.equal(last('herald_connections'), 1);
  assert.equal(last('herald_subscriptions'), 1);
  assert.equal(last('herald_deliveries_total'), 9);
});

test('/healthz and /readyz answer when the hub and its backend are up', async (t) => {
  const hub = await startTestHub(t);
  for (const path of ['/healthz', '/readyz']) {
    const response = await fetch(new URL(path, hub.hubUrl));
    assert.equal(response.status, 200, path);
    assert.equal(response.headers.get('cache-control'), 'no-store');
  }
});

test('each request is logged once with its id, and never with its token', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const token = await hub.token({ publish: ['*'], subscribe: ['*'] });

  const published = await fetch(`${hub.hubUrl}?authorization=${token}`, {
    method: 'POST',
    headers: { 'X-Request-Id': 'proxy-id-42' },
    body: new URLSearchParams({ topic: TOPIC, data: 'logged' }),
  });
  assert.equal(published.status, 200);
  assert.equal(published.headers.get('x-request-id'), 'proxy-id-42');

  const hostile = await fetch(new URL('/healthz', hub.hubUrl), {
    headers: { 'X-Request-Id': 'not ok\u00e9'.repeat(3) },
  });
  assert.match(hostile.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, 'a generated id');

  const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
    Cookie: `mercureAuthorization=${token}`,
  });
  stream.close();
  await stream.done;

  const requests = () => hub.logs.filter((line) => line['msg'] === 'request');
  await waitFor(() => requests().length >= 3, { message: 'three request lines' });
  const [publish, health, subscribe] = requests();
  assert.deepEqual(
    {
      id: publish?.['requestId'],
      method: publish?.['method'],
      path: publish?.['path'],
      status: publish?.['status'],
    },
    { id: 'proxy-id-42', method: 'POST', path: '/.well-known/mercure', status: 200 },
  );
  assert.equal(health?.['path'], '/healthz');
  assert.ok(subscribe !== undefined);
  assert.equal(subscribe['method'], 'GET');
  assert.equal(typeof subscribe['ms'], 'number');
  const everything = JSON.stringify(hub.logs);
  assert.ok(!everything.includes(token), 'no token in any log line');
  assert.ok(!everything.includes('authorization='), 'no query string in any log line');
  assert.deepEqual(hub.internalErrors, []);
});
