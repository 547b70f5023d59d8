import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { fetch } from 'undici';
import { mintToken } from '../../src/auth/mint-token.ts';
import { EventStream } from '../support/event-stream.ts';
import type { TestHub } from '../support/test-hub.ts';
import { startTestHub, TEST_KEY } from '../support/test-hub.ts';
import { sign } from '../auth/jwt-fixtures.ts';

const TOPIC = 'https://example.com/ticks';
// Rates well under 1/s: buckets do not refill while a test runs, however loaded the machine
// (the first test moves the hub's clock itself).
const SECRET = new TextEncoder().encode(TEST_KEY);

/** A publisher token for `sub` (none when undefined); `nonce` makes two tokens differ. */
function publisherToken(sub: string | undefined, nonce = 0): Promise<string> {
  return sign(
    { mercure: { publish: ['*'] }, nonce, ...(sub === undefined ? {} : { sub }) },
    { algorithm: 'HS256', key: SECRET },
  );
}

async function publishJson(hub: TestHub, token: string, updates: object[]) {
  const response = await fetch(hub.hubUrl, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(updates),
  });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

async function publishOne(hub: TestHub, token: string, data: string) {
  return publishJson(hub, token, [{ topic: TOPIC, data }]);
}

function expectRateLimited(result: Awaited<ReturnType<typeof publishJson>>): number {
  assert.equal(result.status, 429);
  assert.equal(result.headers.get('content-type'), 'application/problem+json');
  const retryAfter = result.headers.get('retry-after') ?? '';
  assert.match(retryAfter, /^[1-9][0-9]*$/, 'Retry-After is whole seconds, at least 1');
  const problem = JSON.parse(result.body) as Record<string, unknown>;
  assert.equal(problem['code'], 'HERALD_ERR_RATE_LIMITED');
  assert.equal(problem['status'], 429);
  assert.match(String(problem['detail']), /nothing was stored/);
  return Number(retryAfter);
}

/**
 * Everything history holds, oldest first: a marker is published (by a publisher of its own) and
 * history is read up to it.
 */
async function historyData(t: TestContext, hub: TestHub): Promise<string[]> {
  assert.equal((await hub.publish({ topic: TOPIC, data: 'history marker' })).status, 200);
  const history = await EventStream.open(t, hub.subscribeUrl(['*'], { lastEventID: 'earliest' }));
  const before = await history.eventsBefore('history marker');
  history.close();
  return before.map((event) => event.data);
}

/** What `watcher` received before a marker published now (by a publisher of its own). */
async function receivedData(hub: TestHub, watcher: EventStream): Promise<string[]> {
  assert.equal((await hub.publish({ topic: TOPIC, data: 'live marker' })).status, 200);
  return (await watcher.eventsBefore('live marker')).map((event) => event.data);
}

test('a publisher past its burst gets 429 with Retry-After, nothing of the refused request is stored, and it may publish again after', async (t) => {
  // The hub's rate limiter runs on this clock: the test moves it instead of sleeping.
  const clock = { now: 0 };
  const hub = await startTestHub(
    t,
    { anonymous: true, publishRate: 0.5, publishBurst: 3 },
    { clock: () => clock.now },
  );
  const watcher = await EventStream.open(t, hub.subscribeUrl(['*']));
  const token = await publisherToken('backend-a');
  for (const data of ['1', '2', '3']) {
    assert.equal((await publishOne(hub, token, data)).status, 200);
  }
  const retryAfter = expectRateLimited(await publishOne(hub, token, 'refused'));
  assert.ok(retryAfter <= 2, `Retry-After ${retryAfter} s for one update at 0.5/s`);

  // Not a moment before Retry-After; once it has passed, it fits again.
  clock.now = retryAfter * 1000 - 1;
  expectRateLimited(await publishOne(hub, token, 'still refused'));
  clock.now = retryAfter * 1000;
  assert.equal((await publishOne(hub, token, '4')).status, 200);

  assert.deepEqual(await receivedData(hub, watcher), ['1', '2', '3', '4']);
  assert.deepEqual(await historyData(t, hub), ['1', '2', '3', '4', 'live marker']);
  assert.deepEqual(hub.internalErrors, []);
});

