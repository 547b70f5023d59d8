import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fetch } from 'undici';
import { mintToken } from '../../src/auth/mint-token.ts';
import { subscriptionId, topicCollectionId } from '../../src/core/subscription-events.ts';
import { runCli, tempDir } from '../support/cli.ts';
import { EventStream } from '../support/event-stream.ts';
import type { StreamEvent } from '../support/event-stream.ts';
import { startTestHub } from '../support/test-hub.ts';
import type { TestHub } from '../support/test-hub.ts';

const API = '/.well-known/mercure/subscriptions';
/** Covers the API's three URL shapes and every subscription event, as the draft suggests. */
const EVERY_SUBSCRIPTION = `${API}{/topic}{/subscriber}`;
/** The selector a presence watcher subscribes with. */
const EVENTS = `${API}/{topic}/{subscriber}`;
const BOOKS = 'https://example.com/books/{id}';
const CHAT = 'https://example.com/chat';
const SENTINEL = 'https://example.com/sentinel';

interface ApiAnswer {
  readonly status: number;
  readonly contentType: string | null;
  readonly etag: string | null;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

async function api(hub: TestHub, path: string, token?: string): Promise<ApiAnswer> {
  const response = await fetch(new URL(path, hub.hubUrl), {
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    etag: response.headers.get('etag'),
    text,
    json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

function document(event: StreamEvent): Record<string, unknown> {
  return JSON.parse(event.data) as Record<string, unknown>;
}

/** The `subscriptions` of a collection answer, reduced to what identifies them. */
function listed(answer: ApiAnswer): string[] {
  const subscriptions = answer.json['subscriptions'] as Record<string, unknown>[];
  return subscriptions.map((item) => `${String(item['topic'])} ${String(item['active'])}`).sort();
}

test('a watcher sees subscriptions start and end, with the payload, and the API agrees at each step', async (t) => {
  const hub = await startTestHub(t, { subscriptions: true });
  const watcherToken = await hub.token({ subscribe: [EVERY_SUBSCRIPTION] });
  const watcher = await EventStream.open(t, hub.subscribeUrl([EVENTS]), {
    Authorization: `Bearer ${watcherToken}`,
  });
  // The watcher's own subscription is listed; nothing else yet.
  const before = await api(hub, API, watcherToken);
  assert.equal(before.status, 200);
  assert.deepEqual(listed(before), [`${EVENTS} true`]);

  const alice = await EventStream.open(t, hub.subscribeUrl([BOOKS, CHAT]), {
    Authorization: `Bearer ${await hub.token({ subscribe: [CHAT], payload: { name: 'alice' } })}`,
  });
  const started = await watcher.waitForEvents(2);
  const [books, chat] = started.map(document);
  assert.ok(books !== undefined && chat !== undefined);
  const subscriber = String(books['subscriber']);
  assert.match(subscriber, /^urn:uuid:[0-9a-f-]{36}$/);
  // Exactly the draft's fields, in the reference hub's order, the topic as the client sent it.
  assert.deepEqual(books, {
    '@context': 'https://mercure.rocks/',
    id: subscriptionId(BOOKS, subscriber),
    type: 'Subscription',
    subscriber,
    topic: BOOKS,
    active: true,
    payload: { name: 'alice' },
  });
  assert.deepEqual(Object.keys(books), [
    '@context',
    'id',
    'type',
    'subscriber',
    'topic',
    'active',
    'payload',
  ]);
  assert.equal(
    books['id'],
    `${API}/https%3A%2F%2Fexample.com%2Fbooks%2F%7Bid%7D/${encodeURIComponent(subscriber)}`,
  );
  assert.deepEqual({ ...chat, id: undefined }, { ...books, id: undefined, topic: CHAT });
  assert.equal(chat['subscriber'], subscriber, 'one subscriber id for every selector');

  // All, by topic, one: each agrees, and names the last event as lastEventID.
  const lastEventId = started[1]?.id;
  const all = await api(hub, API, watcherToken);
  assert.equal(all.contentType, 'application/ld+json');
  assert.deepEqual(listed(all), [`${BOOKS} true`, `${CHAT} true`, `${EVENTS} true`].sort());
  assert.equal(all.json['@context'], 'https://mercure.rocks/');
  assert.equal(all.json['id'], API);
  assert.equal(all.json['type'], 'Subscriptions');
  assert.equal(all.json['lastEventID'], lastEventId);
  assert.equal(all.etag, `"${String(lastEventId)}"`);

  const byTopic = await api(hub, topicCollectionId(BOOKS), watcherToken);
  assert.equal(byTopic.status, 200);
  assert.equal(byTopic.json['id'], topicCollectionId(BOOKS));
  assert.deepEqual(byTopic.json['subscriptions'], [
    {
      id: subscriptionId(BOOKS, subscriber),
      type: 'Subscription',
      subscriber,
      topic: BOOKS,
      active: true,
      payload: { name: 'alice' },
    },
  ]);
  const one = await api(hub, subscriptionId(BOOKS, subscriber), watcherToken);
  assert.equal(one.status, 200);
  assert.equal(one.contentType, 'application/ld+json');
  assert.deepEqual(one.json, { ...books, lastEventID: lastEventId });
  // Unchanged since: a cache revalidates for free.
  const again = await fetch(new URL(API, hub.hubUrl), {
    headers: { Authorization: `Bearer ${watcherToken}`, 'If-None-Match': all.etag },
  });
  assert.equal(again.status, 304);
  await again.text();

  alice.close();
  const ended = (await watcher.waitForEvents(4)).slice(2).map(document);
  assert.deepEqual(
    ended.map((item) => [item['topic'], item['subscriber'], item['active'], item['payload']]),
    [
      [BOOKS, subscriber, false, { name: 'alice' }],
      [CHAT, subscriber, false, { name: 'alice' }],
    ],
  );
  const after = await api(hub, API, watcherToken);
  assert.deepEqual(listed(after), [`${EVENTS} true`]);
  assert.equal(after.json['lastEventID'], watcher.events[3]?.id);
  assert.deepEqual(
    (await api(hub, topicCollectionId(BOOKS), watcherToken)).json['subscriptions'],
    [],
  );
  const gone = await api(hub, subscriptionId(BOOKS, subscriber), watcherToken);
  assert.equal(gone.status, 404);
  assert.equal(gone.contentType, 'application/problem+json');
  assert.equal(gone.json['code'], 'HERALD_ERR_NOT_FOUND');

  // A client that resumes from a snapshot's lastEventID misses no event after it.
  const late = await EventStream.open(
    t,
    hub.subscribeUrl([EVENTS], { lastEventID: String(lastEventId) }),
    {
      Authorization: `Bearer ${watcherToken}`,
    },
  );
  const replayed = (await late.waitForEvents(2)).map(document);
  assert.deepEqual(
    replayed.map((item) => [item['topic'], item['active']]),
    [
      [BOOKS, false],
      [CHAT, false],
    ],
  );
  assert.deepEqual(hub.internalErrors, []);
});

test('the subscription API refuses callers whose token does not cover the URL, and leaks nothing', async (t) => {
  const hub = await startTestHub(t, { subscriptions: true, anonymous: true });
  const alice = await EventStream.open(t, hub.subscribeUrl([BOOKS]), {
    Authorization: `Bearer ${await hub.token({ payload: { name: 'alice' } })}`,
  });
  assert.equal(alice.status, 200);
  const [subscription] = (
    (await api(hub, API, await hub.token({ subscribe: [EVERY_SUBSCRIPTION] }))).json[
      'subscriptions'
    ] as Record<string, unknown>[]
  ).filter((item) => item['topic'] === BOOKS);
  const subscriber = String(subscription?.['subscriber']);
  const leaks = (answer: ApiAnswer) =>
    answer.text.includes(subscriber) || answer.text.includes('alice');

  // No token: 401, even though anonymous subscribers are let in.
  for (const path of [API, topicCollectionId(BOOKS), subscriptionId(BOOKS, subscriber)]) {
    const answer = await api(hub, path);
    assert.equal(answer.status, 401, path);
    assert.equal(answer.json['code'], 'HERALD_ERR_UNAUTHORIZED');
    assert.equal(leaks(answer), false);
  }
  const forged = await mintToken({
    key: 'another-key-that-is-long-enough-for-hs256-xx',
    algorithm: 'HS256',
    subscribe: ['*'],
  });
  const invalid = await api(hub, API, forged);
  assert.equal(invalid.status, 401);
  assert.equal(invalid.json['code'], 'HERALD_ERR_INVALID_TOKEN');
  assert.equal(leaks(invalid), false);

  // A token for one topic's collection: that collection only.
  const booksOnly = await hub.token({ subscribe: [topicCollectionId(BOOKS)] });
  assert.equal((await api(hub, topicCollectionId(BOOKS), booksOnly)).status, 200);
  for (const [path, token] of [
    [API, booksOnly],
    [topicCollectionId(CHAT), booksOnly],
    [subscriptionId(BOOKS, subscriber), booksOnly],
    [API, await hub.token({ subscribe: [BOOKS, 'https://example.com/{any}'] })],
    [API, await hub.token({})],
  ] as const) {
    const answer = await api(hub, path, token);
    assert.equal(answer.status, 403, path);
    assert.equal(answer.contentType, 'application/problem+json');
    assert.equal(answer.json['code'], 'HERALD_ERR_FORBIDDEN');
    assert.equal(leaks(answer), false);
  }
  // '*' covers every URL, as it covers every topic.
  assert.equal((await api(hub, API, await hub.token({ subscribe: ['*'] }))).status, 200);
  // Unknown shapes are unknown, for an authorized caller too.
  const everything = await hub.token({ subscribe: ['*'] });
  assert.equal((await api(hub, `${API}/a/b/c`, everything)).status, 404);
  // An empty segment or a broken escape is not a path in normal form: refused before routing.
  for (const path of [`${API}//b`, `${API}/%E0%A4%A`]) {
    const answer = await api(hub, path, everything);
    assert.equal(answer.status, 400, path);
    assert.equal(answer.json['code'], 'HERALD_ERR_MALFORMED_PATH');
  }
});

test('subscription events are private: only subscribers allowed their topics receive them', async (t) => {
  const hub = await startTestHub(t, { subscriptions: true, anonymous: true });
  const watcher = await EventStream.open(t, hub.subscribeUrl([EVENTS, SENTINEL]), {
    Authorization: `Bearer ${await hub.token({ subscribe: [EVERY_SUBSCRIPTION] })}`,
  });
  const anonymous = await EventStream.open(t, hub.subscribeUrl([EVENTS, '*']));
  const otherGrants = await EventStream.open(t, hub.subscribeUrl(['*']), {
    Authorization: `Bearer ${await hub.token({ subscribe: [`${API}/${encodeURIComponent(CHAT)}/{subscriber}`, 'https://example.com/{any}'] })}`,
  });

  const alice = await EventStream.open(t, hub.subscribeUrl([BOOKS]), {
    Authorization: `Bearer ${await hub.token({ payload: { name: 'alice' } })}`,
  });
  alice.close();
  const aboutBooks = () =>
    watcher.events.filter((event) => event.data !== 'end' && document(event)['topic'] === BOOKS);
  await watcher.until(() => aboutBooks().length === 2, "alice's two events");
  // A publisher may not forge subscription events, whatever its token allows.
  const forged = await hub.publish({
    topic: subscriptionId(BOOKS, 'urn:uuid:00000000-0000-4000-8000-000000000000'),
    data: JSON.stringify({ type: 'Subscription', active: true }),
    private: 'on',
  });
  assert.equal(forged.status, 400);
  assert.equal((JSON.parse(forged.body) as { code: string }).code, 'HERALD_ERR_RESERVED_TOPIC');

  assert.equal((await hub.publish({ topic: SENTINEL, data: 'end' })).status, 200);
  for (const stream of [watcher, anonymous, otherGrants]) {
    await stream.until(() => stream.events.at(-1)?.data === 'end', 'the sentinel');
  }
  assert.deepEqual(
    aboutBooks().map((event) => document(event)['active']),
    [true, false],
  );
  // The watcher also saw the two other subscribers arrive: 2 + 1 events, then the sentinel.
  assert.equal(watcher.events.length, 6);
  assert.deepEqual(
    anonymous.events.map((event) => event.data),
    ['end'],
  );
  // Subscription events of other topics (and of watchers subscribing to '*') stay hidden.
  assert.deepEqual(
    otherGrants.events.map((event) => event.data),
    ['end'],
  );
});

test('off by default: no subscription event is published and the API is 404', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  assert.equal(hub.herald.presence, undefined);
  const everything = await hub.token({ subscribe: ['*'] });
  const watcher = await EventStream.open(t, hub.subscribeUrl(['*']), {
    Authorization: `Bearer ${everything}`,
  });
  const alice = await EventStream.open(t, hub.subscribeUrl([BOOKS]), {
    Authorization: `Bearer ${await hub.token({ payload: { name: 'alice' } })}`,
  });
  alice.close();
  await alice.done;
  assert.equal((await hub.publish({ topic: SENTINEL, data: 'end' })).status, 200);
  const events = await watcher.waitForEvents(1);
  assert.deepEqual(
    events.map((event) => event.data),
    ['end'],
  );
  for (const path of [API, topicCollectionId(BOOKS)]) {
    const answer = await api(hub, path, everything);
    assert.equal(answer.status, 404);
    assert.equal(answer.json['code'], 'HERALD_ERR_NOT_FOUND');
  }
});

test('a hub that shuts down gracefully announces the end of each of its subscriptions', async (t) => {
  const key = 'presence-test-key-of-thirty-two-bytes-or-more';
  const file = join(tempDir(t), 'presence.db');
  const args = ['serve', '--port', '0', '--host', '127.0.0.1', '--store', `sqlite:${file}`];
  const env = { HERALD_JWT_KEY: key, HERALD_SUBSCRIPTIONS: 'true' };
  const first = runCli(t, args, env);
  const firstUrl = await first.ready;
  const alice = await EventStream.open(t, `${firstUrl}?topic=${encodeURIComponent(BOOKS)}`, {
    Authorization: `Bearer ${await mintToken({ key, algorithm: 'HS256', payload: { name: 'alice' } })}`,
  });
  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0);
  await alice.waitForEnd();

  const second = runCli(t, args, env);
  const secondUrl = await second.ready;
  // The end was stored at shutdown: the restarted hub finds nothing left open.
  assert.doesNotMatch(second.stdout, /left open/);
  const token = await mintToken({ key, algorithm: 'HS256', subscribe: [EVERY_SUBSCRIPTION] });
  // Before anything happens on the restarted hub: nothing is listed, and lastEventID is where
  // the feed stands (not `earliest`), so resuming from it replays nothing of the earlier run.
  const response = await fetch(new URL(API, secondUrl), {
    headers: { Authorization: `Bearer ${token}` },
  });
  const snapshot = (await response.json()) as Record<string, unknown>;
  assert.deepEqual(snapshot['subscriptions'], []);

  const history = await EventStream.open(
    t,
    `${secondUrl}?topic=${encodeURIComponent(EVENTS)}&lastEventID=earliest`,
    { Authorization: `Bearer ${token}` },
  );
  const events = await history.waitForEvents(2);
  const replayed = events.map(document);
  assert.deepEqual(
    replayed.map((item) => [item['topic'], item['active'], item['payload']]),
    [
      [BOOKS, true, { name: 'alice' }],
      [BOOKS, false, { name: 'alice' }],
    ],
  );
  assert.equal(replayed[0]?.['subscriber'], replayed[1]?.['subscriber']);
  assert.equal(snapshot['lastEventID'], events[1]?.id);
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0);
});

test('a single hub restarted after a crash announces the end of the subscriptions it left open', async (t) => {
  const key = 'presence-test-key-of-thirty-two-bytes-or-more';
  const file = join(tempDir(t), 'presence.db');
  const args = ['serve', '--port', '0', '--host', '127.0.0.1', '--store', `sqlite:${file}`];
  const env = { HERALD_JWT_KEY: key, HERALD_SUBSCRIPTIONS: 'true' };
  const first = runCli(t, args, env);
  const firstUrl = await first.ready;
  const alice = await EventStream.open(t, `${firstUrl}?topic=${encodeURIComponent(BOOKS)}`, {
    Authorization: `Bearer ${await mintToken({ key, algorithm: 'HS256', payload: { name: 'alice' } })}`,
  });
  // A crash: the hub cannot announce anything.
  first.child.kill('SIGKILL');
  await first.exited;
  await alice.waitForEnd();

  const second = runCli(t, args, env);
  const secondUrl = await second.ready;
  assert.match(second.stdout, /ended subscriptions left open by an earlier run/);
  const token = await mintToken({ key, algorithm: 'HS256', subscribe: [EVERY_SUBSCRIPTION] });
  const history = await EventStream.open(
    t,
    `${secondUrl}?topic=${encodeURIComponent(EVENTS)}&lastEventID=earliest`,
    { Authorization: `Bearer ${token}` },
  );
  const replayed = (await history.waitForEvents(2)).map(document);
  assert.deepEqual(
    replayed.map((item) => [item['topic'], item['active'], item['payload']]),
    [
      [BOOKS, true, { name: 'alice' }],
      [BOOKS, false, { name: 'alice' }],
    ],
  );
  assert.equal(replayed[0]?.['subscriber'], replayed[1]?.['subscriber']);
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0);
});
