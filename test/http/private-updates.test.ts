import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub } from '../support/test-hub.ts';

const ALICE = 'https://example.com/users/alice/inbox';
const BOB = 'https://example.com/users/bob/inbox';

test('a private update reaches only subscribers whose subscribe claim covers one of its topics', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const aliceToken = await hub.token({ subscribe: ['https://example.com/users/alice/{box}'] });
  const bobToken = await hub.token({ subscribe: [BOB] });
  const openWith = (token: string | undefined, query: Record<string, string> = {}) =>
    EventStream.open(
      t,
      hub.subscribeUrl(['https://example.com/users/{user}/inbox'], query),
      token === undefined ? {} : { Authorization: `Bearer ${token}` },
    );

  const anonymous = await openWith(undefined);
  const alice = await openWith(aliceToken);
  const bob = await openWith(bobToken);
  // A token in the query (EventSource cannot set headers) grants the same as the header.
  const aliceByQuery = await openWith(undefined, { authorization: aliceToken });
  // And in the cookie.
  const aliceByCookie = await EventStream.open(
    t,
    hub.subscribeUrl(['https://example.com/users/{user}/inbox']),
    { Cookie: `other=1; mercureAuthorization=${aliceToken}` },
  );

  const secret = await hub.publish({ topic: ALICE, data: 'for alice', private: 'on' });
  assert.equal(secret.status, 200);
  // Private with an alternate topic Bob may see: Bob receives it through the alternate.
  await hub.publish({ topic: ['https://example.com/shared/1', BOB], data: 'for bob', private: '' });
  await hub.publish({ topic: ALICE, data: 'public' });

  assert.deepEqual(
    (await alice.waitForEvents(2)).map((event) => event.data),
    ['for alice', 'public'],
  );
  for (const stream of [aliceByQuery, aliceByCookie]) {
    assert.deepEqual(
      (await stream.waitForEvents(2)).map((event) => event.data),
      ['for alice', 'public'],
    );
  }
  assert.deepEqual(
    (await bob.waitForEvents(2)).map((event) => event.data),
    ['for bob', 'public'],
  );
  assert.deepEqual(
    (await anonymous.waitForEvents(1)).map((event) => event.data),
    ['public'],
  );
  // Let any stray frame arrive before checking that none did.
  await hub.publish({ topic: ALICE, data: 'end' });
  for (const stream of [anonymous, alice, bob])
    await stream.until(() => stream.events.at(-1)?.data === 'end', 'end');
  assert.deepEqual(
    anonymous.events.map((event) => event.data),
    ['public', 'end'],
  );
  assert.deepEqual(
    bob.events.map((event) => event.data),
    ['for bob', 'public', 'end'],
  );
});

test('private updates are filtered in history replays too', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  await hub.publish({ topic: ALICE, data: 'secret', private: 'on' });
  await hub.publish({ topic: ALICE, data: 'public' });
  const anonymous = await EventStream.open(
    t,
    hub.subscribeUrl([ALICE], { lastEventID: 'earliest' }),
  );
  const alice = await EventStream.open(t, hub.subscribeUrl([ALICE], { lastEventID: 'earliest' }), {
    Authorization: `Bearer ${await hub.token({ subscribe: [ALICE] })}`,
  });
  assert.deepEqual(
    (await alice.waitForEvents(2)).map((event) => event.data),
    ['secret', 'public'],
  );
  // The replay is over once a marker published now arrives: nothing private came before it.
  assert.equal((await hub.publish({ topic: ALICE, data: 'marker' })).status, 200);
  assert.deepEqual(
    (await anonymous.eventsBefore('marker')).map((event) => event.data),
    ['public'],
  );
});
