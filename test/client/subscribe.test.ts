import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mintToken } from '../../src/auth/mint-token.ts';
import type { HeraldEvent, StateChange } from '../../src/client/index.ts';
import { HeraldClientError, publish, subscribe } from '../../src/client/index.ts';
import { startTestHub, TEST_KEY } from '../support/test-hub.ts';
import { startTcpProxy } from './tcp-proxy.ts';
import { waitFor } from '../support/wait.ts';

const TOPIC = 'https://example.com/books/1';
const FAST = { initialRetryDelay: 20, maxRetryDelay: 100 } as const;

test('events reach handlers by type and the iterator, in order, with their ids', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const publisher = await hub.token({ publish: ['*'] });
  const subscription = subscribe(hub.hubUrl, [TOPIC, 'https://example.com/other'], FAST);
  t.after(() => {
    subscription.close();
  });
  const changes: StateChange[] = [];
  subscription.onState((change) => changes.push(change));
  const messages: HeraldEvent[] = [];
  const pings: HeraldEvent[] = [];
  subscription.on('message', (event) => messages.push(event));
  subscription.on('ping', (event) => pings.push(event));
  const iterated: HeraldEvent[] = [];
  const iteration = (async () => {
    for await (const event of subscription) iterated.push(event);
  })();

  await waitFor(() => subscription.state === 'open', { message: 'open' });
  const first = await publish(hub.hubUrl, { topic: TOPIC, data: 'one\ntwo' }, { token: publisher });
  const second = await publish(
    hub.hubUrl,
    { topic: TOPIC, data: 'pong', type: 'ping' },
    { token: publisher },
  );
  await waitFor(() => iterated.length === 2, { message: 'two events' });
  assert.deepEqual(messages, [{ type: 'message', data: 'one\ntwo', id: first }]);
  assert.deepEqual(pings, [{ type: 'ping', data: 'pong', id: second }]);
  assert.deepEqual(iterated, [...messages, ...pings]);
  assert.equal(subscription.lastEventId, second);

  subscription.close();
  await iteration; // the iterator finishes when the subscription closes
  await subscription.closed;
  assert.deepEqual(
    changes.map(({ from, to }) => `${from}>${to}`),
    ['connecting>open', 'open>closed'],
  );
  assert.equal(subscription.error, undefined);
  assert.deepEqual(hub.internalErrors, []);
});

test('resumes after every cut with Last-Event-ID: 1,000 events, no gap, no duplicate', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const proxy = await startTcpProxy(t, hub.herald.port);
  const publisher = await hub.token({ publish: ['*'] });
  const subscription = subscribe(`http://127.0.0.1:${proxy.port}/.well-known/mercure`, TOPIC, FAST);
  t.after(() => {
    subscription.close();
  });
  const received: string[] = [];
  subscription.on('message', (event) => received.push(event.data));
  let opens = 0;
  const resumedAfter: (string | undefined)[] = [];
  subscription.onState((change) => {
    if (change.to !== 'open') return;
    opens++;
    resumedAfter.push(change.resumedAfter);
  });
  await waitFor(() => subscription.state === 'open', { message: 'open' });

  const published: string[] = [];
  let opensBeforeCut = 0;
  for (let batch = 0; batch < 20; batch++) {
    // Wait for the reconnection, then publish 50 updates in small batches; the proxy cuts the
    // stream after each batch, and every third time in the middle of one too.
    await waitFor(() => opens > opensBeforeCut, { message: 'the reconnection' });
    const inFlight = (async () => {
      for (let i = 0; i < 5; i++) {
        const updates = Array.from({ length: 10 }, (_, k) => ({
          topic: TOPIC,
          data: `n${batch * 50 + i * 10 + k}`,
        }));
        const ids = await publish(hub.hubUrl, updates, { token: publisher });
        assert.equal(ids.length, 10);
        published.push(...updates.map((update) => update.data));
      }
    })();
    if (batch % 3 === 1) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      proxy.cutAll();
    }
    await inFlight;
    opensBeforeCut = opens;
    proxy.cutAll();
  }
  assert.equal(published.length, 1000);
  // A marker published last: once it has arrived, anything duplicated would have come before it.
  await publish(hub.hubUrl, [{ topic: TOPIC, data: 'marker' }], { token: publisher });
  await waitFor(() => received.includes('marker'), { message: 'the marker, after 1,000 events' });
  assert.deepEqual(received, [...published, 'marker']);
  assert.ok(proxy.cuts >= 20, `the proxy cut ${proxy.cuts} connections`);
  assert.ok(opens >= 20, `the client opened ${opens} times`);
  // Every reconnection resumed from an id the hub knew: none fell back to `earliest`.
  assert.equal(resumedAfter[0], undefined);
  assert.ok(
    resumedAfter.slice(1).every((id) => id?.startsWith('urn:uuid:')),
    String(resumedAfter),
  );
});

