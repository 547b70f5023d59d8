import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HeraldEvent, StateChange } from '../../src/client/index.ts';
import { HeraldClientError, publish, subscribe } from '../../src/client/index.ts';
import { startTestHub } from '../support/test-hub.ts';
import { waitFor } from '../support/wait.ts';

const FAST = { initialRetryDelay: 20, maxRetryDelay: 100 } as const;

test('match and match_urlpattern options subscribe the draft-08 way', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const publisher = await hub.token({ publish: ['*'] });
  const first = await publish(
    hub.hubUrl,
    { topic: '/books/0', data: 'before' },
    { token: publisher },
  );
  const subscription = subscribe(hub.hubUrl, [], {
    ...FAST,
    match: 'https://example.com/exact/{id}',
    match_urlpattern: ['/books/:id'],
    lastEventId: first,
  });
  t.after(() => {
    subscription.close();
  });
  const changes: StateChange[] = [];
  subscription.onState((change) => changes.push(change));
  const events: HeraldEvent[] = [];
  subscription.on('message', (event) => events.push(event));
  await waitFor(() => subscription.state === 'open', { message: 'open' });
  // The resume answer of a draft-08 hub (Mercure-Last-Event-ID) is read.
  assert.equal(changes.at(-1)?.resumedAfter, first);
  for (const [topic, data] of <[string, string][]>[
    ['https://example.com/exact/1', 'not exact'],
    ['/books/7', 'book'],
    ['https://example.com/exact/{id}', 'exact'],
  ]) {
    await publish(hub.hubUrl, { topic, data }, { token: publisher });
  }
  await waitFor(() => events.length === 2, { message: 'two events' });
  assert.deepEqual(
    events.map((event) => event.data),
    ['book', 'exact'],
  );
});

test('topics and draft-08 matchers at once are refused at once', () => {
  assert.throws(
    () => subscribe('http://127.0.0.1:1/.well-known/mercure', ['a'], { match: 'b' }),
    (error: unknown) =>
      error instanceof HeraldClientError && error.code === 'HERALD_CLIENT_ERR_INVALID_OPTION',
  );
  assert.throws(
    () => subscribe('http://127.0.0.1:1/.well-known/mercure', [], { match: [] }),
    (error: unknown) =>
      error instanceof HeraldClientError && error.code === 'HERALD_CLIENT_ERR_INVALID_OPTION',
  );
});

test('a draft-08 refusal reaches the client as a fatal error with the hub code', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const subscription = subscribe(hub.hubUrl, [], { ...FAST, match_urlpattern: 'https://x/(' });
  await subscription.closed;
  const error = subscription.error;
  assert.ok(error instanceof HeraldClientError);
  assert.equal(error.status, 400);
  assert.equal(error.problem?.code, 'HERALD_ERR_INVALID_MATCHER');
});
