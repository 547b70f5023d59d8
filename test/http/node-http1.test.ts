import assert from 'node:assert/strict';
import { once } from 'node:events';
import { ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { fetch } from 'undici';
import { checkNodeHttp1, NODE_INTERNALS, NodeHttp1 } from '../../src/http/node-http1.ts';
import type { TestHub } from '../support/test-hub.ts';
import { dechunk } from '../support/chunked-body.ts';
import { startTestHub } from '../support/test-hub.ts';
import { waitFor } from '../support/wait.ts';

const TOPIC = 'https://example.com/adapter';

/*
 * The Node HTTP/1.1 adapter (src/http/node-http1.ts): its start-up check on this Node, the
 * check noticing a Node whose internals changed, and a real hub serving streams through the
 * documented API when the check (or its embedder) says so.
 */

/** A raw HTTP/1.1 connection that keeps every byte it receives, as latin1 text. */
function rawRequest(url: string, extraHeaders = ''): { socket: Socket; bytes: () => string } {
  const target = new URL(url);
  const socket = connect({ host: target.hostname, port: Number(target.port) });
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  // A refused request is cut while its headers are still being sent: a reset, not a failure.
  socket.on('error', () => undefined);
  socket.write(
    `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n${extraHeaders}\r\n`,
  );
  return { socket, bytes: () => received };
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    socket.once('close', () => {
      resolve();
    });
  });
}

function bodyOf(response: string): string {
  return response.slice(response.indexOf('\r\n\r\n') + 4);
}