test('a 401 calls the token function again once; with a fresh valid token it goes on', async (t) => {
  const hub = await startTestHub(t, { anonymous: false });
  const wrongKey = `${TEST_KEY}-but-another-one`;
  const tokens = [
    await mintToken({ key: wrongKey, algorithm: 'HS256', subscribe: ['*'] }),
    await hub.token({ subscribe: ['*'] }),
  ];
  let calls = 0;
  const subscription = subscribe(hub.hubUrl, TOPIC, {
    ...FAST,
    token: () => Promise.resolve(tokens[calls++]),
  });
  t.after(() => {
    subscription.close();
  });
  const errors: HeraldClientError[] = [];
  subscription.onError((error) => errors.push(error));
  await waitFor(() => subscription.state === 'open', { message: 'open' });
  assert.equal(calls, 2);
  assert.deepEqual(
    errors.map((error) => [error.code, error.status, error.hubCode]),
    [['HERALD_CLIENT_ERR_UNAUTHORIZED', 401, 'HERALD_ERR_INVALID_TOKEN']],
  );
  const id = await publish(
    hub.hubUrl,
    { topic: TOPIC, data: 'hi' },
    {
      token: await hub.token({ publish: ['*'] }),
    },
  );
  const [event] = await collect(subscription, 1);
  assert.deepEqual(event, { type: 'message', data: 'hi', id });
});

test('a 401 that a fresh token does not cure stops with a typed error', async (t) => {
  const hub = await startTestHub(t, { anonymous: false });
  const bad = await mintToken({ key: `${TEST_KEY}-other`, algorithm: 'HS256', subscribe: ['*'] });
  let calls = 0;
  const refreshing = subscribe(hub.hubUrl, TOPIC, {
    ...FAST,
    token: () => {
      calls++;
      return bad;
    },
  });
  await refreshing.closed;
  assert.equal(calls, 2);
  assert.ok(refreshing.error instanceof HeraldClientError);
  assert.equal(refreshing.error.code, 'HERALD_CLIENT_ERR_UNAUTHORIZED');
  assert.equal(refreshing.error.hubCode, 'HERALD_ERR_INVALID_TOKEN');

  // A fixed token cannot be refreshed: the first 401 stops, and no token at all is a 401 too.
  const fixed = subscribe(hub.hubUrl, TOPIC, { ...FAST, token: bad });
  const anonymous = subscribe(hub.hubUrl, TOPIC, FAST);
  const changes: string[] = [];
  anonymous.onState((change) => changes.push(`${change.from}>${change.to}`));
  await Promise.all([fixed.closed, anonymous.closed]);
  assert.equal(fixed.error?.code, 'HERALD_CLIENT_ERR_UNAUTHORIZED');
  assert.equal(anonymous.error?.hubCode, 'HERALD_ERR_UNAUTHORIZED');
  assert.deepEqual(changes, ['connecting>closed']);
  // The iterator of a subscription that stopped by itself throws why.
  await assert.rejects(
    (async () => {
      for await (const event of anonymous) assert.fail(`no event expected, got ${event.data}`);
    })(),
    (error) =>
      error instanceof HeraldClientError && error.code === 'HERALD_CLIENT_ERR_UNAUTHORIZED',
  );
});

test('private updates arrive with a subscribe token given as headers', async (t) => {
  const hub = await startTestHub(t, { anonymous: false });
  const token = await hub.token({ subscribe: [TOPIC] });
  const subscription = subscribe(hub.hubUrl, TOPIC, {
    ...FAST,
    headers: { Authorization: `Bearer ${token}` },
  });
  t.after(() => {
    subscription.close();
  });
  await waitFor(() => subscription.state === 'open', { message: 'open' });
  const id = await publish(
    hub.hubUrl,
    { topic: TOPIC, data: 'secret', private: true },
    {
      token: await hub.token({ publish: ['*'] }),
    },
  );
  assert.deepEqual(await collect(subscription, 1), [{ type: 'message', data: 'secret', id }]);
});

