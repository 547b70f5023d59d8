import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as tlsConnect } from 'node:tls';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { Agent, fetch, setGlobalDispatcher } from 'undici';
import { mintToken } from '../../src/auth/mint-token.ts';
import { startHerald } from '../../src/herald.ts';
import { TlsCredentialsError } from '../../src/http/tls-credentials.ts';
import { runCli } from '../support/cli.ts';
import { EventStream } from '../support/event-stream.ts';
import { connectHttp2, Http2EventStream, http2Request } from '../support/http2-client.ts';
import { TEST_KEY, startTestHub } from '../support/test-hub.ts';
import type { TestHub } from '../support/test-hub.ts';
import { selfSignedCertificate } from '../support/tls-certificate.ts';
import { waitFor } from '../support/wait.ts';

const TOPIC = 'https://example.com/tls/feed';
const FORM = 'application/x-www-form-urlencoded';

const certificate = selfSignedCertificate();
after(() => {
  certificate.remove();
});
// undici (HTTP/1.1: the test hub's publish, EventStream, fetch) trusts the test certificate.
setGlobalDispatcher(new Agent({ connect: { ca: certificate.cert } }));

const TLS = { cert: certificate.certPath, key: certificate.keyPath };

// Node's HTTP/2 compatibility layer drops a connection-specific header with a warning, rather
// than failing: a header HTTP/2 forbids shows up here.
const warnings: string[] = [];
process.on('warning', (warning) => warnings.push(`${warning.name}: ${warning.message}`));

function subscribePath(hub: TestHub, topics: string[] = [TOPIC]): string {
  const url = new URL(hub.subscribeUrl(topics));
  return url.pathname + url.search;
}

function requestLogs(hub: TestHub, method: string): Record<string, unknown>[] {
  return hub.logs.filter((line) => line['msg'] === 'request' && line['method'] === method);
}

test('over HTTP/2, twenty event streams on one connection all receive a publish made on it', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, ui: true, tls: TLS });
  assert.match(hub.hubUrl, /^https:\/\/127\.0\.0\.1:\d+\/\.well-known\/mercure$/);
  const origin = new URL(hub.hubUrl).origin;
  const session = await connectHttp2(t, origin, certificate.cert);
  assert.equal(session.alpnProtocol, 'h2');

  const streams = await Promise.all(
    Array.from({ length: 20 }, () => Http2EventStream.open(session, subscribePath(hub))),
  );
  for (const stream of streams) {
    assert.equal(stream.status, 200);
    assert.equal(stream.headers['content-type'], 'text/event-stream; charset=utf-8');
    // HTTP/2 forbids connection-specific headers; Node's client would refuse the response.
    assert.equal(stream.headers['connection'], undefined);
    assert.equal(stream.stream.session, session);
  }
  await waitFor(() => hub.herald.hub.subscriberCount === 20, { message: '20 subscribers' });

  const token = await hub.token({ publish: [TOPIC] });
  const published = await http2Request(
    session,
    {
      ':method': 'POST',
      ':path': new URL(hub.hubUrl).pathname,
      authorization: `Bearer ${token}`,
      'content-type': FORM,
    },
    new URLSearchParams({ topic: TOPIC, data: 'to all twenty', id: 'h2-1' }).toString(),
  );
  assert.equal(published.status, 200);
  assert.equal(published.body, 'h2-1');
  for (const stream of streams) {
    assert.deepEqual(await stream.waitForEvents(1), [
      { id: 'h2-1', event: undefined, data: 'to all twenty' },
    ]);
  }
  // Every request came over the one connection, and the hub saw HTTP/2.
  assert.deepEqual(
    requestLogs(hub, 'POST').map((line) => line['httpVersion']),
    ['2.0'],
  );
  assert.deepEqual(warnings, []);
  assert.deepEqual(hub.internalErrors, []);
});

