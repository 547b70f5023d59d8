import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from 'node:net';
import { request } from 'undici';
import { startTestHub } from '../support/test-hub.ts';
import { mintToken } from '../../src/auth/mint-token.ts';
import { tempDir } from '../support/cli.ts';
import { startHubProcess } from '../support/hub-process.ts';
import type { HubProcess } from '../support/hub-process.ts';
import { TEST_KEY } from '../support/test-hub.ts';
import { waitFor } from '../support/wait.ts';

const TOPIC = 'https://example.com/replay/feed';
const ID_LINE = Buffer.from('\nid: ');

/*
 * The longest turn of the hub's event loop allowed while replays run, in CPU time of its main
 * thread (wall clock on a shared machine also counts time the process was not scheduled). A
 * replay works 2 ms at a time (WORK_SLICE_MS) plus one history page. Measured on a shared
 * 2-core machine (load average 17) with 30,000 updates: 30–40 ms with paced replays (GC
 * included), 936 ms before them (one health check answered in the whole run). 250 ms keeps a
 * wide margin on both sides.
 */
const STALL_BOUND_MS = 250;

async function fillHistory(hub: HubProcess, updates: number): Promise<string[]> {
  const token = await mintToken({ key: TEST_KEY, algorithm: 'HS256', publish: ['*'] });
  const ids: string[] = [];
  const batch = 1000;
  for (let at = 0; at < updates; at += batch) {
    const body = Array.from({ length: Math.min(batch, updates - at) }, (_, i) => ({
      topic: TOPIC,
      data: `update ${at + i} ${'x'.repeat(40)}`,
    }));
    const response = await request(hub.hubUrl, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.body.text();
    assert.equal(response.statusCode, 200, text);
    ids.push(...text.trim().split('\n'));
  }
  return ids;
}

/** Opens a stream and counts the events on it (id lines) without parsing each. */
async function countingStream(url: string, headers: Record<string, string>) {
  const response = await request(url, { headers });
  assert.equal(response.statusCode, 200);
  const state = { events: 0, ended: false, lastId: '' };
  let tail = Buffer.alloc(0);
  void (async () => {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      const bytes = Buffer.concat([tail, chunk]);
      let at = bytes.indexOf(ID_LINE);
      let lastAt = -1;
      while (at !== -1) {
        state.events++;
        lastAt = at;
        at = bytes.indexOf(ID_LINE, at + ID_LINE.length);
      }
      if (lastAt !== -1) {
        const end = bytes.indexOf(0x0a, lastAt + ID_LINE.length);
        if (end !== -1) state.lastId = bytes.subarray(lastAt + ID_LINE.length, end).toString();
      }
      tail = bytes.subarray(Math.max(0, bytes.length - (ID_LINE.length - 1)));
    }
    state.ended = true;
  })().catch(() => {
    state.ended = true;
  });
  return { state, close: () => response.body.destroy() };
}

test('twenty earliest replays of a 30,000-update SQLite history never stall the event loop for long, and each gets every update once', async (t) => {
  const hub = await startHubProcess(t, {
    publisherJwtKey: TEST_KEY,
    subscriberJwtKey: TEST_KEY,
    host: '127.0.0.1',
    port: 0,
    anonymous: true,
    publishRate: null,
    historySize: 200_000,
    store: { kind: 'sqlite', path: `${tempDir(t)}/herald.db` },
  });
  const updates = Number(process.env['REPLAY_UPDATES'] ?? 30_000);
  const ids = await fillHistory(hub, updates);
  await hub.loopDelay();

  const url = `${hub.hubUrl}?topic=${encodeURIComponent(TOPIC)}`;
  const streams = await Promise.all(
    Array.from({ length: 20 }, () => countingStream(url, { 'Last-Event-ID': 'earliest' })),
  );
  t.after(() => {
    for (const stream of streams) stream.close();
  });
  // Health checks keep being answered meanwhile.
  let healthChecks = 0;
  const origin = new URL(hub.hubUrl).origin;
  const done = () => streams.every((stream) => stream.state.events >= updates);
  while (!done()) {
    const health = await request(`${origin}/healthz`);
    await health.body.text();
    assert.equal(health.statusCode, 200);
    healthChecks++;
  }
  const stall = await hub.loopDelay();
  t.diagnostic(
    `longest event-loop turn: ${stall.maxCpuMs.toFixed(1)} ms CPU, ${stall.maxMs.toFixed(1)} ms wall clock; ${healthChecks} health checks`,
  );
  assert.ok(
    stall.maxCpuMs < STALL_BOUND_MS,
    `one turn of the event loop took ${stall.maxCpuMs} ms`,
  );
  for (const stream of streams) {
    assert.equal(stream.state.events, updates);
    assert.equal(stream.state.lastId, ids.at(-1));
  }
  // Nothing else came: a marker is the next and only event on every stream.
  const [marker] = await fillHistory(hub, 1);
  await waitFor(() => streams.every((stream) => stream.state.lastId === marker), {
    message: 'the marker',
    timeout: 120_000,
  });
  for (const stream of streams) assert.equal(stream.state.events, updates + 1);
});

test('replays past --max-concurrent-replays wait their turn and all arrive whole; a client that stops reading holds no slot', async (t) => {
  const hub = await startTestHub(t, {
    anonymous: true,
    publishRate: null,
    historySize: 10_000,
    maxConcurrentReplays: 1,
  });
  const token = await hub.token({ publish: ['*'] });
  // Far more than socket buffers hold: a client that does not read stalls its replay.
  const updates = 3_000;
  const ids: string[] = [];
  for (let at = 0; at < updates; at += 500) {
    const response = await request(hub.hubUrl, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(
        Array.from({ length: 500 }, (_, i) => ({
          topic: TOPIC,
          data: `update ${at + i} ${'y'.repeat(2000)}`,
        })),
      ),
    });
    ids.push(...(await response.body.text()).trim().split('\n'));
  }
  const url = hub.subscribeUrl([TOPIC]);
  // A client that asks for everything and never reads.
  const stalled = connect({ host: '127.0.0.1', port: hub.herald.port });
  t.after(() => stalled.destroy());
  stalled.pause();
  const { pathname, search } = new URL(url);
  stalled.write(
    `GET ${pathname}${search} HTTP/1.1\r\nHost: 127.0.0.1\r\nLast-Event-ID: earliest\r\n\r\n`,
  );
  await waitFor(() => hub.herald.hub.subscriberCount === 1, {
    message: 'the stalled subscriber',
    timeout: 120_000,
  });
  // Three more at once, on a hub that runs one replay at a time: each waits its turn.
  const streams = await Promise.all(
    Array.from({ length: 3 }, () => countingStream(url, { 'Last-Event-ID': 'earliest' })),
  );
  t.after(() => {
    for (const stream of streams) stream.close();
  });
  await waitFor(() => streams.every((stream) => stream.state.events === updates), {
    message: 'every replay to arrive whole',
    timeout: 120_000,
  });
  for (const stream of streams) assert.equal(stream.state.lastId, ids.at(-1));
  assert.equal(
    hub.herald.hub.replays.active,
    0,
    'the stalled replay holds no slot while its socket is full',
  );
});
