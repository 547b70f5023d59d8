import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SignJWT } from 'jose';
import { fetch } from 'undici';
import { MERCURE_DETAIL_TYPE } from '../../src/auth/authorization-details.ts';
import {
  matchCollectionId,
  matchSubscriptionId,
} from '../../src/core/match-subscription-events.ts';
import { EventStream } from '../support/event-stream.ts';
import type { StreamEvent } from '../support/event-stream.ts';
import type { TestHub } from '../support/test-hub.ts';
import { startTestHub, TEST_ISSUER, TEST_KEY } from '../support/test-hub.ts';

// Draft-08 active subscriptions: /.well-known/mercure/subscriptions/{match_type}/{match}/{subscriber},
// JSON documents with match and match_type, event type `mercure`, and the API's draft-08 paths.

const API = '/.well-known/mercure/subscriptions';
const BOOKS = 'https://example.com/books/:id';
const CHAT = 'https://example.com/chat';
const SENTINEL = 'https://example.com/sentinel';

function matchUrl(hub: TestHub, params: [string, string][]): string {
  const url = new URL(hub.hubUrl);
  for (const [name, value] of params) url.searchParams.append(name, value);
  return url.href;
}

function json(event: StreamEvent): Record<string, unknown> {
  return JSON.parse(event.data) as Record<string, unknown>;
}

