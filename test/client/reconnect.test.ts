import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FetchFunction, StateChange } from '../../src/client/index.ts';
import { HeraldClientError, subscribe } from '../../src/client/index.ts';
import { startRawServer } from './raw-server.ts';
import { waitFor } from '../support/wait.ts';

const FAST = { initialRetryDelay: 5, maxRetryDelay: 20 } as const;

function stream(body: string) {
  return (_req: unknown, res: import('node:http').ServerResponse) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8' });
    res.end(body);
  };
}

test('Last-Event-ID goes with every reconnection, as UTF-8 bytes, and no sooner than set', async (t) => {
  const bodies = [': hi\n\n', 'id: a\ndata: 1\n\n', 'id: b-été\ndata: 2\n\n', 'data: 3\n\n', ''];
  const server = await startRawServer(t, (req, res, index) => {
    stream(bodies[index] ?? '')(req, res);
  });
  const subscription = subscribe(server.url, 'topic', FAST);
  t.after(() => {
    subscription.close();
  });
  await waitFor(() => server.requests.length >= 5, { message: 'five connections' });
  subscription.close();
  // Node's http parser hands header bytes over as Latin-1: UTF-8 bytes show as 'b-Ã©tÃ©'.
  const utf8 = Buffer.from('b-été', 'utf8').toString('latin1');
  assert.deepEqual(
    server.requests.slice(0, 5).map((request) => request.headers['last-event-id']),
    // None before an id was seen; an event without an id keeps the last one.
    [undefined, undefined, 'a', utf8, utf8],
  );
  assert.equal(subscription.lastEventId, 'b-été');
  assert.equal(server.requests[0]?.headers.accept, 'text/event-stream');
});

test('the starting lastEventId is sent on the first connection; headers and token functions run on every one', async (t) => {
  const server = await startRawServer(t, stream('data: x\n\n'));
  let calls = 0;
  const subscription = subscribe(server.url, ['a', 'b'], {
    ...FAST,
    lastEventId: 'urn:start',
    headers: async () => {
      await Promise.resolve();
      return { 'X-Attempt': String(++calls) };
    },
    token: () => `token-${calls}`,
  });
  t.after(() => {
    subscription.close();
  });
  await waitFor(() => server.requests.length >= 2, { message: 'two connections' });
  subscription.close();
  const [first, second] = server.requests.map((request) => request.headers);
  assert.equal(first?.['last-event-id'], 'urn:start');
  assert.equal(first['x-attempt'], '1');
  assert.equal(first.authorization, 'Bearer token-1');
  assert.equal(second?.['x-attempt'], '2');
  assert.equal(second.authorization, 'Bearer token-2');
});

test('5xx and network errors are retried until the hub answers', async (t) => {
  const server = await startRawServer(t, (req, res, index) => {
    if (index === 0) res.writeHead(500).end();
    else if (index === 1) res.socket?.destroy();
    else if (index === 2) res.writeHead(429).end();
    else stream('data: finally\n\n')(req, res);
  });
  const subscription = subscribe(server.url, 'topic', FAST);
  t.after(() => {
    subscription.close();
  });
  const errors: string[] = [];
  subscription.onError((error) => errors.push(error.code));
  const data: string[] = [];
  subscription.on('message', (event) => data.push(event.data));
  await waitFor(() => data.length > 0, { message: 'an event' });
  subscription.close();
  assert.deepEqual(errors.slice(0, 3), [
    'HERALD_CLIENT_ERR_RETRYABLE_STATUS',
    'HERALD_CLIENT_ERR_NETWORK',
    'HERALD_CLIENT_ERR_RETRYABLE_STATUS',
  ]);
});

test('204, a wrong content type and other 4xx stop with a typed error; 403 after one refresh', async (t) => {
  const cases = [
    { answer: { status: 204 }, code: 'HERALD_CLIENT_ERR_NO_CONTENT', requests: 1 },
    {
      answer: { status: 200, type: 'text/plain' },
      code: 'HERALD_CLIENT_ERR_CONTENT_TYPE',
      requests: 1,
    },
    {
      answer: {
        status: 400,
        type: 'application/problem+json',
        body: JSON.stringify({ code: 'HERALD_ERR_MISSING_TOPIC', detail: 'no topic' }),
      },
      code: 'HERALD_CLIENT_ERR_HTTP_STATUS',
      hubCode: 'HERALD_ERR_MISSING_TOPIC',
      requests: 1,
    },
    { answer: { status: 403 }, code: 'HERALD_CLIENT_ERR_FORBIDDEN', requests: 2 },
  ];
  for (const { answer, code, requests, hubCode } of cases) {
    const server = await startRawServer(t, (_req, res) => {
      res.writeHead(
        answer.status,
        answer.type === undefined ? {} : { 'Content-Type': answer.type },
      );
      res.end(answer.body ?? 'data: never\n\n');
    });
    const subscription = subscribe(server.url, 'topic', { ...FAST, token: () => 'refreshable' });
    const changes: StateChange[] = [];
    subscription.onState((change) => changes.push(change));
    await subscription.closed;
    assert.ok(subscription.error instanceof HeraldClientError);
    assert.equal(subscription.error.code, code);
    assert.equal(subscription.error.status, answer.status);
    assert.equal(subscription.error.hubCode, hubCode);
    assert.equal(server.requests.length, requests, code);
    assert.equal(changes.at(-1)?.to, 'closed');
    assert.equal(changes.at(-1)?.error, subscription.error);
  }
});