test('over HTTP/2, every other route answers: health, metrics, UI, client bundle, problems', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, ui: true, tls: TLS });
  const session = await connectHttp2(t, new URL(hub.hubUrl).origin, certificate.cert);
  const get = (path: string) => http2Request(session, { ':path': path });

  assert.deepEqual([(await get('/healthz')).body, (await get('/readyz')).body], ['ok', 'ready']);
  const metrics = await get('/metrics');
  assert.equal(metrics.status, 200);
  assert.match(metrics.body, /^herald_connections /m);
  const ui = await get('/ui/');
  assert.equal(ui.status, 200);
  assert.match(ui.body, /<html/i);
  // The dashboard's own event stream.
  const stats = await Http2EventStream.open(session, '/ui/stats');
  assert.equal(stats.status, 200);
  // The feed sends the busiest topics at once and the sampled series once a second.
  await stats.until(
    () => stats.events.some((event) => event.event === 'samples'),
    'a samples event',
    10_000,
  );
  const samples = stats.events.find((event) => event.event === 'samples');
  const { series } = JSON.parse(samples?.data ?? '{}') as { series?: { connections?: unknown } };
  assert.ok(Array.isArray(series?.connections), samples?.data);
  assert.equal(typeof series.connections[0], 'number', samples?.data);
  stats.stream.close();
  const bundle = await get('/herald-client.js');
  assert.equal(bundle.status, 200, 'the browser bundle is built (npm run build)');
  assert.match(String(bundle.headers['content-type']), /^text\/javascript/);

  const missing = await get('/nowhere');
  assert.equal(missing.status, 404);
  assert.equal((JSON.parse(missing.body) as { code: string }).code, 'HERALD_ERR_NOT_FOUND');
  // A refused publish with a body the hub never reads: just this stream ends, not the connection.
  const refused = await http2Request(
    session,
    { ':method': 'POST', ':path': new URL(hub.hubUrl).pathname, 'content-type': FORM },
    new URLSearchParams({ topic: TOPIC, data: 'x'.repeat(100_000) }).toString(),
  );
  assert.equal(refused.status, 401);
  assert.equal((JSON.parse(refused.body) as { code: string }).code, 'HERALD_ERR_UNAUTHORIZED');
  assert.equal(refused.headers['connection'], undefined);
  assert.equal((await get('/healthz')).status, 200, 'the connection still serves');
  assert.equal(hub.herald.hub.stats.published, 0, 'nothing was published');
  assert.deepEqual(warnings, []);
  assert.deepEqual(hub.internalErrors, []);
});

test('over HTTPS with HTTP/1.1, undici publishes and subscribes; ALPN picks h2 or http/1.1 as asked', async (t) => {
  const hub = await startTestHub(t, { tls: TLS });
  const { hostname, port } = new URL(hub.hubUrl);

  const negotiate = async (protocols: string[] | undefined): Promise<string | false | null> => {
    const socket = tlsConnect({
      host: hostname,
      port: Number(port),
      ca: certificate.cert,
      servername: 'localhost',
      ...(protocols === undefined ? {} : { ALPNProtocols: protocols }),
    });
    t.after(() => socket.destroy());
    await once(socket, 'secureConnect');
    const chosen = socket.alpnProtocol;
    socket.destroy();
    return chosen;
  };
  assert.equal(await negotiate(['h2', 'http/1.1']), 'h2');
  assert.equal(await negotiate(['http/1.1', 'h2']), 'h2', 'the server prefers h2');
  assert.equal(await negotiate(['http/1.1']), 'http/1.1');
  // A client that offers no ALPN at all speaks HTTP/1.1.
  assert.equal(await negotiate(undefined), false);

  const subscriber = await hub.token({ subscribe: [TOPIC] });
  const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
    Authorization: `Bearer ${subscriber}`,
  });
  assert.equal(stream.status, 200);
  assert.equal(stream.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const result = await hub.publish({ topic: TOPIC, data: 'private over 1.1', private: 'on' });
  assert.equal(result.status, 200);
  const [event] = await stream.waitForEvents(1);
  assert.equal(event?.data, 'private over 1.1');
  assert.deepEqual(
    requestLogs(hub, 'POST').map((line) => line['httpVersion']),
    ['1.1'],
  );

  const refused = await fetch(hub.hubUrl, {
    method: 'POST',
    body: new URLSearchParams({ topic: TOPIC, data: 'no token' }),
  });
  assert.equal(refused.status, 401);
  assert.equal(((await refused.json()) as { code: string }).code, 'HERALD_ERR_UNAUTHORIZED');
  assert.deepEqual(hub.internalErrors, []);
});