async function api(
  hub: TestHub,
  path: string,
  token: string,
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(new URL(path, hub.hubUrl), {
    headers: { Authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers as unknown as Headers,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

test('draft-08 subscription events and API: match/match_type, hub-assigned ids, event type mercure', async (t) => {
  const hub = await startTestHub(t, { subscriptions: true });
  // A draft-08 watcher: a relative URL pattern over the subscriptions namespace.
  const watcherToken = await hub.accessToken({ subscribe: ['*'] });
  const watcher = await EventStream.open(
    t,
    matchUrl(hub, [
      ['match_urlpattern', `${API}/:type/:match/:subscriber`],
      ['match', SENTINEL],
    ]),
    { Authorization: `Bearer ${watcherToken}` },
  );
  assert.equal(watcher.status, 200, watcher.errorBody);
  const alice = await EventStream.open(
    t,
    matchUrl(hub, [
      ['match_urlpattern', BOOKS],
      ['match', CHAT],
      // A client cannot choose its subscriber id.
      ['subscriber', 'urn:uuid:00000000-0000-4000-8000-000000000000'],
    ]),
    {
      // The payload of the first subscribe detail matching each subscription's matcher: here one
      // detail with the wildcard, so both subscriptions carry it.
      Authorization: `Bearer ${await hub.accessToken({ subscribe: ['*'], payload: { name: 'alice' } })}`,
    },
  );
  // Alice's two subscriptions (the watcher's own were stored before it joined).
  const events = await watcher.waitForEvents(2);
  for (const event of events) assert.equal(event.event, 'mercure');
  const [books, chat] = events.map(json);
  assert.ok(books !== undefined && chat !== undefined);
  const subscriber = String(books['subscriber']);
  assert.match(subscriber, /^urn:uuid:[0-9a-f-]{36}$/);
  assert.notEqual(subscriber, 'urn:uuid:00000000-0000-4000-8000-000000000000');
  assert.deepEqual(books, {
    id: matchSubscriptionId('urlpattern', BOOKS, subscriber),
    type: 'subscription',
    match_type: 'urlpattern',
    match: BOOKS,
    subscriber,
    active: true,
    payload: { name: 'alice' },
  });
  // Each variable percent-encoded exactly once, as a whole.
  assert.equal(
    books['id'],
    `${API}/urlpattern/https%3A%2F%2Fexample.com%2Fbooks%2F%3Aid/${encodeURIComponent(subscriber)}`,
  );
  assert.equal(chat['match_type'], 'exact');
  assert.equal(chat['subscriber'], subscriber, 'one subscriber id per connection');

  // The API, in draft-08 form.
  const collection = await api(hub, matchCollectionId('urlpattern', BOOKS), watcherToken);
  assert.equal(collection.status, 200);
  assert.equal(collection.headers.get('content-type'), 'application/json');
  assert.deepEqual(collection.body, {
    id: matchCollectionId('urlpattern', BOOKS),
    type: 'subscriptions',
    subscriptions: [books],
  });
  const link = collection.headers.get('link') ?? '';
  assert.match(link, /^<http:\/\/127\.0\.0\.1:\d+\/\.well-known\/mercure>; rel="mercure"; /);
  assert.match(link, /last-event-id="[^"]+"; type="mercure"; content-type="application\/json"$/);
  assert.ok(collection.headers.get('etag'));
  const single = await api(hub, books['id'], watcherToken);
  assert.equal(single.status, 200);
  assert.deepEqual(single.body, books);
  const missing = await api(
    hub,
    matchSubscriptionId('exact', CHAT, 'urn:uuid:nobody'),
    watcherToken,
  );
  assert.equal(missing.status, 404);

  // A token whose subscribe grants do not cover the URL gets 403.
  const narrow = await hub.accessToken({ subscribe: [CHAT] });
  assert.equal((await api(hub, books['id'], narrow)).status, 403);

  // The end, in the same form; then the API no longer lists it.
  alice.close();
  await watcher.until(() => watcher.events.length >= 4, "alice's two ends");
  const ends = watcher.events.slice(2, 4).map(json);
  assert.deepEqual(
    ends.map((document) => [document['match'], document['active']]).sort(),
    [
      [BOOKS, false],
      [CHAT, false],
    ].sort(),
  );
  assert.equal((await api(hub, books['id'], watcherToken)).status, 404);
  // Nothing else arrived: no draft-07 form of any of these.
  assert.equal((await hub.publish({ topic: SENTINEL, data: 'end' })).status, 200);
  await watcher.until(() => watcher.events.at(-1)?.data === 'end', 'the sentinel');
  assert.equal(watcher.events.length, 5);
});

test('presence reads right to both kinds: each watcher sees every subscription once, in its own form', async (t) => {
  const hub = await startTestHub(t, { subscriptions: true, anonymous: true });
  // An access token serves both watchers: a draft-07 request may present either form.
  const token = await hub.accessToken({ subscribe: ['*'] });
  const auth = { Authorization: `Bearer ${token}` };
  const watcher07 = await EventStream.open(
    t,
    hub.subscribeUrl([`${API}/{topic}/{subscriber}`, SENTINEL]),
    auth,
  );
  const watcher08 = await EventStream.open(
    t,
    matchUrl(hub, [
      ['match_urlpattern', `${API}/:type/:match/:subscriber`],
      ['match', SENTINEL],
    ]),
    auth,
  );
  const draft07 = await EventStream.open(t, hub.subscribeUrl([CHAT]));
  const draft08 = await EventStream.open(t, matchUrl(hub, [['match', CHAT]]));
  assert.equal(draft07.status, 200);
  assert.equal(draft08.status, 200);
  assert.equal((await hub.publish({ topic: SENTINEL, data: 'end' })).status, 200);
  for (const watcher of [watcher07, watcher08]) {
    await watcher.until(() => watcher.events.at(-1)?.data === 'end', 'the sentinel');
  }
  const seen07 = watcher07.events.filter((event) => event.data !== 'end').map(json);
  const seen08 = watcher08.events.filter((event) => event.data !== 'end').map(json);
  // Each watcher gets documents of its own dialect's form only.
  for (const document of seen07) assert.equal(document['type'], 'Subscription');
  for (const document of seen08) assert.equal(document['type'], 'subscription');
  const chat07 = seen07.filter((document) => document['topic'] === CHAT);
  const chat08 = seen08.filter((document) => document['match'] === CHAT);
  assert.equal(chat07.length, 2, 'the draft-07 watcher sees both CHAT subscribers once each');
  assert.equal(chat08.length, 2, 'the draft-08 watcher sees both CHAT subscribers once each');
  assert.deepEqual(
    new Set(chat07.map((document) => document['subscriber'])),
    new Set(chat08.map((document) => document['subscriber'])),
  );
  // The draft-07 API lists the draft-08 subscriber too, and the draft-08 API the draft-07 one.
  const byTopic = await api(hub, `${API}/${encodeURIComponent(CHAT)}`, token);
  assert.equal((byTopic.body['subscriptions'] as unknown[]).length, 2);
  const byMatch = await api(hub, matchCollectionId('exact', CHAT), token);
  assert.equal((byMatch.body['subscriptions'] as unknown[]).length, 2);
});

test('each draft-08 subscription carries the payload of the first subscribe detail matching its matcher', async (t) => {
  const hub = await startTestHub(t, { subscriptions: true });
  const detail = (topics: Record<string, string>[], payload: Record<string, unknown>) => ({
    type: MERCURE_DETAIL_TYPE,
    actions: ['subscribe'],
    topics,
    payload,
  });
  const token = await new SignJWT({
    client_id: TEST_ISSUER,
    authorization_details: [
      detail([{ match: CHAT }], { room: 'chat' }),
      detail([{ match: BOOKS, match_type: 'urlpattern' }], { shelf: 'books' }),
      detail([{ match: `${API}/*`, match_type: 'urlpattern' }, { match: API }], {}),
    ],
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setIssuer(TEST_ISSUER)
    .setAudience(hub.hubUrl)
    .setSubject('urn:uuid:payload-test')
    .setJti('urn:uuid:payload-test-jti')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(TEST_KEY));
  const stream = await EventStream.open(
    t,
    matchUrl(hub, [
      ['match', CHAT],
      ['match_urlpattern', BOOKS],
      ['match', 'https://example.com/ungranted'],
    ]),
    { Authorization: `Bearer ${token}` },
  );
  assert.equal(stream.status, 200, stream.errorBody);
  const subscriber = (await api(hub, matchCollectionId('exact', CHAT), token)).body[
    'subscriptions'
  ] as Record<string, unknown>[];
  const id = String(subscriber[0]?.['subscriber']);
  const payloadOf = async (type: 'exact' | 'urlpattern', match: string) =>
    (await api(hub, matchSubscriptionId(type, match, id), token)).body['payload'];
  assert.deepEqual(await payloadOf('exact', CHAT), { room: 'chat' });
  assert.deepEqual(await payloadOf('urlpattern', BOOKS), { shelf: 'books' });
  assert.equal(await payloadOf('exact', 'https://example.com/ungranted'), undefined);
  // With a draft-08 token, the root collection is in the draft-08 form too.
  const root = await api(hub, API, token);
  assert.equal(root.status, 200);
  assert.equal(root.headers.get('content-type'), 'application/json');
  assert.equal(root.body['type'], 'subscriptions');
  assert.deepEqual(
    (root.body['subscriptions'] as Record<string, unknown>[])
      .map((document) => `${String(document['match_type'])} ${String(document['match'])}`)
      .sort(),
    [`exact ${CHAT}`, 'exact https://example.com/ungranted', `urlpattern ${BOOKS}`],
  );
});
