import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetch } from 'undici';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub } from '../support/test-hub.ts';

const APP = 'https://app.example.com';
const EVIL = 'https://evil.example.net';
const TOPIC = 'https://example.com/cart';

test('CORS answers allowed origins with credentials, and nobody else', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, corsOrigins: [APP] });
  const preflight = await fetch(hub.hubUrl, {
    method: 'OPTIONS',
    headers: {
      Origin: APP,
      'Access-Control-Request-Method': 'GET',
      'Access-Control-Request-Headers': 'authorization, last-event-id',
    },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), APP);
  assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
  assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Authorization/);
  assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Last-Event-ID/);

  const denied = await fetch(hub.hubUrl, {
    method: 'OPTIONS',
    headers: { Origin: EVIL, 'Access-Control-Request-Method': 'POST' },
  });
  assert.equal(denied.headers.get('access-control-allow-origin'), null);

  const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC]), { Origin: APP });
  assert.equal(stream.headers.get('access-control-allow-origin'), APP);
  assert.match(stream.headers.get('vary') ?? '', /Origin/);
});

test('a publish authorized by cookie must come from an allowed origin', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, corsOrigins: [APP] });
  const watcher = await EventStream.open(t, hub.subscribeUrl([TOPIC]));
  const token = await hub.token({ publish: [TOPIC] });
  const publishWithCookie = (headers: Record<string, string>, data: string) =>
    fetch(hub.hubUrl, {
      method: 'POST',
      headers: { Cookie: `mercureAuthorization=${token}`, ...headers },
      body: new URLSearchParams({ topic: TOPIC, data }),
    });

  for (const headers of [{}, { Origin: EVIL }, { Referer: `${EVIL}/page` }]) {
    const refused = await publishWithCookie(headers, 'forged');
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { code: string }).code, 'HERALD_ERR_CSRF');
  }
  const fromApp = await publishWithCookie({ Origin: APP }, 'from app');
  assert.equal(fromApp.status, 200);
  const fromReferer = await publishWithCookie(
    { Referer: `${APP}/checkout?step=2` },
    'from referer',
  );
  assert.equal(fromReferer.status, 200);
  assert.deepEqual(
    (await watcher.waitForEvents(2)).map((event) => event.data),
    ['from app', 'from referer'],
  );
  assert.equal(watcher.events.length, 2);
});
