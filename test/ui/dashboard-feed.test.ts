import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { MemoryBackend } from '../../src/backends/memory.ts';
import { Hub } from '../../src/core/hub.ts';
import type { FrameSink } from '../../src/core/subscriber.ts';
import { ConnectionRegistry } from '../../src/http/streams/connection-registry.ts';
import { DashboardFeed } from '../../src/http/ui/dashboard-feed.ts';
import { StreamsPerClient } from '../../src/http/limits/streams-per-client.ts';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub } from '../support/test-hub.ts';
import { waitFor } from '../support/wait.ts';

const TOPIC = 'https://example.com/rooms/1';

test('/ui/stats counts under --max-streams-per-client with event streams: past it, 429', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, ui: true, maxStreamsPerClient: 2 });
  const stats = new URL('/ui/stats', hub.hubUrl).href;
  const subscriber = await EventStream.open(t, hub.subscribeUrl([TOPIC]));
  const dashboard = await EventStream.open(t, stats);
  assert.deepEqual([subscriber.status, dashboard.status], [200, 200]);

  // One more of either kind is refused, with the stable code and a Retry-After.
  for (const url of [stats, hub.subscribeUrl([TOPIC])]) {
    const refused = await EventStream.open(t, url);
    assert.equal(refused.status, 429);
    assert.match(refused.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
    const problem = JSON.parse(refused.errorBody ?? '{}') as Record<string, unknown>;
    assert.equal(problem['code'], 'HERALD_ERR_TOO_MANY_STREAMS');
    assert.match(String(problem['detail']), /already has 2 event streams open/);
  }
  // The open subscriber still receives what is published, and nothing leaked to the refused.
  assert.equal((await hub.publish({ topic: TOPIC, data: 'while full' })).status, 200);
  await subscriber.until(() => subscriber.events.some((e) => e.data === 'while full'), 'marker');

  // Closing the dashboard gives its place back: a new one opens (once the hub saw the close).
  dashboard.close();
  const reopened = await waitFor(
    async () => {
      const stream = await EventStream.open(t, stats);
      return stream.status !== 429 && stream;
    },
    { interval: 20, message: 'a dashboard to open again' },
  );
  assert.equal(reopened.status, 200);
  assert.deepEqual(hub.internalErrors, []);
});

test('a dashboard that stops reading is skipped, stays bounded in memory, and is dropped; others go on', async (t) => {
  const backend = new MemoryBackend({ historySize: 10 });
  const hub = new Hub(backend, {
    maxTopicsPerUpdate: 10,
    maxUpdatesPerPublish: 10,
    maxSelectorsPerSubscription: 10,
    maxPendingBytes: 1 << 20,
    topicActivity: true,
  });
  // Ten subscribed topics with long names: each second's activity frame is about 40 KB, so a
  // socket that is not read fills within moments (here a "second" lasts 2 ms).
  const sink: FrameSink = {
    write: () => true,
    drained: () => Promise.resolve(),
    close: () => undefined,
    closed: false,
  };
  const topics = Array.from(
    { length: 10 },
    (_, i) => `https://example.com/${'x'.repeat(4000)}/${i}`,
  );
  await hub.subscribe({ selectors: topics, grants: { privateSelectors: [] }, sink });
  const connections = new ConnectionRegistry(null);
  const streams = new StreamsPerClient(10);
  const feed = new DashboardFeed(hub, connections, {
    intervalMs: 2,
    stallIntervals: 50,
    admission: { streamsPerClient: streams, trustedProxies: undefined },
  });
  let stalledResponse: ServerResponse | undefined;
  let mostUnsent = 0;
  let largestWrite = 0;
  const server = createServer((req, res) => {
    if (req.headers['x-stalled'] !== undefined) {
      stalledResponse = res;
      // Watch every write the feed makes to the stalled dashboard.
      const write = res.write.bind(res) as (chunk: string) => boolean;
      res.write = ((chunk: string) => {
        const written = write(chunk);
        largestWrite = Math.max(largestWrite, Buffer.byteLength(chunk));
        mostUnsent = Math.max(mostUnsent, res.writableLength);
        return written;
      }) as typeof res.write;
    }
    void feed.open(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    feed.closeAll();
    server.closeAllConnections();
    server.close();
    hub.close();
  });
  const { port } = server.address() as AddressInfo;

  // A dashboard that never reads a byte of its answer.
  const stalled = connect(port, '127.0.0.1');
  stalled.pause();
  stalled.on('error', () => undefined);
  t.after(() => stalled.destroy());
  stalled.write(`GET /ui/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Stalled: 1\r\n\r\n`);
  // And one that reads.
  const reader = await EventStream.open(t, `http://127.0.0.1:${port}/ui/stats`);

  await waitFor(() => feed.droppedDashboards === 1, {
    message: 'the stalled dashboard to be dropped',
  });
  assert.ok(stalledResponse !== undefined);
  // Bounded: never more unsent than the "behind" threshold plus the one catch-up it was sent.
  assert.ok(
    mostUnsent <= 64 * 1024 + 2 * largestWrite,
    `unsent bytes stayed bounded (${mostUnsent} with writes of at most ${largestWrite})`,
  );
  // Its place under the stream limit was given back; the reading dashboard is still served.
  await waitFor(() => streams.clients === 1 && feed.size === 1, {
    message: 'the dropped place to be freed',
  });
  const seen = reader.events.length;
  await reader.until(() => reader.events.length > seen + 2, 'more samples for the reader');
  assert.equal(reader.ended, false);
});

test('the feed keeps 15 minutes: a dashboard opening later gets the past at once', async (t) => {
  const backend = new MemoryBackend({ historySize: 10 });
  const hub = new Hub(backend, {
    maxTopicsPerUpdate: 10,
    maxUpdatesPerPublish: 10,
    maxSelectorsPerSubscription: 10,
    maxPendingBytes: 1 << 20,
  });
  const feed = new DashboardFeed(hub, new ConnectionRegistry(null), {
    intervalMs: 2,
    historySamples: 30,
  });
  const server = createServer((req, res) => {
    void feed.open(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    feed.closeAll();
    server.closeAllConnections();
    server.close();
    hub.close();
  });
  // Let more samples be taken than the ring holds, with no dashboard open.
  const before = Date.now();
  await waitFor(() => feed.samplesTaken > 40, { message: 'samples to be taken' });
  const { port } = server.address() as AddressInfo;
  const dashboard = await EventStream.open(t, `http://127.0.0.1:${port}/ui/stats`);
  const [samples] = await dashboard.waitForEvents(1);
  assert.equal(samples?.event, 'samples');
  const { series } = JSON.parse(samples.data) as { series: Record<string, number[]> };
  const times = series['time'] ?? [];
  // The whole ring, oldest first, all taken before the dashboard opened.
  assert.equal(times.length, 30);
  assert.ok(times.every((time, i) => i === 0 || time >= (times[i - 1] ?? 0)));
  assert.ok((times[0] ?? 0) >= before);
  assert.ok((series['rssBytes'] ?? []).every((rss) => rss > 0));
});