test('a batch counts one per update: a batch larger than what is left is refused whole', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, publishRate: 0.1, publishBurst: 5 });
  const watcher = await EventStream.open(t, hub.subscribeUrl(['*']));
  const token = await publisherToken('backend-b');
  const batch = (prefix: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({ topic: TOPIC, data: `${prefix}${i}` }));
  assert.equal((await publishJson(hub, token, batch('a', 3))).status, 200);
  // Two left in the bucket: a batch of three is refused, and none of its updates is stored.
  const retryAfter = expectRateLimited(await publishJson(hub, token, batch('b', 3)));
  assert.ok(retryAfter >= 1);
  assert.equal((await publishJson(hub, token, batch('c', 2))).status, 200);
  assert.deepEqual(await receivedData(hub, watcher), ['a0', 'a1', 'a2', 'c0', 'c1']);
  assert.deepEqual(await historyData(t, hub), ['a0', 'a1', 'a2', 'c0', 'c1', 'live marker']);
});

test('a batch larger than the burst is accepted when the bucket is full', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, publishRate: 0.1, publishBurst: 2 });
  const token = await publisherToken('backend-c');
  const batch = Array.from({ length: 4 }, (_, i) => ({ topic: TOPIC, data: `${i}` }));
  assert.equal((await publishJson(hub, token, batch)).status, 200);
  expectRateLimited(await publishOne(hub, token, 'now empty'));
  assert.deepEqual(await historyData(t, hub), ['0', '1', '2', '3']);
});

test('publishers are told apart by sub: tokens of one sub share a bucket, others have their own', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, publishRate: 0.1, publishBurst: 2 });
  const a1 = await publisherToken('backend-a', 1);
  const a2 = await publisherToken('backend-a', 2);
  const b = await publisherToken('backend-b');
  assert.equal((await publishOne(hub, a1, 'a1')).status, 200);
  assert.equal((await publishOne(hub, a2, 'a2')).status, 200);
  // backend-a's two tokens emptied one bucket.
  expectRateLimited(await publishOne(hub, a1, 'a1 again'));
  expectRateLimited(await publishOne(hub, a2, 'a2 again'));
  // backend-b is unaffected.
  assert.equal((await publishOne(hub, b, 'b')).status, 200);
  // Tokens without sub: each token is its own publisher.
  const anon1 = await publisherToken(undefined, 1);
  const anon2 = await publisherToken(undefined, 2);
  for (const token of [anon1, anon1, anon2, anon2]) {
    assert.equal((await publishOne(hub, token, 'no sub')).status, 200);
  }
  expectRateLimited(await publishOne(hub, anon1, 'no sub, again'));
  assert.deepEqual(await historyData(t, hub), [
    'a1',
    'a2',
    'b',
    'no sub',
    'no sub',
    'no sub',
    'no sub',
  ]);
});

test('an empty bucket refuses before the body is read; rejected requests do not spend it', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, publishRate: 0.1, publishBurst: 2 });
  const token = await publisherToken('backend-d');
  // Refused for other reasons (403, 400): nothing is spent.
  const forbidden = await mintToken({ key: TEST_KEY, algorithm: 'HS256', publish: ['https://x/'] });
  for (let i = 0; i < 3; i++) {
    const bad = await publishJson(hub, token, [{ topic: TOPIC, data: 'x', unknown: true }]);
    assert.equal(bad.status, 400);
  }
  assert.equal((await publishOne(hub, forbidden, 'x')).status, 403);
  assert.equal((await publishOne(hub, token, '1')).status, 200);
  assert.equal((await publishOne(hub, token, '2')).status, 200);
  // Now empty: a large body is refused without being read (the connection is then closed).
  const response = await fetch(hub.hubUrl, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify([{ topic: TOPIC, data: 'y'.repeat(500_000) }]),
  });
  // Refused before the body was read: the hub closes the connection rather than drain it.
  assert.equal(response.headers.get('connection'), 'close');
  expectRateLimited({
    status: response.status,
    headers: response.headers,
    body: await response.text(),
  });
  assert.deepEqual(await historyData(t, hub), ['1', '2']);
});

test('with no limit (null) one publisher may publish past the default burst', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, publishRate: null, publishBurst: 1 });
  const token = await publisherToken('backend-e');
  for (let i = 0; i < 5; i++) assert.equal((await publishOne(hub, token, `${i}`)).status, 200);
});
