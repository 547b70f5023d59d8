import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventStream } from '../support/event-stream.ts';
import type { TestHub } from '../support/test-hub.ts';
import { startTestHub } from '../support/test-hub.ts';

// Draft-08 (Mercure 1.0) subscriptions: match / match_exact / match_urlpattern.

type Stream = EventStream & { errorBody?: string };

function matchUrl(hub: TestHub, params: [string, string][]): string {
  const url = new URL(hub.hubUrl);
  for (const [name, value] of params) url.searchParams.append(name, value);
  return url.href;
}

function expectProblem(stream: Stream, status: number, code: string): void {
  assert.equal(stream.status, status, stream.errorBody);
  assert.equal(stream.headers.get('content-type'), 'application/problem+json');
  const problem = JSON.parse(stream.errorBody ?? '{}') as Record<string, unknown>;
  assert.equal(problem['code'], code);
}

async function publishOk(hub: TestHub, fields: Record<string, string | string[]>): Promise<string> {
  const result = await hub.publish(fields);
  assert.equal(result.status, 200, result.body);
  return result.body;
}

/** Publishes a marker the stream matches and waits for it: whatever came before it has come. */
async function settle(hub: TestHub, stream: EventStream, marker: string): Promise<string[]> {
  await publishOk(hub, { topic: marker, data: 'marker' });
  await stream.until(() => stream.events.some((event) => event.data === 'marker'), 'the marker');
  return stream.events.filter((event) => event.data !== 'marker').map((event) => event.data);
}

test('match, match_exact and match_urlpattern in any mix: a topic matching any one arrives', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const stream = await EventStream.open(
    t,
    matchUrl(hub, [
      ['match', 'https://example.com/a'],
      ['match_urlpattern', 'https://example.com/books/:id'],
      ['match_exact', 'https://example.com/b'],
      ['match', 'https://example.com/marker'],
    ]),
  );
  assert.equal(stream.status, 200);
  await publishOk(hub, { topic: 'https://example.com/a', data: 'a' });
  await publishOk(hub, { topic: 'https://example.com/b', data: 'b' });
  await publishOk(hub, { topic: 'https://example.com/books/7', data: 'book' });
  await publishOk(hub, { topic: 'https://example.com/books/7/reviews', data: 'not a book' });
  await publishOk(hub, { topic: 'https://example.com/A', data: 'not a (case)' });
  await publishOk(hub, { topic: 'https://example.com/Books/7', data: 'not a book (case)' });
  // An alternate topic that matches is enough.
  await publishOk(hub, {
    topic: ['https://example.com/other', 'https://example.com/books/9'],
    data: 'alternate',
  });
  assert.deepEqual(await settle(hub, stream, 'https://example.com/marker'), [
    'a',
    'b',
    'book',
    'alternate',
  ]);
});

test('exact matching is byte for byte: braces are not a template, nothing is resolved', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const stream = await EventStream.open(
    t,
    matchUrl(hub, [
      ['match', 'https://example.com/books/{id}'],
      ['match', '/relative'],
      ['match', 'urn:marker'],
    ]),
  );
  await publishOk(hub, { topic: 'https://example.com/books/1', data: 'template expansion' });
  await publishOk(hub, { topic: 'https://example.com/books/{id}', data: 'literal' });
  await publishOk(hub, { topic: new URL('/relative', hub.hubUrl).href, data: 'resolved' });
  await publishOk(hub, { topic: '/relative', data: 'relative' });
  assert.deepEqual(await settle(hub, stream, 'urn:marker'), ['literal', 'relative']);
});

test('relative URL patterns and relative topics resolve against the hub URL', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const stream = await EventStream.open(
    t,
    matchUrl(hub, [
      ['match_urlpattern', '/books/:id'],
      ['match', 'urn:marker'],
    ]),
  );
  const origin = new URL(hub.hubUrl).origin;
  await publishOk(hub, { topic: '/books/1', data: 'relative topic' });
  await publishOk(hub, { topic: `${origin}/books/2`, data: 'absolute on the hub' });
  await publishOk(hub, { topic: 'https://elsewhere.example/books/3', data: 'other host' });
  await publishOk(hub, { topic: '/authors/4', data: 'other path' });
  await publishOk(hub, { topic: 'urn:isbn:5', data: 'not a URL' });
  assert.deepEqual(await settle(hub, stream, 'urn:marker'), [
    'relative topic',
    'absolute on the hub',
  ]);
});

test('`*` matches every topic, whatever the matcher type', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  for (const name of ['match', 'match_urlpattern']) {
    const stream = await EventStream.open(t, matchUrl(hub, [[name, '*']]));
    await publishOk(hub, { topic: `urn:any:${name}`, data: name });
    await stream.until(() => stream.events.some((event) => event.data === name), name);
    stream.close();
  }
});

