import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { fetch } from 'undici';
import type { Response } from 'undici';
import { EventStream } from '../support/event-stream.ts';
import type { TestHub } from '../support/test-hub.ts';
import { startTestHub } from '../support/test-hub.ts';

const TOPIC = 'https://example.com/orders/1';

interface Refusal {
  readonly name: string;
  readonly status: number;
  readonly code: string;
  readonly detail?: RegExp;
  /** Sends the bad request; gets a hub and a token that may publish on TOPIC. */
  readonly send: (hub: TestHub, token: string) => Promise<Response>;
}

const form = (fields: [string, string][]) => new URLSearchParams(fields);

/** Posts form fields with a bearer token. */
function postForm(hub: TestHub, token: string, fields: [string, string][]) {
  return post(hub, { headers: { Authorization: `Bearer ${token}` }, body: form(fields) });
}

function post(
  hub: TestHub,
  init: { headers?: Record<string, string>; body?: string | URLSearchParams },
) {
  return fetch(hub.hubUrl, { method: 'POST', ...init });
}

const REFUSALS: Refusal[] = [
  {
    name: 'no token',
    status: 401,
    code: 'HERALD_ERR_UNAUTHORIZED',
    send: (hub) =>
      post(hub, {
        body: form([
          ['topic', TOPIC],
          ['data', 'x'],
        ]),
      }),
  },
  {
    name: 'a token signed with another key',
    status: 401,
    code: 'HERALD_ERR_INVALID_TOKEN',
    detail: /signature/,
    send: async (hub) => {
      const { mintToken } = await import('../../src/auth/mint-token.ts');
      const forged = await mintToken({ key: 'x'.repeat(40), algorithm: 'HS256', publish: ['*'] });
      return post(hub, {
        headers: { Authorization: `Bearer ${forged}` },
        body: form([['topic', TOPIC]]),
      });
    },
  },
  {
    name: 'a malformed token',
    status: 401,
    code: 'HERALD_ERR_INVALID_TOKEN',
    send: (hub) =>
      post(hub, { headers: { Authorization: 'Bearer not.a.jwt' }, body: form([['topic', TOPIC]]) }),
  },
  {
    name: 'an Authorization header that is not a Bearer token',
    status: 401,
    code: 'HERALD_ERR_INVALID_TOKEN',
    send: (hub) =>
      post(hub, {
        headers: { Authorization: 'Basic dXNlcjpwYXNz' },
        body: form([['topic', TOPIC]]),
      }),
  },
  {
    name: 'a token whose selectors cover only some of the topics',
    status: 403,
    code: 'HERALD_ERR_FORBIDDEN',
    detail: /https:\/\/example\.com\/secret/,
    send: (hub, token) =>
      postForm(hub, token, [
        ['topic', TOPIC],
        ['topic', 'https://example.com/secret'],
      ]),
  },
  {
    name: 'a token with no publish claim',
    status: 403,
    code: 'HERALD_ERR_FORBIDDEN',
    send: async (hub) => {
      const subscribeOnly = await hub.token({ subscribe: ['*'] });
      return post(hub, {
        headers: { Authorization: `Bearer ${subscribeOnly}` },
        body: form([['topic', TOPIC]]),
      });
    },
  },
  {
    name: 'a batch with one forbidden update',
    status: 403,
    code: 'HERALD_ERR_FORBIDDEN',
    send: (hub, token) =>
      post(hub, {
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify([
          { topic: TOPIC, data: 'allowed' },
          { topic: 'https://example.com/secret', data: 'not allowed' },
        ]),
      }),
  },
  ...(['\n', '\r', '\r\n', '\0'] as const).flatMap((bad): Refusal[] => [
    {
      name: `an id containing ${JSON.stringify(bad)}`,
      status: 400,
      code: 'HERALD_ERR_INVALID_ID',
      send: (hub, token) =>
        postForm(hub, token, [
          ['topic', TOPIC],
          ['id', `a${bad}data: injected`],
        ]),
    },
    {
      name: `a type containing ${JSON.stringify(bad)}`,
      status: 400,
      code: 'HERALD_ERR_INVALID_TYPE',
      send: (hub, token) =>
        postForm(hub, token, [
          ['topic', TOPIC],
          ['type', `a${bad}id: injected`],
        ]),
    },
  ]),
  {
    name: 'an id starting with #',
    status: 400,
    code: 'HERALD_ERR_INVALID_ID',
    send: (hub, token) =>
      postForm(hub, token, [
        ['topic', TOPIC],
        ['id', '#mine'],
      ]),
  },
  {
    name: 'the reserved id "earliest"',
    status: 400,
    code: 'HERALD_ERR_INVALID_ID',
    detail: /reserved/,
    send: (hub, token) =>
      postForm(hub, token, [
        ['topic', TOPIC],
        ['id', 'earliest'],
      ]),
  },
  {
    name: 'a retry that is not digits',
    status: 400,
    code: 'HERALD_ERR_INVALID_RETRY',
    send: (hub, token) =>
      postForm(hub, token, [
        ['topic', TOPIC],
        ['retry', '-5'],
      ]),
  },
  {
    name: 'no topic',
    status: 400,
    code: 'HERALD_ERR_MISSING_TOPIC',
    send: (hub, token) => postForm(hub, token, [['data', 'orphan']]),
  },
  {
    name: 'malformed JSON',
    status: 400,
    code: 'HERALD_ERR_MALFORMED_BODY',
    send: (hub, token) =>
      post(hub, {
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: '{"topic": "x", ',
      }),
  },
  {
    name: 'a JSON update with an unknown field',
    status: 400,
    code: 'HERALD_ERR_MALFORMED_BODY',
    detail: /"topics"/,
    send: (hub, token) =>
      post(hub, {
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ topics: [TOPIC], data: 'typo' }),
      }),
  },
  {
    name: 'an unsupported content type',
    status: 415,
    code: 'HERALD_ERR_UNSUPPORTED_MEDIA_TYPE',
    send: (hub, token) =>
      post(hub, {
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/plain' },
        body: `topic=${TOPIC}`,
      }),
  },
  {
    name: 'too many topics',
    status: 400,
    code: 'HERALD_ERR_TOO_MANY_TOPICS',
    send: (hub, token) =>
      post(hub, {
        headers: { Authorization: `Bearer ${token}` },
        body: form(Array.from({ length: 65 }, () => ['topic', TOPIC])),
      }),
  },
  {
    name: 'a body over the size limit (declared)',
    status: 413,
    code: 'HERALD_ERR_BODY_TOO_LARGE',
    detail: /65536 bytes/,
    send: (hub, token) =>
      postForm(hub, token, [
        ['topic', TOPIC],
        ['data', 'x'.repeat(70_000)],
      ]),
  },
  {
    name: 'a body over the size limit (chunked, no Content-Length)',
    status: 413,
    code: 'HERALD_ERR_BODY_TOO_LARGE',
    send: (hub, token) => {
      const chunk = new TextEncoder().encode(
        `topic=${encodeURIComponent(TOPIC)}&data=${'y'.repeat(16_000)}`,
      );
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 6; i++) controller.enqueue(chunk);
          controller.close();
        },
      });
      return fetch(hub.hubUrl, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body,
        duplex: 'half',
      });
    },
  },
  {
    name: 'a duplicate id',
    status: 409,
    code: 'HERALD_ERR_DUPLICATE_ID',
    // The marker, published first in this case, already holds the id.
    send: (hub, token) =>
      postForm(hub, token, [
        ['topic', TOPIC],
        ['id', 'urn:example:marker'],
      ]),
  },
];

