import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { fetch } from 'undici';
import { parseServeOptions } from '../../src/cli/serve-options.ts';
import { startHerald } from '../../src/herald.ts';
import { EventStream } from '../support/event-stream.ts';
import type { TestHub } from '../support/test-hub.ts';
import { startTestHub, TEST_KEY } from '../support/test-hub.ts';

const TOPIC = 'https://example.com/limits';
// Short timeouts so the tests are quick; the defaults are 10 s and 60 s.
const FAST = { headersTimeoutMs: 500, requestTimeoutMs: 1000 } as const;

/** A raw TCP client: what it receives, and when the server closed it. */
interface RawClient {
  readonly socket: Socket;
  readonly received: () => string;
  readonly closed: Promise<number>;
}

async function rawClient(t: TestContext, hub: TestHub): Promise<RawClient> {
  const socket = connect(hub.herald.port, '127.0.0.1');
  await once(socket, 'connect');
  t.after(() => socket.destroy());
  let data = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (data += chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => {
    socket.once('close', () => {
      resolve(Date.now());
    });
  });
  return { socket, received: () => data, closed };
}

/** Parses a raw HTTP/1.1 answer: its status and its problem document. */
function problemOf(raw: string): { status: number; problem: Record<string, unknown> } {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const headers = `${head}\r\n`;
  assert.match(head, /^HTTP\/1\.1 \d{3} /);
  assert.match(headers, /\r\nContent-Type: application\/problem\+json\r\n/i);
  assert.match(headers, /\r\nConnection: close\r\n/i);
  return {
    status: Number(head.slice(9, 12)),
    problem: JSON.parse(body) as Record<string, unknown>,
  };
}

/** Closed within `withinMs`, else fails (a bound on correctness, far above the timeout). */
async function closedWithin(client: RawClient, withinMs: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`the server did not close the connection within ${withinMs} ms`));
    }, withinMs);
  });
  try {
    return await Promise.race([client.closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function expectNothingPublished(
  t: TestContext,
  hub: TestHub,
  watcher: EventStream,
): Promise<void> {
  assert.equal((await hub.publish({ topic: TOPIC, data: 'marker' })).status, 200);
  await watcher.until(() => watcher.events.some((event) => event.data === 'marker'), 'marker');
  assert.deepEqual(
    watcher.events.map((event) => event.data),
    ['marker'],
  );
  const history = await EventStream.open(t, hub.subscribeUrl([TOPIC], { lastEventID: 'earliest' }));
  await history.waitForEvents(1);
  assert.deepEqual(
    history.events.map((event) => event.data),
    ['marker'],
  );
}

test('a client that never finishes its headers gets 408 and is disconnected; others are unaffected', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, ...FAST });
  const watcher = await EventStream.open(t, hub.subscribeUrl([TOPIC]));
  const token = await hub.token({ publish: [TOPIC] });
  const slow = await rawClient(t, hub);
  const started = Date.now();
  slow.socket.write(
    `POST /.well-known/mercure HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n`,
  );

  // While it dawdles, a publish and the stream work as usual.
  assert.equal((await hub.publish({ topic: TOPIC, data: 'meanwhile' })).status, 200);
  await watcher.waitForEvents(1);

  const closedAt = await closedWithin(slow, 10_000);
  assert.ok(closedAt - started >= FAST.headersTimeoutMs - 50, 'not closed before the timeout');
  const { status, problem } = problemOf(slow.received());
  assert.equal(status, 408);
  assert.equal(problem['code'], 'HERALD_ERR_REQUEST_TIMEOUT');
  assert.equal(problem['status'], 408);
  assert.match(
    String(problem['detail']),
    /not received within the hub's headers or request timeout/,
  );

  // The stream outlived the timeouts (its request was complete): it still receives.
  assert.equal(watcher.ended, false);
  assert.equal((await hub.publish({ topic: TOPIC, data: 'after' })).status, 200);
  await watcher.waitForEvents(2);
  assert.deepEqual(
    watcher.events.map((event) => event.data),
    ['meanwhile', 'after'],
  );
  assert.deepEqual(hub.internalErrors, []);
});

test('a connection that sends nothing is closed after the headers timeout', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, ...FAST });
  const idle = await rawClient(t, hub);
  await closedWithin(idle, 10_000);
  const { status, problem } = problemOf(idle.received());
  assert.equal(status, 408);
  assert.equal(problem['code'], 'HERALD_ERR_REQUEST_TIMEOUT');
});

