import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SignJWT } from 'jose';
import { fetch } from 'undici';
import { SqliteBackend } from '../../src/backends/sqlite.ts';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub, TEST_KEY } from '../support/test-hub.ts';

const TOPIC = 'https://example.com/ids';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-ids-'));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

async function publishJson(hubUrl: string, token: string, body: unknown) {
  const response = await fetch(hubUrl, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text };
}

test('ids that a client could not resume from are refused at publish, and nothing is stored', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const token = await hub.token({ publish: ['*'] });
  const refused = [
    'control\u0001char',
    'del\u007fchar',
    'c1\u0085char',
    'tab\tinside',
    ' leading-space',
    'trailing-space ',
    '\u00a0nbsp-leading',
    'x'.repeat(1025),
    'é'.repeat(513),
  ];
  for (const id of refused) {
    const form = await hub.publish({ topic: TOPIC, data: 'x', id });
    assert.equal(form.status, 400, JSON.stringify(id));
    assert.equal((JSON.parse(form.body) as { code: string }).code, 'HERALD_ERR_INVALID_ID');
    const json = await publishJson(hub.hubUrl, token, { topic: TOPIC, data: 'x', id });
    assert.equal(json.status, 400, JSON.stringify(id));
  }
  // A lone surrogate can only come in JSON (a form body is UTF-8).
  const lone = await publishJson(hub.hubUrl, token, '{"topic":"t","id":"half-\\ud800"}');
  assert.equal(lone.status, 400);
  assert.match(lone.body, /HERALD_ERR_INVALID_ID/);
  const type = await hub.publish({ topic: TOPIC, data: 'x', type: 'bad\u0001type' });
  assert.equal(type.status, 400);
  assert.match(type.body, /HERALD_ERR_INVALID_TYPE/);
  // None of it was stored: from the start of history, only the marker comes.
  const marker = await hub.publish({ topic: TOPIC, data: 'marker', id: 'marker' });
  assert.equal(marker.status, 200);
  const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC], { lastEventID: 'earliest' }));
  const [only] = await stream.waitForEvents(1);
  assert.equal(only?.id, 'marker');
  // Ids that can go through a header (UTF-8, a surrogate pair, inner spaces) still resume.
  for (const id of ['commande-été', 'emoji-😀', 'inner space']) {
    assert.equal((await hub.publish({ topic: TOPIC, data: id, id })).status, 200);
  }
  const after = await hub.publish({ topic: TOPIC, data: 'after', id: 'after' });
  assert.equal(after.status, 200);
  const resumed = await fetch(hub.subscribeUrl([TOPIC]), {
    headers: { 'Last-Event-ID': Buffer.from('emoji-😀', 'utf8').toString('latin1') },
  });
  assert.equal(
    Buffer.from(resumed.headers.get('last-event-id') ?? '', 'latin1').toString('utf8'),
    'emoji-😀',
  );
  await resumed.body?.cancel();
  assert.deepEqual(hub.internalErrors, []);
});

test('values stored before the rule (an old file) never turn a later request into a 500', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'old.db');
  // History written by an older Herald, which refused only CR, LF and NUL.
  const old = SqliteBackend.open({ path, maxEvents: null, maxAgeMs: null });
  await old.append([
    { topics: [TOPIC], data: 'one', private: false, id: 'old\u0001id' },
    { topics: [TOPIC], data: 'two', private: false, id: ' spaced\u007f ' },
  ]);
  await old.close();
  const hub = await startTestHub(t, {
    store: { kind: 'sqlite', path },
    subscriptions: true,
    anonymous: true,
  });
  // Resuming from such an id by query parameter: the echoed header is escaped, not a 500.
  const stream = await EventStream.open(
    t,
    hub.subscribeUrl([TOPIC], { lastEventID: 'old\u0001id' }),
  );
  assert.equal(stream.status, 200);
  assert.equal(stream.headers.get('last-event-id'), 'old%01id');
  const [replayed] = await stream.waitForEvents(1);
  assert.equal(replayed?.data, 'two');
  // The subscription API stands at the newest id, which is one of them: still answered.
  const token = await hub.token({ subscribe: ['/.well-known/mercure/subscriptions'] });
  const api = await fetch(new URL('/.well-known/mercure/subscriptions', hub.hubUrl), {
    headers: { Authorization: `Bearer ${token}` },
  });
  assert.equal(api.status, 200);
  await api.text();
  assert.deepEqual(hub.internalErrors, []);
});

test('a stored id that claims the far future cannot break the ids generated after a restart', async (t) => {
  const dir = tempDir(t);
  const store = { kind: 'sqlite', path: join(dir, 'ids.db') } as const;
  const forged = 'urn:uuid:ffffffff-ffff-7fff-bfff-ffffffffffff';
  const first = await startTestHub(t, { store });
  assert.equal((await first.publish({ topic: TOPIC, data: 'forged', id: forged })).status, 200);
  await first.herald.close();
  const second = await startTestHub(t, { store });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const answer = await second.publish({ topic: TOPIC, data: String(i) });
    assert.equal(answer.status, 200);
    ids.push(answer.body);
  }
  const before = Date.now();
  for (const id of ids) {
    assert.match(
      id,
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    const ms = parseInt(id.slice(9, 17) + id.slice(18, 22), 16);
    assert.ok(Math.abs(ms - before) < 60_000, `${id} carries the time it was made`);
  }
  assert.deepEqual([...ids].sort(), ids, 'generated ids sort in the order they were issued');
});

test('a refused duplicate names the id that is taken (SQLite)', async (t) => {
  const dir = tempDir(t);
  const hub = await startTestHub(t, {
    store: { kind: 'sqlite', path: join(dir, 'dup.db') },
    refuseDuplicateIds: true,
  });
  assert.equal((await hub.publish({ topic: TOPIC, data: 'a', id: 'taken' })).status, 200);
  const again = await hub.publish({ topic: TOPIC, data: 'b', id: 'taken' });
  assert.equal(again.status, 409);
  const problem = JSON.parse(again.body) as { code: string; detail: string };
  assert.equal(problem.code, 'HERALD_ERR_DUPLICATE_ID');
  assert.equal(problem.detail, 'An update with id "taken" already exists.');
});

test('a registered claim of the wrong type (a numeric sub) refuses the token', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const key = new TextEncoder().encode(TEST_KEY);
  const wrongTypes: Record<string, unknown>[] = [
    { sub: 42 },
    { jti: 7 },
    { iss: ['a'] },
    { aud: [1] },
  ];
  for (const claims of wrongTypes) {
    const token = await new SignJWT({ mercure: { publish: ['*'] }, ...claims })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(key);
    const answer = await hub.publish({ topic: TOPIC, data: 'x' }, token);
    assert.equal(answer.status, 401, JSON.stringify(claims));
    const problem = JSON.parse(answer.body) as { code: string; reason: string };
    assert.equal(problem.code, 'HERALD_ERR_INVALID_TOKEN');
    assert.equal(problem.reason, 'invalid-claims');
  }
  // Nothing of those reached history.
  const marker = await hub.publish({ topic: TOPIC, data: 'marker' });
  const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC], { lastEventID: 'earliest' }));
  const [only] = await stream.waitForEvents(1);
  assert.equal(only?.id, marker.body);
});
