import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Agent, fetch } from 'undici';
import { mintToken } from '../../src/auth/mint-token.ts';
import { clientKey } from '../../src/http/request/client-address.ts';
import { EventStream } from '../support/event-stream.ts';
import type { TestHub } from '../support/test-hub.ts';
import { startTestHub, TEST_KEY } from '../support/test-hub.ts';
import { waitFor } from '../support/wait.ts';

const TOPIC = 'https://example.com/rooms/1';

type Opened = EventStream & { errorBody?: string };

/** Asserts a 429 HERALD_ERR_TOO_MANY_STREAMS problem with an integer Retry-After. */
function expectTooMany(stream: Opened): void {
  assert.equal(stream.status, 429);
  assert.equal(stream.headers.get('content-type'), 'application/problem+json');
  const retryAfter = stream.headers.get('retry-after') ?? '';
  assert.match(retryAfter, /^[1-9][0-9]*$/);
  const problem = JSON.parse(stream.errorBody ?? '{}') as Record<string, unknown>;
  assert.equal(problem['code'], 'HERALD_ERR_TOO_MANY_STREAMS');
  assert.equal(problem['status'], 429);
  assert.match(String(problem['detail']), /already has 2 event streams open/);
  // Nothing of a stream was sent: no event, no opening comment.
  assert.ok(!(stream.errorBody ?? '').includes('data:'));
}

/** Publishes a marker and checks exactly `open` streams receive it, and the refused ones nothing. */
async function expectOnlyOpenStreamsDeliver(hub: TestHub, open: EventStream[], data: string) {
  assert.equal((await hub.publish({ topic: TOPIC, data })).status, 200);
  for (const stream of open) {
    await stream.until(() => stream.events.some((event) => event.data === data), data);
  }
}

test('a client past --max-streams-per-client gets 429 with Retry-After; closing a stream frees a place', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, maxStreamsPerClient: 2 });
  const first = await EventStream.open(t, hub.subscribeUrl([TOPIC]));
  const second = await EventStream.open(t, hub.subscribeUrl([TOPIC]));
  assert.equal(first.status, 200);
  assert.equal(second.status, 200);

  const refused = await EventStream.open(t, hub.subscribeUrl([TOPIC]));
  expectTooMany(refused);
  assert.equal(hub.herald.hub.subscriberCount, 2);
  await expectOnlyOpenStreamsDeliver(hub, [first, second], 'while full');

  // The count drops when a stream closes: a new stream is accepted, and only one.
  first.close();
  await waitFor(() => hub.herald.hub.subscriberCount === 1, {
    message: 'the closed stream to leave',
  });
  const third = await EventStream.open(t, hub.subscribeUrl([TOPIC]));
  assert.equal(third.status, 200);
  expectTooMany(await EventStream.open(t, hub.subscribeUrl([TOPIC])));
  await expectOnlyOpenStreamsDeliver(hub, [second, third], 'after one closed');
  assert.deepEqual(hub.internalErrors, []);
});

test('refused subscriptions, and streams the hub ends, give their place back', async (t) => {
  const hub = await startTestHub(t, { maxStreamsPerClient: 2, heartbeatMs: null });
  // Refused for a bad token many more times than the limit: none of them keeps a place.
  for (let i = 0; i < 5; i++) {
    const refused = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
      Authorization: 'Bearer not.a.jwt',
    });
    assert.equal(refused.status, 401);
  }
  // One of the two places is held by a stream whose token expires in a second or two.
  const token = (ttlSeconds?: number) =>
    mintToken({ key: TEST_KEY, algorithm: 'HS256', subscribe: [TOPIC], ttlSeconds });
  const open = async (ttlSeconds?: number) =>
    EventStream.open(t, hub.subscribeUrl([TOPIC]), {
      Authorization: `Bearer ${await token(ttlSeconds)}`,
    });
  const expiring = await open(2);
  const lasting = await open();
  assert.deepEqual([expiring.status, lasting.status], [200, 200]);
  expectTooMany(await open());
  // The hub ends the expiring stream: its place is free again.
  await expiring.waitForEnd(5000);
  await waitFor(() => hub.herald.hub.subscriberCount === 1, {
    message: 'the expired stream to leave',
  });
  assert.equal((await open()).status, 200);
  expectTooMany(await open());
  assert.equal(lasting.ended, false);
});

