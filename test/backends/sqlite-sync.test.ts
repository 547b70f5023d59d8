import assert from 'node:assert/strict';
import { fsync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { SqliteBackend } from '../../src/backends/sqlite.ts';
import { EARLIEST } from '../../src/core/backend.ts';
import { HeraldError } from '../../src/core/errors.ts';
import type { Update } from '../../src/core/update.ts';

const TOPIC = 'https://example.com/ledger';

/** A disk whose syncs the test completes by hand (really syncing), or fails. */
function heldDisk() {
  const held: { fd: number; done: (error: Error | null) => void }[] = [];
  return {
    held,
    fsync: (fd: number, done: (error: Error | null) => void) => {
      held.push({ fd, done });
    },
    /** Completes the oldest sync waiting, with a real fsync of the file. */
    async release(): Promise<void> {
      const next = held.shift();
      assert.ok(next !== undefined, 'a sync is waiting');
      await new Promise<void>((resolve) => {
        fsync(next.fd, (error) => {
          next.done(error);
          resolve();
        });
      });
    },
    fail(message: string): void {
      const next = held.shift();
      assert.ok(next !== undefined, 'a sync is waiting');
      next.done(Object.assign(new Error(message), { code: 'EIO' }));
    },
  };
}

function openStore(t: TestContext, disk: ReturnType<typeof heldDisk>) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-sqlite-sync-'));
  const path = join(dir, 'history.db');
  const store = SqliteBackend.open({ path, maxEvents: null, maxAgeMs: null, fsync: disk.fsync });
  t.after(async () => {
    while (disk.held.length > 0) disk.fail('test over');
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, path };
}

/** Whether a promise has settled, without waiting for it to. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending');
  const first = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    Promise.resolve(marker),
  ]);
  return first !== marker;
}

/** Lets the store's setImmediate group commit run. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

test('an append is acknowledged, and delivered live, only once the WAL sync has returned', async (t) => {
  const disk = heldDisk();
  const { store, path } = openStore(t, disk);
  const heard: Update[] = [];
  store.onUpdate((update) => heard.push(update));

  const first = store.append([{ topics: [TOPIC], data: 'first', private: false }]);
  await nextTurn();
  // Committed: the row is in the WAL, which the store now syncs on the thread pool.
  assert.equal(disk.held.length, 1);
  assert.ok(statSync(`${path}-wal`).size > 0);
  assert.equal(await settled(first), false, 'not acknowledged before the sync returns');
  assert.equal(heard.length, 0, 'not delivered live before the sync returns');

  // Committed while the first sync runs: these wait for the next sync, which covers both.
  const second = store.append([{ topics: [TOPIC], data: 'second', private: false }]);
  await nextTurn();
  const third = store.append([{ topics: [TOPIC], data: 'third', private: false }]);
  await nextTurn();
  assert.equal(disk.held.length, 1, 'one sync at a time');

  await disk.release();
  const [stored] = await first;
  assert.equal(stored?.data, 'first');
  assert.deepEqual(
    heard.map((update) => update.data),
    ['first'],
  );
  assert.equal(await settled(second), false);
  assert.equal(disk.held.length, 1, 'the next sync covers everything committed meanwhile');

  await disk.release();
  await Promise.all([second, third]);
  assert.deepEqual(
    heard.map((update) => update.data),
    ['first', 'second', 'third'],
  );
  assert.equal(disk.held.length, 0);
});

test('a replay stops before a row still waiting for its sync, which then arrives live, once', async (t) => {
  const disk = heldDisk();
  const { store } = openStore(t, disk);
  const heard: string[] = [];
  store.onUpdate((update) => heard.push(update.data));
  const first = store.append([{ topics: [TOPIC], data: 'synced', private: false }]);
  await nextTurn();
  await disk.release();
  await first;

  const pending = store.append([{ topics: [TOPIC], data: 'waiting', private: false }]);
  await nextTurn();
  // Committed, not yet synced: a resume now must not replay it, or it would come twice.
  const read = await store.readAfter(EARLIEST);
  const replayed: string[] = [];
  for await (const update of read.updates) replayed.push(update.data);
  assert.deepEqual(replayed, ['synced']);
  await disk.release();
  await pending;
  assert.deepEqual(heard, ['synced', 'waiting']);
});

test('a failed sync stops the store: what it covered and everything later is refused, nothing delivered', async (t) => {
  const disk = heldDisk();
  const { store } = openStore(t, disk);
  const heard: Update[] = [];
  store.onUpdate((update) => heard.push(update));

  const good = store.append([{ topics: [TOPIC], data: 'good', private: false }]);
  await nextTurn();
  await disk.release();
  await good;

  const lost = store.append([{ topics: [TOPIC], data: 'unconfirmed', private: false }]);
  await nextTurn();
  disk.fail('EIO: i/o error, fsync');
  await assert.rejects(lost, (error: unknown) => {
    assert.ok(error instanceof HeraldError);
    assert.equal(error.code, 'HERALD_ERR_BACKEND_UNAVAILABLE');
    assert.match(error.message, /the disk did not confirm a write .*EIO.*restart/);
    return true;
  });
  // Fail-stop: the page cache can no longer be trusted, so nothing new is promised.
  await assert.rejects(
    store.append([{ topics: [TOPIC], data: 'later', private: false }]),
    /the disk did not confirm a write/,
  );
  assert.equal(disk.held.length, 0, 'no further write was attempted');
  assert.deepEqual(
    heard.map((update) => update.data),
    ['good'],
  );
  // Nor replayed (its row was committed, not confirmed), nor reported ready: /readyz is 503.
  await assert.rejects(store.readAfter(EARLIEST), /the disk did not confirm a write/);
  await assert.rejects(store.lastEventId(), /the disk did not confirm a write/);
});

test('close waits for the sync under way, and acknowledges what it covers', async (t) => {
  const disk = heldDisk();
  const { store } = openStore(t, disk);
  const pending = store.append([{ topics: [TOPIC], data: 'in flight', private: false }]);
  await nextTurn();
  const closing = store.close();
  assert.equal(await settled(closing), false, 'close waits for the sync');
  await disk.release();
  await closing;
  const [stored] = await pending;
  assert.equal(stored?.data, 'in flight');
});
