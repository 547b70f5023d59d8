import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { fetch } from 'undici';
import { chunkOf } from '../../src/http/streams/chunk-framing.ts';
import { dechunk } from '../support/chunked-body.ts';
import { startTestHub } from '../support/test-hub.ts';
import { waitFor } from '../support/wait.ts';

const TOPIC = 'https://example.com/framing';

/** A raw connection that keeps every byte it receives, as latin1 text. */
function rawSubscribe(
  url: string,
  version: '1.0' | '1.1',
): { socket: Socket; bytes: () => string } {
  const target = new URL(url);
  const socket = connect({ host: target.hostname, port: Number(target.port) });
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.write(
    `GET ${target.pathname}${target.search} HTTP/${version}\r\nHost: ${target.host}\r\n\r\n`,
  );
  return { socket, bytes: () => received };
}

function split(response: string): { head: string; body: string } {
  const end = response.indexOf('\r\n\r\n');
  return { head: response.slice(0, end), body: response.slice(end + 4) };
}

test('chunkOf frames bytes as one chunk, once per frame object', () => {
  const frame = new TextEncoder().encode('id: a\ndata: été\n\n');
  const chunk = chunkOf(frame);
  assert.equal(chunk.toString('latin1', 0, 4), `${frame.byteLength.toString(16)}\r\n`);
  assert.deepEqual(chunk.subarray(4, 4 + frame.byteLength), Buffer.from(frame));
  assert.equal(chunk.toString('latin1', 4 + frame.byteLength), '\r\n');
  assert.equal(chunkOf(frame), chunk, 'the same frame object reuses its chunk');
  const other = new TextEncoder().encode('data: x\n\n');
  assert.notEqual(chunkOf(other), chunk);
  assert.equal(chunkOf(new Uint8Array(0)).byteLength, 0, 'an empty frame sends no last-chunk');
});

test('an HTTP/1.1 stream is well-formed chunked SSE, in order, ended by the last chunk', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const { socket, bytes } = rawSubscribe(hub.subscribeUrl([TOPIC]), '1.1');
  t.after(() => socket.destroy());
  await waitFor(() => hub.herald.hub.subscriberCount === 1 && bytes().includes('\r\n\r\n'), {
    message: 'head',
  });
  const datas = ['first', 'line one\nline two', 'a'.repeat(5000), 'commande-été'];
  for (const data of datas) assert.equal((await hub.publish({ topic: TOPIC, data })).status, 200);
  await waitFor(() => dechunk(split(bytes()).body).data.includes('commande-'), {
    message: 'four events',
  });

  const { head, body } = split(bytes());
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(head, /\r\nTransfer-Encoding: chunked(\r\n|$)/i);
  assert.match(head, /\r\nContent-Type: text\/event-stream; charset=utf-8(\r\n|$)/i);
  const events = Buffer.from(dechunk(body).data, 'latin1').toString('utf8').split('\n\n');
  assert.equal(events[0], ':', 'the first comment');
  assert.deepEqual(
    events.slice(1, -1).map((event) =>
      event
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n'),
    ),
    datas,
  );
  assert.match(events[1] ?? '', /^id: urn:uuid:/);

  // Ending the stream (shutdown) sends the last chunk: the body is complete, not cut.
  const closed = once(socket, 'end');
  await hub.herald.close();
  await closed;
  assert.equal(dechunk(split(bytes()).body).ended, true);
  // The head went once: the stream releases Node's copy of it once sent (node-http1.ts).
  assert.equal(bytes().split('HTTP/1.1 ').length, 2, 'one head, never written again');
  assert.deepEqual(hub.internalErrors, []);
});

test('updates queued in the same turn leave as one chunk, in order', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const { socket, bytes } = rawSubscribe(hub.subscribeUrl([TOPIC]), '1.1');
  t.after(() => socket.destroy());
  await waitFor(() => hub.herald.hub.subscriberCount === 1 && bytes().includes('\r\n\r\n'), {
    message: 'head',
  });
  const token = await hub.token({ publish: ['*'] });
  // A batch is dispatched in slices of about 2 ms: on a loaded machine a slice can end between
  // two of its updates, which then leave in two chunks. A few tries tell that apart from frames
  // that are never put together (then every try fails).
  const tries: string[][] = [];
  for (let attempt = 0; attempt < 5 && tries.at(-1)?.length !== 1; attempt++) {
    const seen = split(bytes()).body.length;
    const datas = ['one', 'two', 'three'].map((data) => `${data}-${attempt}`);
    const response = await fetch(hub.hubUrl, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(datas.map((data) => ({ topic: TOPIC, data }))),
    });
    assert.equal(response.status, 200);
    const fresh = () => split(bytes()).body.slice(seen);
    await waitFor(() => fresh().includes(`data: three-${attempt}\n\n\r\n`), {
      message: 'the batch',
    });
    const chunks = fresh()
      .split(/\r\n[0-9a-f]+\r\n|^[0-9a-f]+\r\n/)
      .filter(Boolean);
    // However many chunks, the frames arrive whole and in order.
    assert.match(
      chunks.join(''),
      new RegExp(`^${datas.map((data) => `id: [^\n]+\ndata: ${data}\n\n`).join('')}\r\n$`),
    );
    tries.push(chunks);
  }
  assert.equal(
    tries.at(-1)?.length,
    1,
    `the batch in one chunk in one of ${tries.length} tries: ${JSON.stringify(tries)}`,
  );
  assert.deepEqual(hub.internalErrors, []);
});

test('an HTTP/1.0 stream is plain SSE bytes, delimited by the connection close', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const { socket, bytes } = rawSubscribe(hub.subscribeUrl([TOPIC]), '1.0');
  t.after(() => socket.destroy());
  await waitFor(() => hub.herald.hub.subscriberCount === 1 && bytes().includes('\r\n\r\n'), {
    message: 'head',
  });
  assert.equal((await hub.publish({ topic: TOPIC, data: 'over 1.0' })).status, 200);
  await waitFor(() => bytes().includes('data: over 1.0\n\n'), { message: 'the event' });
  const { head, body } = split(bytes());
  assert.doesNotMatch(head, /transfer-encoding/i);
  assert.match(body, /^:\n\nid: [^\n]+\ndata: over 1\.0\n\n$/);
  const closed = once(socket, 'close');
  await hub.herald.close();
  await closed;
  assert.deepEqual(hub.internalErrors, []);
});