test('a connection that sends headers then nothing is replaced within the stall timeout', async (t) => {
  const server = await startRawServer(t, (_req, res, index) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    if (index === 0)
      res.flushHeaders(); // then silence
    else if (index === 1) res.write(': one comment, then silence\n\n');
    else res.end('data: alive\n\n');
  });
  const subscription = subscribe(server.url, 'topic', { ...FAST, stallTimeout: 150 });
  t.after(() => {
    subscription.close();
  });
  const changes: StateChange[] = [];
  subscription.onState((change) => changes.push(change));
  const data: string[] = [];
  subscription.on('message', (event) => data.push(event.data));
  await waitFor(() => data.length > 0, { message: 'an event' });
  subscription.close();
  const [first, second, third] = server.requests.map((request) => request.at);
  for (const gap of [(second ?? 0) - (first ?? 0), (third ?? 0) - (second ?? 0)]) {
    // Not before the stall timeout; how long after is the machine's load, not the client's.
    assert.ok(gap >= 149, `replaced after ${gap.toFixed(1)} ms`);
  }
  const stalls = changes.filter((change) => change.error instanceof HeraldClientError);
  assert.deepEqual(
    stalls.slice(0, 2).map((change) => (change.error as HeraldClientError).code),
    ['HERALD_CLIENT_ERR_STALLED', 'HERALD_CLIENT_ERR_STALLED'],
  );
});

test('heartbeat comments keep a quiet connection alive', async (t) => {
  let heartbeats = 0;
  const server = await startRawServer(t, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    const timer = setInterval(() => {
      heartbeats++;
      res.write(':\n');
    }, 40);
    res.on('close', () => {
      clearInterval(timer);
    });
  });
  // Ten heartbeats per stall timeout: a loaded machine (CI runs this on three Node lines) may
  // delay the server's timer by a few hundred milliseconds without the stream looking stalled.
  const subscription = subscribe(server.url, 'topic', { ...FAST, stallTimeout: 400 });
  t.after(() => {
    subscription.close();
  });
  // Thirty heartbeats span three stall timeouts or more (the server's timer is late, never
  // early): had the client taken the stream for stalled, it would have reconnected by then.
  await waitFor(() => heartbeats >= 30, { message: 'thirty heartbeats' });
  assert.equal(subscription.state, 'open');
  assert.equal(server.requests.length, 1);
  subscription.close();
});

test('the injected fetch is the only one used', async (t) => {
  const urls: string[] = [];
  const fake: FetchFunction = (input) => {
    urls.push(String(input));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('id: 1\ndata: from the fake\n\n'));
        controller.close();
      },
    });
    return Promise.resolve(
      new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } }),
    );
  };
  const subscription = subscribe('https://hub.example/.well-known/mercure', ['a', 'b/{id}'], {
    ...FAST,
    fetch: fake,
  });
  t.after(() => {
    subscription.close();
  });
  const data: string[] = [];
  subscription.on('message', (event) => data.push(event.data));
  await waitFor(() => urls.length >= 2, { message: 'a reconnection' });
  subscription.close();
  assert.equal(data[0], 'from the fake');
  assert.equal(urls[0], 'https://hub.example/.well-known/mercure?topic=a&topic=b%2F%7Bid%7D');
});

test('withCredentials asks fetch to include cookies; a failing token function is retried', async (t) => {
  const inits: RequestInit[] = [];
  let calls = 0;
  const fake: FetchFunction = (_input, init) => {
    inits.push(init ?? {});
    return Promise.resolve(
      new Response('data: in\n\n', { headers: { 'Content-Type': 'text/event-stream' } }),
    );
  };
  const subscription = subscribe('https://hub.example/', 'a', {
    ...FAST,
    fetch: fake,
    withCredentials: true,
    token: () => {
      calls++;
      if (calls === 1) return Promise.reject(new Error('auth server down'));
      return 'fresh';
    },
  });
  t.after(() => {
    subscription.close();
  });
  const errors: HeraldClientError[] = [];
  subscription.onError((error) => errors.push(error));
  await waitFor(() => inits.length > 0, { message: 'a request' });
  subscription.close();
  assert.equal(inits[0]?.credentials, 'include');
  assert.equal(new Headers(inits[0].headers).get('authorization'), 'Bearer fresh');
  assert.equal(errors[0]?.code, 'HERALD_CLIENT_ERR_CREDENTIALS');
  assert.equal((errors[0].cause as Error).message, 'auth server down');
});

test('a long backlog in the iterator comes out whole and in order', async (t) => {
  const count = 5000;
  const body = Array.from({ length: count }, (_, i) => `id: ${i}\ndata: ${i}\n\n`).join('');
  let requests = 0;
  // The backlog once, then 204: the subscription stops, and the iterator still holds it all.
  const fake: FetchFunction = () =>
    Promise.resolve(
      requests++ === 0
        ? new Response(body, { headers: { 'Content-Type': 'text/event-stream' } })
        : new Response(null, { status: 204 }),
    );
  const subscription = subscribe('https://hub.example/', 'a', { ...FAST, fetch: fake });
  t.after(() => {
    subscription.close();
  });
  const iterator = subscription[Symbol.asyncIterator]();
  await subscription.closed;
  assert.equal(subscription.lastEventId, String(count - 1));
  const seen: string[] = [];
  while (seen.length < count) {
    const result = await iterator.next();
    assert.ok(result.done !== true);
    seen.push(result.value.data);
  }
  assert.deepEqual(
    seen,
    Array.from({ length: count }, (_, i) => String(i)),
  );
  await assert.rejects(iterator.next(), { code: 'HERALD_CLIENT_ERR_NO_CONTENT' });
  assert.deepEqual(await iterator.next(), { done: true, value: undefined });
});