/** Counts the calls of `res.write` on every response of this process while the test runs. */
function countResponseWrites(t: TestContext): { readonly count: number } {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- put back as it was, unbound
  const original = ServerResponse.prototype.write;
  const counter = { count: 0 };
  ServerResponse.prototype.write = function (this: ServerResponse, ...args: unknown[]) {
    counter.count++;
    return (original as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof original;
  t.after(() => {
    ServerResponse.prototype.write = original;
  });
  return counter;
}

/**
 * Plays a Node whose response stays corked past the next tick after its first write (as if
 * Node 26's cork-until-nextTick became cork-until-setImmediate): the head is not in the socket
 * when the adapter takes it over. For the check only: on Node 22 such a cork also loses the
 * response's own 'drain' event, so no hub is run on it.
 */
function corkFirstWriteUntilImmediate(t: TestContext): void {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- put back as it was, unbound
  const original = ServerResponse.prototype.write;
  const seen = new WeakSet<ServerResponse>();
  ServerResponse.prototype.write = function (this: ServerResponse, ...args: unknown[]) {
    if (!seen.has(this)) {
      seen.add(this);
      this.cork();
      setImmediate(() => {
        if (this.writableCorked > 0) this.uncork();
      });
    }
    return (original as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof original;
  t.after(() => {
    ServerResponse.prototype.write = original;
  });
}

/**
 * Subscribes over a raw HTTP/1.1 connection, publishes `datas`, and returns the SSE text
 * received once the hub shut down.
 */
async function streamThenShutDown(t: TestContext, hub: TestHub, datas: string[]): Promise<string> {
  const { socket, bytes } = rawRequest(hub.subscribeUrl([TOPIC]));
  t.after(() => socket.destroy());
  await waitFor(() => hub.herald.hub.subscriberCount === 1 && bytes().includes(':\n\n'), {
    message: 'head',
  });
  for (const data of datas.slice(0, -2)) {
    assert.equal((await hub.publish({ topic: TOPIC, data })).status, 200);
  }
  // The last two in one batch: their frames are queued in the same turn.
  const token = await hub.token({ publish: ['*'] });
  const batch = await fetch(hub.hubUrl, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(datas.slice(-2).map((data) => ({ topic: TOPIC, data }))),
  });
  assert.equal(batch.status, 200);
  const last = datas.at(-1) ?? '';
  await waitFor(() => dechunk(bodyOf(bytes())).data.includes(`data: ${last}\n\n`), {
    message: 'every event',
  });
  assert.match(bytes(), /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(bytes(), /\r\nTransfer-Encoding: chunked\r\n/i);
  const ended = once(socket, 'end');
  await hub.herald.close();
  await ended;
  const { data, ended: complete } = dechunk(bodyOf(bytes()));
  assert.equal(complete, true, 'shutdown ends the body with the last chunk');
  assert.equal(bytes().split('HTTP/1.1 ').length, 2, 'one head');
  return Buffer.from(data, 'latin1').toString('utf8');
}

function datasOf(sse: string): string[] {
  return sse
    .split('\n\n')
    .filter((event) => event.includes('data: '))
    .map((event) =>
      event
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n'),
    );
}

test("the start-up check finds this Node's HTTP/1.1 internals as Herald expects", async () => {
  const http1 = await checkNodeHttp1();
  assert.deepEqual(http1.fallbacks, [], `on Node ${process.version}`);
  assert.deepEqual(http1.capabilities, {
    directWrites: true,
    headRelease: true,
    socketResponse: true,
    connectionHandOver: true,
  });
  assert.equal(await checkNodeHttp1(), http1, 'checked once per process');
});

test('the check turns off what a changed Node no longer does, and says why', async () => {
  // A Node that no longer links a connection to its response as `_httpMessage`.
  const unlinked = await checkNodeHttp1({
    internals: { ...NODE_INTERNALS, responseOf: () => undefined },
  });
  assert.deepEqual(unlinked.capabilities, {
    directWrites: true,
    headRelease: true,
    socketResponse: false,
    connectionHandOver: true,
  });
  assert.equal(unlinked.fallbacks.length, 1);
  assert.match(unlinked.fallbacks[0] ?? '', /_httpMessage/);

  // A Node that frames chunks its own way (no `chunkedEncoding` to read).
  const unframed = await checkNodeHttp1({
    internals: { ...NODE_INTERNALS, chunked: () => undefined },
  });
  assert.equal(unframed.capabilities.directWrites, false);
  assert.match(unframed.fallbacks.join('\n'), /chunkedEncoding.*res\.write/);

  // A Node that keeps the head elsewhere once sent.
  const headless = await checkNodeHttp1({
    internals: { ...NODE_INTERNALS, storedHead: () => undefined },
  });
  assert.equal(headless.capabilities.headRelease, false);
  assert.equal(headless.capabilities.directWrites, true);
  assert.match(headless.fallbacks.join('\n'), /_header/);

  // A Node whose server gives sockets their parser some other way than one 'connection'
  // listener: every connection then goes to node:http from its first byte.
  const doorless = await checkNodeHttp1({
    internals: { ...NODE_INTERNALS, connectionListener: () => undefined },
  });
  assert.equal(doorless.capabilities.connectionHandOver, false);
  assert.equal(doorless.capabilities.directWrites, true);
  assert.match(doorless.fallbacks.join('\n'), /'connection' listener.*node:http/);
});

test('the check turns direct writes off when the head is not in the socket after the hand-over', async (t) => {
  corkFirstWriteUntilImmediate(t);
  const http1 = await checkNodeHttp1({});
  assert.equal(http1.capabilities.directWrites, false);
  assert.match(http1.fallbacks.join('\n'), /head was not in the socket.*res\.write/);
});

test('a hub on the checked fast path writes frames to the socket, not through res.write', async (t) => {
  // The control for the fallback tests below: the counter does tell the two paths apart.
  const writes = countResponseWrites(t);
  const hub = await startTestHub(t, { anonymous: true });
  const datas = ['one', 'two\nlines', 'x'.repeat(3000), 'été', 'last'];
  const sse = await streamThenShutDown(t, hub, datas);
  assert.deepEqual(datasOf(sse), datas);
  assert.ok(writes.count <= 2, `res.write called ${writes.count} times`);
  assert.deepEqual(hub.internalErrors, []);
});

test('a hub told to keep to the documented API streams through res.write, warning once', async (t) => {
  const writes = countResponseWrites(t);
  const hub = await startTestHub(
    t,
    { anonymous: true },
    { http1: NodeHttp1.plain('switched off by the embedder') },
  );
  const warnings = hub.logs.filter((line) => Number(line['level']) === 40);
  assert.equal(warnings.length, 1);
  assert.match(String(warnings[0]?.['msg']), /documented API/);
  assert.deepEqual(warnings[0]?.['fallbacks'], ['switched off by the embedder']);

  const datas = ['one', 'two\nlines', 'x'.repeat(3000), 'été', 'last'];
  const sse = await streamThenShutDown(t, hub, datas);
  assert.deepEqual(datasOf(sse), datas, 'the same events, in order');
  assert.ok(writes.count >= 1 + datas.length, `res.write called ${writes.count} times`);
  assert.deepEqual(hub.internalErrors, []);
});

test('on a Node the check finds changed, a replay streams whole through res.write', async (t) => {
  // A Node that frames chunks its own way: the check turns direct writes off, and the hub runs
  // with what it found.
  // (Its connections all go to node:http: a stream the stream door served would not touch
  // Node's response at all.)
  const http1 = await checkNodeHttp1({
    internals: { ...NODE_INTERNALS, chunked: () => undefined, connectionListener: () => undefined },
  });
  assert.equal(http1.capabilities.directWrites, false);
  const writes = countResponseWrites(t);
  const hub = await startTestHub(t, { anonymous: true }, { http1 });
  assert.ok(
    hub.logs.some((line) => Number(line['level']) === 40),
    'a warning at start-up',
  );

  // History larger than the replay's high-water mark: the replay waits for `drain` on the
  // response, Node's own backpressure, while the client reads slowly.
  const payload = 'h'.repeat(4000);
  let firstId = '';
  for (let i = 0; i < 200; i++) {
    const published = await hub.publish({ topic: TOPIC, data: `${i} ${payload}` });
    assert.equal(published.status, 200);
    if (i === 0) firstId = published.body;
  }
  const { socket, bytes } = rawRequest(hub.subscribeUrl([TOPIC]), `Last-Event-ID: ${firstId}\r\n`);
  t.after(() => socket.destroy());
  socket.pause();
  await waitFor(() => hub.herald.hub.subscriberCount === 1, { message: 'the subscription' });
  socket.resume();
  await waitFor(() => dechunk(bodyOf(bytes())).data.includes('data: 199 '), {
    message: 'the whole replay',
  });
  assert.equal((await hub.publish({ topic: TOPIC, data: 'live' })).status, 200);
  await waitFor(() => dechunk(bodyOf(bytes())).data.includes('data: live\n\n'), {
    message: 'the live event',
  });
  const datas = datasOf(dechunk(bodyOf(bytes())).data);
  assert.deepEqual(
    datas,
    [...Array.from({ length: 199 }, (_, i) => `${i + 1} ${payload}`), 'live'],
    'after the id, every update once, in order, then live',
  );
  assert.ok(writes.count >= datas.length, `res.write called ${writes.count} times`);
  assert.deepEqual(hub.internalErrors, []);
});

test('where a connection does not name its response, a parser refusal closes it unanswered', async (t) => {
  const http1 = await checkNodeHttp1({
    internals: { ...NODE_INTERNALS, responseOf: () => undefined },
  });
  const limits = { anonymous: true, maxHeaderBytes: 4096 };
  const unlinked = await startTestHub(t, limits, { http1 });
  const linked = await startTestHub(t, limits);
  const oversized = `X-Big: ${'b'.repeat(5000)}\r\n`;

  // The control: with the link, the refusal is answered (431, problem document).
  const answered = rawRequest(linked.subscribeUrl([TOPIC]), oversized);
  t.after(() => answered.socket.destroy());
  await closed(answered.socket);
  assert.match(answered.bytes(), /^HTTP\/1\.1 431 /);
  assert.match(answered.bytes(), /HERALD_ERR_HEADERS_TOO_LARGE/);

  // Without it, no status line goes out on a connection that might be mid-response.
  const unanswered = rawRequest(unlinked.subscribeUrl([TOPIC]), oversized);
  t.after(() => unanswered.socket.destroy());
  await closed(unanswered.socket);
  assert.equal(unanswered.bytes(), '');
  assert.deepEqual(unlinked.internalErrors, []);
});
