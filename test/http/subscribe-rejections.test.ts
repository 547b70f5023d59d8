import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mintToken } from '../../src/auth/mint-token.ts';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub } from '../support/test-hub.ts';

const TOPIC = 'https://example.com/news';

function expectProblem(
  stream: EventStream & { errorBody?: string },
  status: number,
  code: string,
): void {
  assert.equal(stream.status, status);
  assert.equal(stream.headers.get('content-type'), 'application/problem+json');
  const problem = JSON.parse(stream.errorBody ?? '{}') as Record<string, unknown>;
  assert.equal(problem['code'], code);
}

test('without anonymous access, a subscriber with no token gets 401', async (t) => {
  const hub = await startTestHub(t);
  expectProblem(
    await EventStream.open(t, hub.subscribeUrl([TOPIC])),
    401,
    'HERALD_ERR_UNAUTHORIZED',
  );
  assert.equal(hub.herald.hub.subscriberCount, 0);
});

test('an invalid token gets 401 even when anonymous access is on', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const forged = await mintToken({ key: 'z'.repeat(40), algorithm: 'HS256', subscribe: ['*'] });
  for (const headers of [
    { Authorization: `Bearer ${forged}` },
    { Cookie: `mercureAuthorization=${forged}` },
    { Authorization: 'Bearer ' },
  ]) {
    expectProblem(
      await EventStream.open(t, hub.subscribeUrl([TOPIC]), headers),
      401,
      'HERALD_ERR_INVALID_TOKEN',
    );
  }
  const expired = await mintToken({
    key: 'herald-test-key-that-is-long-enough-for-hs256',
    algorithm: 'HS256',
    subscribe: ['*'],
    ttlSeconds: -10,
  });
  const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
    Authorization: `Bearer ${expired}`,
  });
  expectProblem(stream, 401, 'HERALD_ERR_INVALID_TOKEN');
  assert.match(stream.errorBody ?? '', /expired/);
});

test('a subscription without a topic gets 400; too many selectors get 400', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, maxSelectorsPerSubscription: 3 });
  expectProblem(await EventStream.open(t, hub.subscribeUrl([])), 400, 'HERALD_ERR_MISSING_TOPIC');
  expectProblem(
    await EventStream.open(t, hub.subscribeUrl(['a', 'b', 'c', 'd'])),
    400,
    'HERALD_ERR_TOO_MANY_SELECTORS',
  );
  assert.equal(hub.herald.hub.subscriberCount, 0);
});

test('other methods and paths get 405 and 404 problems', async (t) => {
  const hub = await startTestHub(t);
  const put = await fetch(hub.hubUrl, { method: 'PUT' });
  assert.equal(put.status, 405);
  assert.equal(put.headers.get('allow'), 'GET, POST, OPTIONS');
  assert.equal(((await put.json()) as { code: string }).code, 'HERALD_ERR_METHOD_NOT_ALLOWED');
  const missing = await fetch(new URL('/nope', hub.hubUrl));
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { code: string }).code, 'HERALD_ERR_NOT_FOUND');
  const health = await fetch(new URL('/healthz', hub.hubUrl));
  assert.equal(health.status, 200);
});