test('over HTTP/2, a stream that stops reading is dropped at its cap; another on the same connection gets everything', async (t) => {
  const cap = 256 * 1024;
  const hub = await startTestHub(t, { anonymous: true, maxUnsentBytes: cap, tls: TLS });
  const session = await connectHttp2(t, new URL(hub.hubUrl).origin, certificate.cert);
  const healthy = await Http2EventStream.open(session, subscribePath(hub));
  const stalled = await Http2EventStream.open(session, subscribePath(hub));
  // It stops reading: no WINDOW_UPDATE for it, so the hub's frames for it queue up.
  stalled.stream.pause();
  await waitFor(() => hub.herald.hub.subscriberCount === 2, { message: '2 subscribers' });

  const payload = 'x'.repeat(16 * 1024);
  let published = 0;
  while (hub.herald.hub.subscriberCount === 2 && published < 1000) {
    const result = await hub.publish({ topic: TOPIC, data: `${published} ${payload}` });
    assert.equal(result.status, 200);
    published++;
  }
  assert.equal(hub.herald.hub.subscriberCount, 1, `dropped after ${published} updates`);
  // The drop resets only that stream; the connection and its other stream carry on.
  stalled.stream.resume();
  await stalled.waitForEnd();
  assert.ok(stalled.events.length < published, 'what it never read was discarded');
  assert.equal(session.destroyed, false);

  await hub.publish({ topic: TOPIC, data: 'after the drop' });
  const events = await healthy.waitForEvents(published + 1, 20_000);
  assert.deepEqual(
    events.slice(0, published).map((event) => Number(event.data.split(' ')[0])),
    Array.from({ length: published }, (_, i) => i),
  );
  assert.equal(events.at(-1)?.data, 'after the drop');
  const metrics = await (await fetch(new URL('/metrics', hub.hubUrl))).text();
  assert.match(metrics, /^herald_slow_consumers_dropped_total 1$/m);
  assert.deepEqual(hub.internalErrors, []);
});

test('over HTTP/2, a replay far past the high-water mark waits for drain and arrives whole, in order', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, tls: TLS });
  const payload = 'y'.repeat(4 * 1024);
  const count = 200; // 800 KiB: the replay pauses on drain many times over.
  for (let i = 0; i < count; i += 50) {
    const batch = Array.from({ length: 50 }, (_, j) => ({
      topic: TOPIC,
      data: `${i + j} ${payload}`,
    }));
    const response = await fetch(hub.hubUrl, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${await hub.token({ publish: [TOPIC] })}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify(batch),
    });
    assert.equal(response.status, 200);
  }
  const session = await connectHttp2(t, new URL(hub.hubUrl).origin, certificate.cert);
  const stream = await Http2EventStream.open(
    session,
    subscribePath(hub, [TOPIC]) + '&lastEventID=earliest',
  );
  const events = await stream.waitForEvents(count, 20_000);
  assert.deepEqual(
    events.map((event) => Number(event.data.split(' ')[0])),
    Array.from({ length: count }, (_, i) => i),
  );
  assert.deepEqual(warnings, [], 'no listener piles up on the response');
  assert.deepEqual(hub.internalErrors, []);
});

test('over HTTP/2, heartbeats flow and a stream ends cleanly when its token expires', async (t) => {
  const hub = await startTestHub(t, { heartbeatMs: 100, tls: TLS });
  const session = await connectHttp2(t, new URL(hub.hubUrl).origin, certificate.cert);
  const token = await mintToken({
    key: TEST_KEY,
    algorithm: 'HS256',
    subscribe: [TOPIC],
    ttlSeconds: 2,
  });
  const stream = await Http2EventStream.open(session, subscribePath(hub), {
    authorization: `Bearer ${token}`,
  });
  assert.equal(stream.status, 200);
  // The opening comment, then heartbeats.
  await stream.until(() => stream.comments >= 4, 'three heartbeats');
  await stream.waitForEnd(10_000);
  // Ended by the hub with END_STREAM, not reset: the client reconnects with a fresh token.
  assert.equal(stream.stream.rstCode, 0);
  assert.equal(session.destroyed, false, 'the connection stays open for the reconnection');
  await waitFor(() => hub.herald.hub.subscriberCount === 0, { message: 'the subscriber to leave' });
  const metrics = await http2Request(session, { ':path': '/metrics' });
  assert.match(metrics.body, /^herald_expired_streams_total 1$/m);
  assert.deepEqual(hub.internalErrors, []);
});