test('X-Forwarded-For is ignored unless the peer is a trusted proxy', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, maxStreamsPerClient: 2 });
  // Not trusted by default: a client cannot pose as others to get more streams.
  const streams = [];
  for (const forwarded of ['203.0.113.1', '203.0.113.2']) {
    streams.push(
      await EventStream.open(t, hub.subscribeUrl([TOPIC]), { 'X-Forwarded-For': forwarded }),
    );
  }
  expectTooMany(
    await EventStream.open(t, hub.subscribeUrl([TOPIC]), { 'X-Forwarded-For': '203.0.113.3' }),
  );
  assert.deepEqual(
    streams.map((stream) => stream.status),
    [200, 200],
  );
});

test('behind a trusted proxy, clients are told apart by X-Forwarded-For, read from the right', async (t) => {
  const hub = await startTestHub(t, {
    anonymous: true,
    maxStreamsPerClient: 2,
    trustedProxies: ['127.0.0.1', '10.0.0.0/8'],
  });
  const open = (forwarded: string) =>
    EventStream.open(t, hub.subscribeUrl([TOPIC]), { 'X-Forwarded-For': forwarded });

  // Two clients behind the proxy, two streams each.
  for (const client of ['198.51.100.7', '198.51.100.8']) {
    assert.equal((await open(client)).status, 200);
    // A second trusted proxy (10.1.2.3) in the chain is skipped.
    assert.equal((await open(`${client}, 10.1.2.3`)).status, 200);
  }
  expectTooMany(await open('198.51.100.7'));
  // A client prepending a forged address is still counted as the address the proxy saw.
  expectTooMany(await open('192.0.2.99, 198.51.100.8'));
  // A new client still gets in; so does one without the header (counted as the proxy itself).
  assert.equal((await open('198.51.100.9')).status, 200);
  assert.equal((await EventStream.open(t, hub.subscribeUrl([TOPIC]))).status, 200);
  // Something that is not an address cannot be told from a forgery: it counts as the proxy.
  assert.equal((await open('not-an-address')).status, 200);
  expectTooMany(await open('also-not-an-address'));
  assert.equal(hub.herald.hub.subscriberCount, 7);
});

test('a peer that is not a trusted proxy is counted by its own address, whatever it forwards', async (t) => {
  const hub = await startTestHub(t, {
    anonymous: true,
    maxStreamsPerClient: 2,
    trustedProxies: ['127.0.0.1'],
  });
  const fromOther = new Agent({ localAddress: '127.0.0.2' });
  const aborts: AbortController[] = [];
  t.after(async () => {
    for (const abort of aborts) abort.abort();
    await fromOther.close().catch(() => undefined);
  });
  const statuses: number[] = [];
  for (const forwarded of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) {
    const abort = new AbortController();
    aborts.push(abort);
    const response = await fetch(hub.subscribeUrl([TOPIC]), {
      headers: { 'X-Forwarded-For': forwarded },
      dispatcher: fromOther,
      signal: abort.signal,
    });
    statuses.push(response.status);
    if (response.status !== 200) await response.text();
  }
  assert.deepEqual(statuses, [200, 200, 429]);
  // The trusted proxy's clients are not affected by 127.0.0.2's streams.
  assert.equal(
    (await EventStream.open(t, hub.subscribeUrl([TOPIC]), { 'X-Forwarded-For': '198.51.100.1' }))
      .status,
    200,
  );
});

test('with no limit (null) a client may open more streams than the default-sized test needs', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, maxStreamsPerClient: null });
  const streams = await Promise.all(
    Array.from({ length: 20 }, () => EventStream.open(t, hub.subscribeUrl([TOPIC]))),
  );
  assert.ok(streams.every((stream) => stream.status === 200));
});

test('clients are keyed by IPv4 address, or by IPv6 /64', () => {
  assert.equal(clientKey('203.0.113.5'), '203.0.113.5');
  assert.equal(clientKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:0db8:0001:0002:ffff:0:0:9'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(clientKey('::1'), '0:0:0:0::/64');
  assert.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(clientKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
});
