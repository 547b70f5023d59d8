import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { request } from 'undici';
import { mintToken } from '../../src/auth/mint-token.ts';
import { EventStream } from '../support/event-stream.ts';
import { startHubProcess } from '../support/hub-process.ts';
import { TEST_KEY } from '../support/test-hub.ts';
import { waitFor } from '../support/wait.ts';

const TOPIC = 'https://example.com/burst/feed';
const MiB = 1024 * 1024;

async function metric(origin: string, name: string): Promise<number> {
  const response = await request(`${origin}/metrics`);
  const text = await response.body.text();
  const line = text.split('\n').find((entry) => entry.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}

test('readers that stop reading during a burst hold no copy of it: past the total unsent bytes, the largest holders are dropped', async (t) => {
  const totalLimit = 16 * MiB;
  const hub = await startHubProcess(t, {
    publisherJwtKey: TEST_KEY,
    subscriberJwtKey: TEST_KEY,
    host: '127.0.0.1',
    port: 0,
    anonymous: true,
    publishRate: null,
    store: { kind: 'memory' },
    // Far above the burst: only the total can drop anyone here.
    maxUnsentBytes: 256 * MiB,
    maxUnsentBytesTotal: totalLimit,
  });
  const origin = new URL(hub.hubUrl).origin;
  const url = new URL(`${hub.hubUrl}?topic=${encodeURIComponent(TOPIC)}`);
  const healthy = await EventStream.open(t, url.href);
  const stalled: Socket[] = [];
  t.after(() => {
    for (const socket of stalled) socket.destroy();
  });
  const readers = 40;
  for (let i = 0; i < readers; i++) {
    const socket = connect({ host: '127.0.0.1', port: Number(url.port) });
    socket.pause();
    socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
    stalled.push(socket);
  }
  const closed = new Set<Socket>();
  for (const socket of stalled) socket.once('close', () => closed.add(socket));
  await waitFor(async () => (await metric(origin, 'herald_connections')) >= readers + 1, {
    interval: 20,
    message: 'every reader connected',
  });
  const before = await hub.memory();

  // The burst: ten JSON batches of 19 updates of 50 KB, 9.5 MB for every reader.
  const token = await mintToken({ key: TEST_KEY, algorithm: 'HS256', publish: ['*'] });
  const batches = 10;
  const perBatch = 19;
  for (let batch = 0; batch < batches; batch++) {
    const response = await request(hub.hubUrl, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(
        Array.from({ length: perBatch }, (_, i) => ({
          topic: TOPIC,
          data: `${batch * perBatch + i} ${'z'.repeat(50_000)}`,
        })),
      ),
    });
    assert.equal(response.statusCode, 200, await response.body.text());
  }
  const published = batches * perBatch;
  const events = await healthy.waitForEvents(published, 60_000);
  assert.deepEqual(
    events.map((event) => Number(event.data.split(' ')[0])),
    Array.from({ length: published }, (_, i) => i),
    'the reader that reads got every update, in order',
  );
  // The total is checked a moment after it passes the limit (20 ms): wait for it to settle.
  const unsent = await waitFor(
    async () => {
      const total = await metric(origin, 'herald_unsent_bytes');
      return total <= totalLimit ? { total } : undefined;
    },
    { interval: 50, message: 'the unsent total back under its limit' },
  ).then(({ total }) => total);
  const after = await hub.memory();
  const dropped = await metric(origin, 'herald_slow_consumers_dropped_total');
  t.diagnostic(
    `dropped ${dropped} of ${readers}; unsent ${(unsent / MiB).toFixed(1)} MiB; buffers grew ${((after.arrayBuffers - before.arrayBuffers) / MiB).toFixed(1)} MiB, RSS ${((after.rss - before.rss) / MiB).toFixed(1)} MiB`,
  );
  assert.ok(dropped > 0, 'laggards were dropped');
  assert.ok(dropped < readers, 'only as many as the total needs');
  assert.ok(unsent <= totalLimit, `${unsent} bytes unsent, over the total`);
  // 40 private copies of the burst would be 380 MB; the shared frames are 9.5 MB, plus what
  // the kept readers' sockets and the test's own traffic hold.
  assert.ok(
    after.arrayBuffers - before.arrayBuffers < 100 * MiB,
    `buffers grew by ${after.arrayBuffers - before.arrayBuffers} bytes`,
  );
  assert.equal(await metric(origin, 'herald_connections'), readers + 1 - dropped);
  // The dropped readers' connections are closed (a reader sees it once it reads again): their
  // clients resume with Last-Event-ID.
  for (const socket of stalled) socket.resume();
  await waitFor(() => closed.size >= dropped, { message: 'the dropped readers closed' });
  assert.equal(closed.size, dropped);
});