test('shutdown sends GOAWAY and ends HTTP/2 and HTTP/1.1 streams without waiting for the timeout', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, tls: TLS, shutdownTimeoutMs: 60_000 });
  const origin = new URL(hub.hubUrl).origin;
  const busy = await connectHttp2(t, origin, certificate.cert);
  const idle = await connectHttp2(t, origin, certificate.cert);
  const goaways: number[] = [];
  for (const session of [busy, idle]) {
    session.on('goaway', (code: number) => goaways.push(code));
  }
  const h2Streams = await Promise.all(
    Array.from({ length: 3 }, () => Http2EventStream.open(busy, subscribePath(hub))),
  );
  const h1Stream = await EventStream.open(t, hub.subscribeUrl([TOPIC]));
  await waitFor(() => hub.herald.hub.subscriberCount === 4, { message: '4 subscribers' });

  const closed = hub.herald.close().then(() => 'closed');
  // Bounded far below the 60 s timeout: only a graceful close gets there in time.
  const outcome = await Promise.race([
    closed,
    new Promise((resolve) => setTimeout(resolve, 20_000, 'still open')),
  ]);
  assert.equal(outcome, 'closed');
  assert.deepEqual(goaways, [0, 0], 'GOAWAY with NO_ERROR on both connections');
  for (const stream of h2Streams) {
    await stream.waitForEnd();
    assert.equal(stream.stream.rstCode, 0, 'each stream ended, not reset');
  }
  await h1Stream.waitForEnd();
  await waitFor(() => busy.closed && idle.closed, { message: 'both connections to close' });
});

test('startHerald serves TLS from PEM text too, and refuses a missing file, a foreign key or a non-certificate', async (t) => {
  const options = {
    publisherJwtKey: TEST_KEY,
    subscriberJwtKey: TEST_KEY,
    host: '127.0.0.1',
    port: 0,
    store: { kind: 'memory' } as const,
  };
  const logger = pino({ level: 'silent' });
  const fromText = await startHerald(
    { ...options, tls: { cert: certificate.cert, key: certificate.key } },
    { logger },
  );
  t.after(() => fromText.close());
  assert.match(fromText.hubUrl, /^https:/);
  assert.equal((await fetch(new URL('/healthz', fromText.hubUrl))).status, 200);

  const other = selfSignedCertificate('other');
  t.after(() => {
    other.remove();
  });
  const refusals: [{ cert: string; key: string }, RegExp][] = [
    [
      { cert: `${certificate.dir}/missing.pem`, key: certificate.keyPath },
      /^tls\.cert must be PEM text or the path of a PEM file; ".*missing\.pem" cannot be read \(ENOENT\)\.$/,
    ],
    [
      { cert: certificate.certPath, key: `${certificate.dir}/missing.pem` },
      /^tls\.key must be PEM text or the path of a PEM file; the file cannot be read \(ENOENT\)\.$/,
    ],
    [
      { cert: certificate.certPath, key: other.keyPath },
      /^tls\.key is not the private key of the certificate in tls\.cert \(subject CN=localhost\)\.$/,
    ],
    [
      { cert: certificate.keyPath, key: certificate.keyPath },
      /^tls\.cert does not hold a PEM certificate that parses/,
    ],
    [
      { cert: certificate.certPath, key: certificate.certPath },
      /^tls\.key does not hold a PEM private key that parses/,
    ],
  ];
  for (const [tls, message] of refusals) {
    await assert.rejects(startHerald({ ...options, tls }, { logger }), (error: unknown) => {
      assert.ok(error instanceof TlsCredentialsError);
      assert.match(error.message, message);
      assert.ok(!error.message.includes('PRIVATE KEY'), 'no key material in the message');
      return true;
    });
  }
});

