import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeraldClientError, publish, subscribe } from '../../src/client/index.ts';
import type { FetchFunction } from '../../src/client/index.ts';
import { startTestHub } from '../support/test-hub.ts';
import { waitFor } from '../support/wait.ts';

const TOPIC = 'https://example.com/books/1';

function refusedWith(code: string, hubCode: string | undefined, status: number | undefined) {
  return (error: unknown) => {
    assert.ok(error instanceof HeraldClientError, String(error));
    assert.equal(error.code, code);
    assert.equal(error.hubCode, hubCode);
    assert.equal(error.status, status);
    return true;
  };
}

test('publish sends one update or a batch as JSON and resolves with the ids', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const token = await hub.token({ publish: ['https://example.com/books/{id}'] });
  const subscription = subscribe(hub.hubUrl, 'https://example.com/books/{id}', {
    initialRetryDelay: 20,
  });
  t.after(() => {
    subscription.close();
  });
  const seen: string[][] = [];
  for (const type of ['message', 'sale']) {
    subscription.on(type, (event) => seen.push([event.type, event.data, event.id]));
  }
  await waitFor(() => subscription.state === 'open', { message: 'open' });

  const single = await publish(hub.hubUrl, { topic: TOPIC, data: 'one' }, { token });
  assert.match(single, /^urn:uuid:/);
  const batch = await publish(
    new URL(hub.hubUrl),
    [
      { topic: [TOPIC, 'https://example.com/books/2'], data: 'two', id: 'urn:example:two' },
      { topic: TOPIC, data: 'three', type: 'sale', retry: 2500 },
    ],
    { token: () => Promise.resolve(token) },
  );
  assert.equal(batch.length, 2);
  assert.equal(batch[0], 'urn:example:two');
  await waitFor(() => seen.length === 3, { message: 'three events' });
  assert.deepEqual(seen, [
    ['message', 'one', single],
    ['message', 'two', 'urn:example:two'],
    ['sale', 'three', batch[1] ?? ''],
  ]);
  assert.equal(subscription.serverRetry, 2500);
});

test("the hub's refusals surface its problem code", async (t) => {
  const hub = await startTestHub(t, { anonymous: true, refuseDuplicateIds: true });
  const token = await hub.token({ publish: ['https://example.com/books/{id}'] });
  await assert.rejects(
    publish(hub.hubUrl, { topic: 'https://example.com/secret', data: 'x' }, { token }),
    refusedWith('HERALD_CLIENT_ERR_FORBIDDEN', 'HERALD_ERR_FORBIDDEN', 403),
  );
  await assert.rejects(
    publish(hub.hubUrl, { topic: TOPIC, data: 'x' }),
    refusedWith('HERALD_CLIENT_ERR_UNAUTHORIZED', 'HERALD_ERR_UNAUTHORIZED', 401),
  );
  await assert.rejects(
    publish(hub.hubUrl, { topic: TOPIC, id: 'bad\nid' }, { token }),
    refusedWith('HERALD_CLIENT_ERR_HTTP_STATUS', 'HERALD_ERR_INVALID_ID', 400),
  );
  await publish(hub.hubUrl, { topic: TOPIC, id: 'urn:example:once' }, { token });
  await assert.rejects(
    publish(hub.hubUrl, [{ topic: TOPIC, id: 'urn:example:once' }], { token }),
    refusedWith('HERALD_CLIENT_ERR_HTTP_STATUS', 'HERALD_ERR_DUPLICATE_ID', 409),
  );
  // Properties the hub does not know are not sent: it would refuse the whole update.
  const withExtra = { topic: TOPIC, data: 'x', note: 'not a field' };
  assert.match(await publish(hub.hubUrl, withExtra, { token }), /^urn:uuid:/);
  await assert.rejects(
    publish(hub.hubUrl, []),
    refusedWith('HERALD_CLIENT_ERR_INVALID_OPTION', undefined, undefined),
  );
});

test('publish uses the injected fetch, and a failed request is a network error', async () => {
  const requests: { url: string; init: RequestInit | undefined }[] = [];
  const fake: FetchFunction = (input, init) => {
    requests.push({ url: String(input), init });
    return Promise.resolve(new Response('urn:a\nurn:b', { status: 200 }));
  };
  const ids = await publish(
    'https://hub.example/.well-known/mercure',
    [{ topic: 'a' }, { topic: 'b' }],
    {
      token: 'tok',
      fetch: fake,
      headers: { 'X-Trace': '1' },
    },
  );
  assert.deepEqual(ids, ['urn:a', 'urn:b']);
  const request = requests[0];
  assert.ok(request !== undefined);
  const headers = new Headers(request.init?.headers);
  assert.equal(request.url, 'https://hub.example/.well-known/mercure');
  assert.equal(request.init?.method, 'POST');
  assert.equal(headers.get('authorization'), 'Bearer tok');
  assert.equal(headers.get('content-type'), 'application/json');
  assert.equal(headers.get('x-trace'), '1');
  assert.equal(request.init.body, '[{"topic":"a"},{"topic":"b"}]');

  const failing: FetchFunction = () => Promise.reject(new TypeError('fetch failed'));
  await assert.rejects(
    publish('https://hub.example/', { topic: 'a' }, { fetch: failing }),
    refusedWith('HERALD_CLIENT_ERR_NETWORK', undefined, undefined),
  );
});