test('a publish whose body never arrives in full gets 408 and stores nothing', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, ...FAST });
  const watcher = await EventStream.open(t, hub.subscribeUrl([TOPIC]));
  const token = await hub.token({ publish: [TOPIC] });
  const body = new URLSearchParams({ topic: TOPIC, data: 'never finished' }).toString();
  const slow = await rawClient(t, hub);
  slow.socket.write(
    'POST /.well-known/mercure HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
      `Authorization: Bearer ${token}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
      `Content-Length: ${body.length + 100}\r\n\r\n${body}`,
  );
  await closedWithin(slow, 10_000);
  const { status, problem } = problemOf(slow.received());
  assert.equal(status, 408);
  assert.equal(problem['code'], 'HERALD_ERR_REQUEST_TIMEOUT');
  await expectNothingPublished(t, hub, watcher);

  // Counted like every refusal.
  const metrics = await (await fetch(new URL('/metrics', hub.hubUrl))).text();
  assert.match(metrics, /herald_errors_total\{code="HERALD_ERR_REQUEST_TIMEOUT"\} 1/);
  assert.deepEqual(hub.internalErrors, []);
});

test('headers over --max-header-size get 431 and publish nothing', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, maxHeaderBytes: 4096 });
  const watcher = await EventStream.open(t, hub.subscribeUrl([TOPIC]));
  const token = await hub.token({ publish: [TOPIC] });
  const big = await rawClient(t, hub);
  const body = new URLSearchParams({ topic: TOPIC, data: 'padded' }).toString();
  big.socket.write(
    'POST /.well-known/mercure HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
      `Authorization: Bearer ${token}\r\nX-Padding: ${'p'.repeat(5000)}\r\n` +
      `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
  await closedWithin(big, 10_000);
  const { status, problem } = problemOf(big.received());
  assert.equal(status, 431);
  assert.equal(problem['code'], 'HERALD_ERR_HEADERS_TOO_LARGE');
  assert.match(String(problem['detail']), /larger than this hub's maximum header size/);
  await expectNothingPublished(t, hub, watcher);

  // Just under the limit is served.
  const fits = await fetch(hub.hubUrl, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'X-Padding': 'p'.repeat(3000) },
    body: new URLSearchParams({ topic: TOPIC, data: 'fits' }),
  });
  assert.equal(fits.status, 200);
  await fits.text();
});

test('the default header limit (16 KiB) serves a request with a 10 KB cookie', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const response = await fetch(hub.subscribeUrl([TOPIC]), {
    headers: { Cookie: `other=${'c'.repeat(10_000)}` },
  });
  assert.equal(response.status, 200);
  await response.body?.cancel();
});

test('a request that is not HTTP gets 400 HERALD_ERR_MALFORMED_REQUEST', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const client = await rawClient(t, hub);
  client.socket.write('HELLO THERE\r\n\r\n');
  await closedWithin(client, 10_000);
  const { status, problem } = problemOf(client.received());
  assert.equal(status, 400);
  assert.equal(problem['code'], 'HERALD_ERR_MALFORMED_REQUEST');
});

test('a request with two Host headers gets 400 and a closed connection, whichever route it asks for', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const target = new URL(hub.subscribeUrl([TOPIC]));
  for (const path of [`${target.pathname}${target.search}`, '/healthz', '/metrics']) {
    const client = await rawClient(t, hub);
    // A proxy in front may have acted on either host: refused, as RFC 9112 §3.2 requires. The
    // second request on the connection is never read.
    client.socket.write(
      `GET ${path} HTTP/1.1\r\nHost: hub.example\r\nhost: evil.example\r\n\r\n` +
        'GET /healthz HTTP/1.1\r\nHost: hub.example\r\n\r\n',
    );
    await closedWithin(client, 10_000);
    const { status, problem } = problemOf(client.received());
    assert.equal(status, 400, path);
    assert.equal(problem['code'], 'HERALD_ERR_MALFORMED_REQUEST');
    assert.match(String(problem['detail']), /more than one Host header/);
    assert.equal(client.received().split('HTTP/1.1 ').length, 2, 'one response, then closed');
  }
  assert.equal(hub.herald.hub.subscriberCount, 0, 'no stream was opened');
});

test('a headers timeout longer than the request timeout is refused at start-up', async () => {
  const env = { HERALD_JWT_KEY: TEST_KEY };
  assert.throws(
    () => parseServeOptions(['--headers-timeout', '30s', '--request-timeout', '10s'], env),
    /--headers-timeout \(30000 ms\) must not exceed --request-timeout \(10000 ms\)/,
  );
  assert.throws(
    () => parseServeOptions(['--headers-timeout', '2m'], env),
    /--headers-timeout \(120000 ms\) must not exceed --request-timeout \(60000 ms\)/,
  );
  // No request timeout: any headers timeout will do.
  const parsed = parseServeOptions(['--headers-timeout', '2m', '--request-timeout', '0'], env);
  assert.equal(parsed !== 'help' && parsed.herald.requestTimeoutMs, null);
  await assert.rejects(
    startHerald({
      publisherJwtKey: TEST_KEY,
      subscriberJwtKey: TEST_KEY,
      port: 0,
      host: '127.0.0.1',
      store: { kind: 'memory' },
      headersTimeoutMs: 5000,
      requestTimeoutMs: 1000,
    }),
    /headersTimeoutMs \(5000\) must not exceed requestTimeoutMs \(1000\)/,
  );
});
