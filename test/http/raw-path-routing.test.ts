import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { connectHttp2, http2Request } from '../support/http2-client.ts';
import { startTestHub } from '../support/test-hub.ts';
import { selfSignedCertificate } from '../support/tls-certificate.ts';

/** One raw HTTP/1.1 request, written byte for byte (no client normalises the target). */
async function rawGet(
  origin: string,
  target: string,
): Promise<{ status: number; body: string; head: string }> {
  const { hostname, port } = new URL(origin);
  const socket = connect(Number(port), hostname);
  socket.write(`GET ${target} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`);
  let text = '';
  socket.setEncoding('latin1');
  for await (const chunk of socket) text += chunk as string;
  const [head = '', body = ''] = text.split('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), body, head };
}

// Targets that a URL parser (or a proxy in front) would read as another route than written.
const WALKS = [
  '/.well-known/mercure/..\\..\\metrics',
  '/.well-known/mercure/../../metrics',
  '/.well-known/mercure/%2e%2e/%2E%2E/metrics',
  '/.well-known/mercure/.%2e/.%2e/ui/',
  '/.well-known/mercure%2f..%2f..%2fmetrics',
  '/.well-known/mercure/..%5c..%5chealthz',
  '//metrics',
  '/ui/./index.html',
  '/ui/app.js/..',
  '/ui%2fapp.js',
  '/./herald-client.js',
  '/.well-known/mercure/subscriptions/../../../metrics',
  '/healthz/.',
  '/metrics\\',
  'http://herald.example/.well-known/mercure/../../metrics',
];

test('a path that normalisation would change is refused with 400 on every route, never routed', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, ui: true, subscriptions: true });
  const origin = new URL(hub.hubUrl).origin;
  for (const target of WALKS) {
    const answer = await rawGet(origin, target);
    assert.equal(answer.status, 400, `${target}: ${answer.head}`);
    const problem = JSON.parse(answer.body) as { code: string; detail: string };
    assert.equal(problem.code, 'HERALD_ERR_MALFORMED_PATH', target);
    assert.match(problem.detail, /normal form/);
    assert.doesNotMatch(answer.body, /herald_/, 'no metrics leak into the answer');
  }
  // The same routes in normal form still answer, and a query may hold anything.
  assert.equal((await rawGet(origin, '/metrics')).status, 200);
  assert.equal((await rawGet(origin, '/ui/app.js')).status, 200);
  assert.equal((await rawGet(origin, '/healthz?x=..\\..%2f')).status, 200);
  assert.equal((await rawGet(origin, 'http://herald.example/healthz')).status, 200);
  // A topic in the subscription API is one segment: its encoded "/" is not a separator.
  const token = await hub.token({ subscribe: ['/.well-known/mercure/subscriptions{/topic}'] });
  const api = await fetchWithToken(
    `${origin}/.well-known/mercure/subscriptions/${encodeURIComponent('https://ex.com/a')}`,
    token,
  );
  assert.equal(api, 200);
  assert.deepEqual(hub.internalErrors, []);
});

test('a query never hides a token in the refusal: only the path is echoed', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const origin = new URL(hub.hubUrl).origin;
  const answer = await rawGet(origin, '/.well-known/mercure/..?authorization=secret-token');
  assert.equal(answer.status, 400);
  assert.doesNotMatch(answer.body, /secret-token/);
});

test('over HTTP/2 the :path is routed raw too', async (t) => {
  const certificate = selfSignedCertificate();
  t.after(() => {
    certificate.remove();
  });
  const hub = await startTestHub(t, {
    anonymous: true,
    ui: true,
    tls: { cert: certificate.certPath, key: certificate.keyPath },
  });
  const session = await connectHttp2(t, new URL(hub.hubUrl).origin, certificate.cert);
  for (const path of ['/.well-known/mercure/..\\..\\metrics', '/ui/%2e%2e/metrics', '//metrics']) {
    const answer = await http2Request(session, { ':method': 'GET', ':path': path });
    assert.equal(answer.status, 400, path);
    assert.equal((JSON.parse(answer.body) as { code: string }).code, 'HERALD_ERR_MALFORMED_PATH');
  }
  const metrics = await http2Request(session, { ':method': 'GET', ':path': '/metrics' });
  assert.equal(metrics.status, 200);
});

async function fetchWithToken(url: string, token: string): Promise<number> {
  const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return response.status;
}
