import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { fetch } from 'undici';
import type { HeraldOptions } from '../../src/config.ts';
import { EventStream } from '../support/event-stream.ts';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { startTestHub } from '../support/test-hub.ts';

const TOPIC = 'https://example.com/reused';
const SECRET_TOPIC = 'https://example.com/secret';

type Store = HeraldOptions['store'];

/** Each store kind, on fresh storage removed after the test. */
const STORES: [name: string, make: (t: TestContext) => Store][] = [
  ['memory', () => ({ kind: 'memory' })],
  [
    'sqlite',
    (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'herald-reused-'));
      t.after(() => {
        rmSync(dir, { recursive: true, force: true });
      });
      return { kind: 'sqlite', path: join(dir, 'history.db') };
    },
  ],
  [
    'redis',
    (t) => {
      const keyPrefix = uniquePrefix('reused');
      t.after(() => deleteKeys(keyPrefix));
      return { kind: 'redis', url: REDIS_URL, keyPrefix };
    },
  ],
];

for (const [name, makeStore] of STORES) {
  test(`${name}: an id may be published again by default; resuming starts after its newest use`, async (t) => {
    const hub = await startTestHub(t, { anonymous: true, store: makeStore(t) });
    for (const data of ['first', 'between', 'second', 'after']) {
      const id = data === 'first' || data === 'second' ? 'urn:example:again' : undefined;
      const answer = await hub.publish({ topic: TOPIC, data, ...(id === undefined ? {} : { id }) });
      assert.equal(answer.status, 200, data);
    }
    const stream = await EventStream.open(
      t,
      hub.subscribeUrl([TOPIC], { lastEventID: 'urn:example:again' }),
    );
    assert.equal(stream.headers.get('last-event-id'), 'urn:example:again');
    // Only what came after the newest use; a marker proves nothing else follows.
    assert.equal((await hub.publish({ topic: TOPIC, data: 'marker' })).status, 200);
    const events = await stream.waitForEvents(2);
    assert.deepEqual(
      events.map((event) => event.data),
      ['after', 'marker'],
    );
    assert.deepEqual(hub.internalErrors, []);
  });

  test(`${name}: with refuseDuplicateIds a reused id is refused (409) and nothing is stored`, async (t) => {
    const hub = await startTestHub(t, {
      anonymous: true,
      store: makeStore(t),
      refuseDuplicateIds: true,
    });
    assert.equal((await hub.publish({ topic: TOPIC, data: 'one', id: 'once' })).status, 200);
    const again = await hub.publish({ topic: TOPIC, data: 'two', id: 'once' });
    assert.equal(again.status, 409);
    const problem = JSON.parse(again.body) as { code: string; detail: string };
    assert.equal(problem.code, 'HERALD_ERR_DUPLICATE_ID');
    assert.equal(problem.detail, 'An update with id "once" already exists.');
    const history = await EventStream.open(
      t,
      hub.subscribeUrl([TOPIC], { lastEventID: 'earliest' }),
    );
    assert.equal((await hub.publish({ topic: TOPIC, data: 'marker' })).status, 200);
    const events = await history.waitForEvents(2);
    assert.deepEqual(
      events.map((event) => event.data),
      ['one', 'marker'],
    );
  });

  test(`${name}: an id the subscriber may not see is answered exactly like an unknown one`, async (t) => {
    const hub = await startTestHub(t, { anonymous: true, store: makeStore(t) });
    const secret = await hub.publish({
      topic: [TOPIC, SECRET_TOPIC],
      data: 'private',
      id: 'sec-1',
      private: 'on',
    });
    assert.equal(secret.status, 200);
    // Public updates after it: a replay from sec-1 would show them.
    assert.equal((await hub.publish({ topic: TOPIC, data: 'public-after' })).status, 200);

    const probe = async (lastEventID: string, headers: Record<string, string> = {}) => {
      const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC], { lastEventID }), headers);
      return stream;
    };
    const hidden = await probe('sec-1');
    const unknown = await probe('never-published');
    assert.equal(hidden.status, 200);
    assert.equal(hidden.headers.get('last-event-id'), 'earliest');
    assert.equal(unknown.headers.get('last-event-id'), 'earliest');
    // The same stream content: nothing replayed, then live.
    assert.equal((await hub.publish({ topic: TOPIC, data: 'marker' })).status, 200);
    for (const stream of [hidden, unknown]) {
      const [first] = await stream.waitForEvents(1);
      assert.equal(first?.data, 'marker');
    }
    // By header too.
    const byHeader = await fetch(hub.subscribeUrl([TOPIC]), {
      headers: { 'Last-Event-ID': 'sec-1' },
    });
    assert.equal(byHeader.headers.get('last-event-id'), 'earliest');
    await byHeader.body?.cancel();
    // A subscriber allowed to see it resumes after it.
    const token = await hub.token({ subscribe: [SECRET_TOPIC] });
    const allowed = await probe('sec-1', { Authorization: `Bearer ${token}` });
    assert.equal(allowed.headers.get('last-event-id'), 'sec-1');
    const [replayed] = await allowed.waitForEvents(1);
    assert.equal(replayed?.data, 'public-after');
    assert.deepEqual(hub.internalErrors, []);
  });
}

test('a SQLite file of schema 1 (unique ids) is migrated when opened: history kept, ids reusable', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-migrate-'));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const path = join(dir, 'v1.db');
  // A file as Herald with schema 1 wrote it.
  const v1 = new DatabaseSync(path);
  v1.exec(`
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE updates (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      topics TEXT NOT NULL,
      data TEXT NOT NULL,
      private INTEGER NOT NULL,
      type TEXT,
      retry INTEGER,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX updates_created_at ON updates (created_at);
    INSERT INTO meta VALUES ('schema', '1');
  `);
  const insert = v1.prepare(
    'INSERT INTO updates (id, topics, data, private, type, retry, created_at) VALUES (?, ?, ?, 0, NULL, NULL, ?)',
  );
  for (const [id, data] of [
    ['old-1', 'one'],
    ['old-2', 'two'],
    ['old-3', 'three'],
  ] as const) {
    insert.run(id, JSON.stringify([TOPIC]), data, Date.now());
  }
  // The newest row was trimmed: AUTOINCREMENT must not hand its seq out again.
  v1.exec("DELETE FROM updates WHERE id = 'old-3'");
  v1.close();

  const hub = await startTestHub(t, { anonymous: true, store: { kind: 'sqlite', path } });
  assert.equal((await hub.publish({ topic: TOPIC, data: 'reused', id: 'old-1' })).status, 200);
  const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC], { lastEventID: 'old-2' }));
  assert.equal(stream.headers.get('last-event-id'), 'old-2');
  const [next] = await stream.waitForEvents(1);
  assert.equal(next?.data, 'reused');
  await hub.herald.close();

  const db = new DatabaseSync(path);
  t.after(() => {
    db.close();
  });
  const meta = db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value: string };
  assert.equal(meta.value, '3');
  const rows = db.prepare('SELECT seq, id FROM updates ORDER BY seq').all() as {
    seq: number;
    id: string;
  }[];
  assert.deepEqual(
    rows.map((row) => row.id),
    ['old-1', 'old-2', 'old-1'],
  );
  assert.equal(rows[2]?.seq, 4, 'the trimmed seq 3 was not handed out again');
});
