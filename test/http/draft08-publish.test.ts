import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub } from '../support/test-hub.ts';

// Draft-08 "Publication": rules that hold whatever the publisher's token allows, for every
// publisher of the hub (a draft-07 publisher must not forge what draft-08 subscribers trust).

const REFUSED: [Record<string, string | string[]>, string][] = [
  // The reserved namespace: the hub path and everything under it, after resolution.
  [{ topic: '/.well-known/mercure' }, 'HERALD_ERR_RESERVED_TOPIC'],
  [{ topic: '/.well-known/mercure/anything' }, 'HERALD_ERR_RESERVED_TOPIC'],
  [{ topic: '/.well-known/mercure/subscriptions/exact/a/b' }, 'HERALD_ERR_RESERVED_TOPIC'],
  [
    { topic: 'https://any.example/.well-known/mercure/subscriptions/x' },
    'HERALD_ERR_RESERVED_TOPIC',
  ],
  [{ topic: '/.well-known/%6Dercure/subscriptions/x' }, 'HERALD_ERR_RESERVED_TOPIC'],
  [{ topic: '/.well-known/mercure/../mercure/x' }, 'HERALD_ERR_RESERVED_TOPIC'],
  [{ topic: '/a/b/../../.well-known/mercure/x' }, 'HERALD_ERR_RESERVED_TOPIC'],
  [{ topic: '/.well-known/.%2E/.well-known/mercure/x' }, 'HERALD_ERR_RESERVED_TOPIC'],
  // Relative to the hub URL itself: `mercure/x` is /.well-known/mercure/x.
  [{ topic: 'mercure/x' }, 'HERALD_ERR_RESERVED_TOPIC'],
  // An alternate topic counts as much as the canonical one.
  [{ topic: ['https://example.com/ok', '/.well-known/mercure/x'] }, 'HERALD_ERR_RESERVED_TOPIC'],
  // The wildcard is not a topic.
  [{ topic: '*' }, 'HERALD_ERR_RESERVED_TOPIC'],
  [{ topic: ['https://example.com/ok', '*'] }, 'HERALD_ERR_RESERVED_TOPIC'],
  // Topic characters: C0, DEL, C1, format characters.
  [{ topic: 'https://example.com/a\u0001' }, 'HERALD_ERR_INVALID_TOPIC'],
  [{ topic: 'https://example.com/a\u007F' }, 'HERALD_ERR_INVALID_TOPIC'],
  [{ topic: 'https://example.com/a\u0085' }, 'HERALD_ERR_INVALID_TOPIC'],
  [{ topic: 'https://example.com/\u202Egnp.exe' }, 'HERALD_ERR_INVALID_TOPIC'],
  [{ topic: 'https://exa\u200Bmple.com/a' }, 'HERALD_ERR_INVALID_TOPIC'],
  // The type: `mercure` marks the hub's own events; no controls or format characters.
  [{ topic: 'https://example.com/ok', type: 'mercure' }, 'HERALD_ERR_INVALID_TYPE'],
  [{ topic: 'https://example.com/ok', type: 'a\u0007b' }, 'HERALD_ERR_INVALID_TYPE'],
  [{ topic: 'https://example.com/ok', type: 'a\u2066b' }, 'HERALD_ERR_INVALID_TYPE'],
];

test('reserved topics, `*`, forbidden characters and the mercure type get 400, before the token is asked', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const watcher = await EventStream.open(t, hub.subscribeUrl(['*']));
  // A token that may publish everywhere, and one that may publish almost nowhere: the refusal
  // is the same 400 (draft-08: "regardless of the presented access token").
  const narrow = await hub.token({ publish: ['https://example.com/only-this'] });
  for (const [fields, code] of REFUSED) {
    for (const token of [undefined, narrow]) {
      const result = await hub.publish({ data: 'forged', ...fields }, token);
      assert.equal(result.status, 400, `${JSON.stringify(fields)}: ${result.body}`);
      assert.equal(
        (JSON.parse(result.body) as { code: string }).code,
        code,
        JSON.stringify(fields),
      );
    }
  }
  // Near misses are ordinary topics.
  for (const topic of [
    '/.well-known/mercurex',
    '/.well-known/mercure-ui',
    '/.well-known/%6dERCURE',
    'urn:x:/.well-known/mercure/y',
    'https://example.com/*',
    '**',
  ]) {
    const result = await hub.publish({ topic, data: 'ordinary' });
    assert.equal(result.status, 200, `${topic}: ${result.body}`);
  }
  assert.equal((await hub.publish({ topic: 'urn:marker', data: 'end' })).status, 200);
  await watcher.until(() => watcher.events.at(-1)?.data === 'end', 'the marker');
  // Nothing refused was stored or delivered.
  assert.deepEqual(
    watcher.events.map((event) => event.data),
    ['ordinary', 'ordinary', 'ordinary', 'ordinary', 'ordinary', 'ordinary', 'end'],
  );
});

test('a JSON publish obeys the same rules', async (t) => {
  const hub = await startTestHub(t);
  const token = await hub.token({ publish: ['*'] });
  for (const update of [
    { topic: '/.well-known/mercure/subscriptions/x', data: 'x' },
    { topic: '*', data: 'x' },
    { topic: 'https://example.com/a', type: 'mercure', data: 'x' },
  ]) {
    const response = await fetch(hub.hubUrl, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(update),
    });
    assert.equal(response.status, 400);
  }
});