async function startWatchedHub(t: TestContext) {
  // Refusing duplicates: the 409 case needs it (by default an id may be reused).
  const hub = await startTestHub(t, {
    anonymous: true,
    maxBodyBytes: 65_536,
    refuseDuplicateIds: true,
  });
  const watcher = await EventStream.open(t, hub.subscribeUrl(['*']));
  return { hub, watcher };
}

for (const refusal of REFUSALS) {
  test(`publishing with ${refusal.name} is refused with ${refusal.status} and publishes nothing`, async (t) => {
    const { hub, watcher } = await startWatchedHub(t);
    const token = await hub.token({ publish: [TOPIC] });
    const marker = async () => {
      const result = await hub.publish({ topic: TOPIC, data: 'marker', id: 'urn:example:marker' });
      assert.equal(result.status, 200);
    };
    if (refusal.code === 'HERALD_ERR_DUPLICATE_ID') await marker();

    const response = await refusal.send(hub, token);
    assert.equal(response.status, refusal.status);
    assert.equal(response.headers.get('content-type'), 'application/problem+json');
    const problem = (await response.json()) as Record<string, unknown>;
    assert.equal(problem['code'], refusal.code);
    assert.equal(problem['type'], `urn:herald:error:${refusal.code}`);
    if (refusal.status === 401) {
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
    assert.equal(problem['status'], refusal.status);
    assert.equal(typeof problem['detail'], 'string');
    if (refusal.detail) assert.match(String(problem['detail']), refusal.detail);

    // Nothing was published: the live watcher's first event is the marker, and so is history's
    // (each read up to an end marker published last).
    if (refusal.code !== 'HERALD_ERR_DUPLICATE_ID') await marker();
    const history = await EventStream.open(t, hub.subscribeUrl(['*'], { lastEventID: 'earliest' }));
    assert.equal((await hub.publish({ topic: TOPIC, data: 'end' })).status, 200);
    for (const stream of [watcher, history]) {
      assert.deepEqual(
        (await stream.eventsBefore('end')).map((event) => event.data),
        ['marker'],
      );
    }
    assert.deepEqual(hub.internalErrors, []);
  });
}

test('a token is never echoed in an error', async (t) => {
  const { hub } = await startWatchedHub(t);
  const token = await hub.token({ publish: ['https://example.com/other'] });
  const response = await postForm(hub, token, [['topic', TOPIC]]);
  assert.equal(response.status, 403);
  assert.ok(!(await response.text()).includes(token));
});