test('herald serve --tls-cert --tls-key serves HTTPS with HTTP/2; half a pair or a bad file is refused', async (t) => {
  const KEY = 'a-configured-key-of-at-least-thirty-two-bytes';
  const cli = runCli(t, ['serve', '--port', '0', '--host', '127.0.0.1', '--store', 'memory'], {
    HERALD_JWT_KEY: KEY,
    HERALD_TLS_CERT: certificate.certPath,
    HERALD_TLS_KEY: certificate.keyPath,
  });
  const hubUrl = await cli.ready;
  assert.match(hubUrl, /^https:\/\/127\.0\.0\.1:\d+\/\.well-known\/mercure$/);
  const session = await connectHttp2(t, new URL(hubUrl).origin, certificate.cert);
  assert.equal((await http2Request(session, { ':path': '/healthz' })).body, 'ok');
  assert.equal((await fetch(new URL('/healthz', hubUrl))).status, 200, 'and HTTP/1.1');
  session.close();
  cli.child.kill('SIGTERM');
  assert.equal(await cli.exited, 0);

  const flags = ['serve', '--port', '0', '--host', '127.0.0.1', '--store', 'memory'];
  const other = selfSignedCertificate('other');
  t.after(() => {
    other.remove();
  });
  const refusals: [string[], Record<string, string>, RegExp][] = [
    [
      ['--tls-cert', certificate.certPath],
      {},
      /--tls-cert is set but --tls-key \(HERALD_TLS_KEY\) is not: HTTPS needs both a certificate and its private key\./,
    ],
    [
      [],
      { HERALD_TLS_KEY: certificate.keyPath },
      /HERALD_TLS_KEY is set but --tls-cert \(HERALD_TLS_CERT\) is not/,
    ],
    [
      ['--tls-cert', '/nonexistent/cert.pem', '--tls-key', certificate.keyPath],
      {},
      /--tls-cert must be PEM text or the path of a PEM file; "\/nonexistent\/cert\.pem" cannot be read \(ENOENT\)/,
    ],
    [
      ['--tls-cert', certificate.certPath, '--tls-key', other.keyPath],
      {},
      /--tls-key is not the private key of the certificate in --tls-cert/,
    ],
  ];
  for (const [args, env, message] of refusals) {
    const refused = runCli(t, [...flags, ...args], { HERALD_JWT_KEY: KEY, ...env });
    assert.equal(await refused.exited, 2, refused.stderr);
    assert.match(refused.stderr, message);
    assert.ok(!refused.stderr.includes('PRIVATE KEY'), 'no key material printed');
    assert.equal(refused.stdout, '', 'nothing started');
  }
});

test('shutdown does not wait for an HTTPS/1.1 connection that carries no request, nor an idle HTTP/2 one', async (t) => {
  const hub = await startTestHub(t, {
    anonymous: true,
    tls: TLS,
    shutdownTimeoutMs: 60_000,
    headersTimeoutMs: 60_000,
  });
  const origin = new URL(hub.hubUrl).origin;
  const silent = tlsConnect({
    host: '127.0.0.1',
    port: hub.herald.port,
    ca: certificate.cert,
    servername: 'localhost',
    ALPNProtocols: ['http/1.1'],
  });
  t.after(() => silent.destroy());
  await once(silent, 'secureConnect');
  assert.equal(silent.alpnProtocol, 'http/1.1');
  const silentClosed = once(silent, 'close');
  const idle = await connectHttp2(t, origin, certificate.cert);
  assert.equal((await http2Request(idle, { ':path': '/healthz' })).status, 200);
  const busy = await connectHttp2(t, origin, certificate.cert);
  const stream = await Http2EventStream.open(busy, subscribePath(hub));

  const closed = hub.herald.close().then(() => 'closed');
  const outcome = await Promise.race([
    closed,
    new Promise((resolve) => setTimeout(resolve, 20_000, 'still open').unref()),
  ]);
  assert.equal(outcome, 'closed');
  await stream.waitForEnd();
  await silentClosed;
  await waitFor(() => busy.closed && idle.closed, { message: 'both HTTP/2 connections to close' });
});