test('a starting lastEventId replays history, and `open` says where the hub resumed', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const token = await hub.token({ publish: ['*'] });
  const ids = await publish(
    hub.hubUrl,
    ['a', 'b', 'c'].map((data) => ({ topic: TOPIC, data, id: `urn:example:${data}-été` })),
    { token },
  );
  const resumed = subscribe(hub.hubUrl, TOPIC, { ...FAST, lastEventId: ids[0] });
  t.after(() => {
    resumed.close();
  });
  const opened = new Promise<StateChange>((resolve) => {
    resumed.onState((change) => {
      if (change.to === 'open') resolve(change);
    });
  });
  assert.deepEqual(
    (await collect(resumed, 2)).map((event) => event.id),
    ids.slice(1),
  );
  assert.equal((await opened).resumedAfter, ids[0]);

  // An id the hub does not know: it answers `earliest`, so the application knows it may have
  // missed events.
  const unknown = subscribe(hub.hubUrl, TOPIC, { ...FAST, lastEventId: 'urn:example:never' });
  t.after(() => {
    unknown.close();
  });
  const change = await new Promise<StateChange>((resolve) => {
    unknown.onState((c) => {
      if (c.to === 'open') resolve(c);
    });
  });
  assert.equal(change.resumedAfter, 'earliest');
});

test('breaking out of the iterator closes the subscription; a handler that throws does not', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const token = await hub.token({ publish: ['*'] });
  const subscription = subscribe(hub.hubUrl, TOPIC, FAST);
  t.after(() => {
    subscription.close();
  });
  const errors: HeraldClientError[] = [];
  subscription.onError((error) => errors.push(error));
  subscription.on('message', () => {
    throw new Error('handler bug');
  });
  await waitFor(() => subscription.state === 'open', { message: 'open' });
  await publish(
    hub.hubUrl,
    [
      { topic: TOPIC, data: '1' },
      { topic: TOPIC, data: '2' },
    ],
    { token },
  );
  const seen: string[] = [];
  for await (const event of subscription) {
    seen.push(event.data);
    if (seen.length === 2) break;
  }
  assert.deepEqual(seen, ['1', '2']);
  assert.equal(subscription.state, 'closed');
  assert.deepEqual(
    errors.map((error) => [error.code, (error.cause as Error).message]),
    [
      ['HERALD_CLIENT_ERR_HANDLER', 'handler bug'],
      ['HERALD_CLIENT_ERR_HANDLER', 'handler bug'],
    ],
  );
});

test('an AbortSignal closes the subscription, even one aborted before it starts', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const controller = new AbortController();
  const subscription = subscribe(hub.hubUrl, TOPIC, { ...FAST, signal: controller.signal });
  await waitFor(() => subscription.state === 'open', { message: 'open' });
  controller.abort();
  await subscription.closed;
  assert.equal(subscription.state, 'closed');
  await waitFor(() => hub.herald.hub.subscriberCount === 0, {
    message: 'the hub to see the subscriber go',
  });

  const early = subscribe(hub.hubUrl, TOPIC, { signal: AbortSignal.abort() });
  assert.equal(early.state, 'closed');
});

test('bad options are refused when the subscription is created', () => {
  const refused = (run: () => unknown) => {
    assert.throws(run, (error) => {
      return (
        error instanceof HeraldClientError && error.code === 'HERALD_CLIENT_ERR_INVALID_OPTION'
      );
    });
  };
  refused(() => subscribe('http://127.0.0.1:1/', []));
  refused(() => subscribe('not a url', TOPIC));
  refused(() => subscribe('http://127.0.0.1:1/', TOPIC, { stallTimeout: 0 }));
  refused(() => subscribe('http://127.0.0.1:1/', TOPIC, { initialRetryDelay: -1 }));
  refused(() =>
    subscribe('http://127.0.0.1:1/', TOPIC, { initialRetryDelay: 500, maxRetryDelay: 100 }),
  );
});

async function collect(
  subscription: AsyncIterable<HeraldEvent, undefined>,
  count: number,
): Promise<HeraldEvent[]> {
  const events: HeraldEvent[] = [];
  const iterator = subscription[Symbol.asyncIterator]();
  while (events.length < count) {
    const result = await iterator.next();
    if (result.done === true) break;
    events.push(result.value);
  }
  return events;
}
