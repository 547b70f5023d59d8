import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub } from '../support/test-hub.ts';

// One hub, both dialects at once: the same updates reach a draft-07 subscriber (topic= and a
// mercure-claim token) and a draft-08 subscriber (match_urlpattern= and an access token with
// authorization_details) with the same ids, in the same order, public and private alike.

const BOOK = 'https://example.com/books/1';
const SECRET = 'https://example.com/secret/1';
const MARKER = 'https://example.com/books/marker';

test('the same hub delivers the same updates to a draft-07 and a draft-08 subscriber; private ones only where granted', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const granted07 = await EventStream.open(
    t,
    hub.subscribeUrl(['https://example.com/{kind}/{id}']),
    {
      Authorization: `Bearer ${await hub.token({ subscribe: ['https://example.com/books/{id}'] })}`,
    },
  );
  const url08 = new URL(hub.hubUrl);
  url08.searchParams.append('match_urlpattern', 'https://example.com/:kind/:id');
  const granted08 = await EventStream.open(t, url08.href, {
    Authorization: `Bearer ${await hub.accessToken({
      subscribe: [{ match: 'https://example.com/books/:id', matchType: 'urlpattern' }],
    })}`,
  });
  const anonymous08 = await EventStream.open(t, url08.href);
  const anonymous07 = await EventStream.open(
    t,
    hub.subscribeUrl(['https://example.com/{kind}/{id}']),
  );
  for (const stream of [granted07, granted08, anonymous08, anonymous07]) {
    assert.equal(stream.status, 200, stream.errorBody);
  }

  const published: string[] = [];
  for (const fields of [
    { topic: BOOK, data: 'public' },
    { topic: BOOK, data: 'private', private: 'on' },
    { topic: SECRET, data: 'not granted', private: 'on' },
    // Private, granted through an alternate topic only.
    { topic: [SECRET, 'https://example.com/books/2'], data: 'alternate', private: 'on' },
    { topic: MARKER, data: 'end' },
  ]) {
    const result = await hub.publish(fields);
    assert.equal(result.status, 200, result.body);
    published.push(result.body);
  }
  for (const stream of [granted07, granted08, anonymous08, anonymous07]) {
    await stream.until(() => stream.events.at(-1)?.data === 'end', 'the marker');
  }
  const seen = (stream: EventStream) => stream.events.map(({ id, data }) => ({ id, data }));
  const granted = [
    { id: published[0], data: 'public' },
    { id: published[1], data: 'private' },
    { id: published[3], data: 'alternate' },
    { id: published[4], data: 'end' },
  ];
  assert.deepEqual(seen(granted07), granted);
  assert.deepEqual(seen(granted08), granted);
  const publicOnly = [
    { id: published[0], data: 'public' },
    { id: published[4], data: 'end' },
  ];
  assert.deepEqual(seen(anonymous08), publicOnly);
  assert.deepEqual(seen(anonymous07), publicOnly);
});