test('refused subscriptions get 400 with a stable code, and nothing is subscribed', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, maxSelectorsPerSubscription: 3 });
  const cases: [string, string][] = [
    // The whole match namespace is reserved, and names are case-sensitive.
    ['Match=https%3A%2F%2Fexample.com%2Fa', 'HERALD_ERR_UNKNOWN_MATCHER'],
    ['MATCH_URLPATTERN=%2Fa', 'HERALD_ERR_UNKNOWN_MATCHER'],
    ['match_URLPattern=%2Fa', 'HERALD_ERR_UNKNOWN_MATCHER'],
    ['match_regex=a.*', 'HERALD_ERR_UNKNOWN_MATCHER'],
    ['match_template=%2Fa%2F%7Bid%7D', 'HERALD_ERR_UNKNOWN_MATCHER'],
    ['matches=1&match=a', 'HERALD_ERR_UNKNOWN_MATCHER'],
    // Value constraints: C0, DEL, C1, format characters, invalid UTF-8.
    ['match=a%00b', 'HERALD_ERR_INVALID_MATCHER'],
    ['match=a%0Ab', 'HERALD_ERR_INVALID_MATCHER'],
    ['match=a%7Fb', 'HERALD_ERR_INVALID_MATCHER'],
    ['match=a%C2%85b', 'HERALD_ERR_INVALID_MATCHER'],
    ['match=a%E2%80%8Bb', 'HERALD_ERR_INVALID_MATCHER'],
    ['match_urlpattern=a%E2%80%AEb', 'HERALD_ERR_INVALID_MATCHER'],
    ['match=a%FFb', 'HERALD_ERR_INVALID_MATCHER'],
    ['match=%ED%A0%80', 'HERALD_ERR_INVALID_MATCHER'],
    // Not a well-formed URL Pattern.
    ['match_urlpattern=https%3A%2F%2Fexample.com%2F(', 'HERALD_ERR_INVALID_MATCHER'],
    // Limits: count (here 3) and length (4,096).
    ['match=a&match=b&match_urlpattern=%2Fc&match=d', 'HERALD_ERR_TOO_MANY_SELECTORS'],
    [`match=${'a'.repeat(4097)}`, 'HERALD_ERR_MATCHER_TOO_LONG'],
    // Both dialects at once.
    ['topic=a&match=b', 'HERALD_ERR_MIXED_DIALECTS'],
    // Draft-08 never takes a token in the URL.
    ['match=a&authorization=x.y.z', 'HERALD_ERR_TOKEN_PRESENTATION'],
  ];
  for (const [query, code] of cases) {
    expectProblem(await EventStream.open(t, `${hub.hubUrl}?${query}`), 400, code);
  }
  assert.equal(hub.herald.hub.subscriberCount, 0);
  // The limits are inclusive: exactly 3 matchers of exactly 4,096 characters are fine.
  const fits = await EventStream.open(
    t,
    matchUrl(hub, [
      ['match', 'a'.repeat(4096)],
      ['match', 'b'],
      ['match_urlpattern', '/c'],
    ]),
  );
  assert.equal(fits.status, 200, fits.errorBody);
  // Nothing published meanwhile was lost: a subscriber made after the refusals gets it all.
  await publishOk(hub, { topic: 'b', data: 'after refusals' });
  await fits.until(() => fits.events.length === 1, 'the update');
});

test('last_event_id, lastEventID and lastEventId resume; the header wins; Mercure-Last-Event-ID answers', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const topic = 'https://example.com/resume';
  const first = await publishOk(hub, { topic, data: 'one' });
  const second = await publishOk(hub, { topic, data: 'two' });
  await publishOk(hub, { topic, data: 'three' });
  for (const name of ['last_event_id', 'lastEventID', 'lastEventId']) {
    const stream = await EventStream.open(
      t,
      matchUrl(hub, [
        ['match', topic],
        [name, first],
      ]),
    );
    await stream.waitForEvents(2);
    assert.deepEqual(
      stream.events.map((event) => event.data),
      ['two', 'three'],
      name,
    );
    assert.equal(stream.headers.get('mercure-last-event-id'), first);
    // Draft-08 renamed the response field; the request header keeps its name.
    assert.equal(stream.headers.get('last-event-id'), null);
    stream.close();
  }
  const header = await EventStream.open(
    t,
    matchUrl(hub, [
      ['match', topic],
      ['last_event_id', first],
    ]),
    { 'Last-Event-ID': second },
  );
  await header.waitForEvents(1);
  assert.equal(header.headers.get('mercure-last-event-id'), second);
  assert.deepEqual(
    header.events.map((event) => event.data),
    ['three'],
  );
  const unknown = await EventStream.open(
    t,
    matchUrl(hub, [
      ['match', topic],
      ['last_event_id', 'urn:never-published'],
    ]),
  );
  assert.equal(unknown.status, 200);
  assert.equal(unknown.headers.get('mercure-last-event-id'), 'earliest');
});

test('--protocol 07 refuses draft-08 subscriptions, --protocol 08 refuses draft-07 ones', async (t) => {
  const only07 = await startTestHub(t, { anonymous: true, protocol: '07' });
  expectProblem(
    await EventStream.open(t, matchUrl(only07, [['match', 'a']])),
    400,
    'HERALD_ERR_DIALECT_NOT_SERVED',
  );
  const draft07 = await EventStream.open(t, only07.subscribeUrl(['a']));
  assert.equal(draft07.status, 200);

  const only08 = await startTestHub(t, { anonymous: true, protocol: '08' });
  expectProblem(
    await EventStream.open(t, only08.subscribeUrl(['a'])),
    400,
    'HERALD_ERR_DIALECT_NOT_SERVED',
  );
  expectProblem(await EventStream.open(t, only08.hubUrl), 400, 'HERALD_ERR_MISSING_TOPIC');
  const draft08 = await EventStream.open(t, matchUrl(only08, [['match', 'a']]));
  assert.equal(draft08.status, 200);
  assert.equal(only07.herald.hub.subscriberCount, 1);
  assert.equal(only08.herald.hub.subscriberCount, 1);
});
