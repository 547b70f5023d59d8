/**
 * The one conformance suite every Backend runs (memory, SQLite, Redis, ...), in the manner of
 * Hono's shared router tests: a backend's test file calls `runBackendConformance` with a
 * factory, and the suite checks the whole `Backend` contract through the interface alone.
 *
 * What a durable or distributed backend must know:
 * - Work that happens after `append` resolves (retention trims, `onUpdate` deliveries, above
 *   all from another node) is awaited through `BackendHandle.settle` when given, and in any
 *   case polled for up to `EVENTUALLY_MS`: such checks must hold *eventually*, not at once.
 * - `onUpdate` must be live when it returns, and `create`/`reopen`/`openPeer` must resolve only
 *   once the backend's update feed is live: the suite appends right after subscribing.
 * - Updates come back compared field by field: absent optional fields may be missing or
 *   `undefined` (never `null`), `''` and `0` stay `''` and `0`, and no extra fields appear.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import type { Backend, Position } from '../../src/core/backend.ts';
import { BEFORE_ALL, EARLIEST } from '../../src/core/backend.ts';
import { isHeraldError } from '../../src/core/errors.ts';
import type { NewUpdate, Update } from '../../src/core/update.ts';
import { eventually } from '../support/wait.ts';

/** How a backend is configured for one test. */
export interface BackendOptions {
  /** The most updates history keeps; older ones are trimmed. `0` keeps none. */
  readonly historySize: number;
  /** Opened to refuse an id already in history (HERALD_ERR_DUPLICATE_ID); else ids may repeat. */
  readonly refuseDuplicateIds: boolean;
}

/** Creates backends for the suite. One factory per backend kind. */
export interface BackendFactory {
  /** A fresh backend on fresh, empty storage that no other test shares. */
  create(options: BackendOptions): Promise<BackendHandle>;
  /**
   * What the store cannot do, each with the reason, which becomes the skip message of the cases
   * that need it. Declared here rather than found on a handle because node:test settles skips
   * when a test is declared, before any backend exists. A capability not listed as lacking is
   * required: its cases run and fail if the handle does not provide the matching method.
   */
  readonly lacks?: {
    /** History does not survive `close()`; else `BackendHandle.reopen` is required. */
    readonly persistence?: string;
    /** No second node can share the storage; else `BackendHandle.openPeer` is required. */
    readonly sharedStorage?: string;
  };
}

/**
 * One test's backend and its storage. The suite closes every backend it got from the handle
 * (`backend`, and those `reopen` and `openPeer` returned), then calls `cleanup`.
 */
export interface BackendHandle {
  readonly backend: Backend;
  /**
   * Opens a new backend on the same storage, with the same options. The suite has closed the
   * previous one first, so this models a process restart.
   */
  reopen?(): Promise<Backend>;
  /** Opens a second node on the same storage while the first stays open (a second process). */
  openPeer?(): Promise<Backend>;
  /**
   * Resolves once background work started by earlier calls is done: retention trims, and
   * `onUpdate` deliveries to every backend this handle opened. Omit it when `append` does all
   * of that before it resolves. Without it the suite still polls, for up to `EVENTUALLY_MS`.
   */
  settle?(): Promise<void>;
  /** Removes the storage (files, keys). Every backend on it is closed by then. */
  cleanup(): Promise<void>;
}

/** How long a check of background work may take to hold before it fails. */
export const EVENTUALLY_MS = 5_000;
/** Big enough that no test but the retention ones ever trims. */
const ROOMY = 10_000;

interface Fixture {
  readonly backend: Backend;
  /** Closes `backend` and opens a new one on the same storage. */
  reopen(): Promise<Backend>;
  openPeer(): Promise<Backend>;
  /** Runs `check` until it passes (after `settle` each time) or `EVENTUALLY_MS` has passed. */
  eventually(check: () => void | Promise<void>): Promise<void>;
}

async function setUp(
  t: TestContext,
  factory: BackendFactory,
  historySize: number = ROOMY,
  refuseDuplicateIds = false,
): Promise<Fixture> {
  const handle = await factory.create({ historySize, refuseDuplicateIds });
  const opened: Backend[] = [handle.backend];
  t.after(async () => {
    try {
      for (const backend of opened) await backend.close();
    } finally {
      await handle.cleanup();
    }
  });
  return {
    backend: handle.backend,
    async reopen() {
      if (handle.reopen === undefined) {
        assert.fail('The factory does not declare lacks.persistence, so reopen() is required.');
      }
      for (const backend of opened) await backend.close();
      const reopened = await handle.reopen();
      opened.push(reopened);
      return reopened;
    },
    async openPeer() {
      if (handle.openPeer === undefined) {
        assert.fail('The factory does not declare lacks.sharedStorage, so openPeer() is required.');
      }
      const peer = await handle.openPeer();
      opened.push(peer);
      return peer;
    },
    async eventually(check) {
      await eventually(
        async () => {
          await handle.settle?.();
          await check();
        },
        { timeout: EVENTUALLY_MS },
      );
    },
  };
}

/** A history read, drained. */
/** The update a read from `lastEventId` starts after. */
async function afterOf(backend: Backend, lastEventId: string): Promise<Update | undefined> {
  return (await backend.readAfter(lastEventId)).after;
}

async function read(
  backend: Backend,
  lastEventId: string,
): Promise<{ found: boolean; updates: Update[] }> {
  const history = await backend.readAfter(lastEventId);
  const updates: Update[] = [];
  for await (const update of history.updates) updates.push(update);
  return { found: history.found, updates };
}

async function idsAfter(backend: Backend, lastEventId: string): Promise<string[]> {
  return (await read(backend, lastEventId)).updates.map((update) => update.id);
}

/** Records what a listener receives; `stop` unsubscribes. */
function listen(backend: Backend): { received: Update[]; ids: () => string[]; stop: () => void } {
  const received: Update[] = [];
  const stop = backend.onUpdate((update) => received.push(update));
  return { received, ids: () => received.map((update) => update.id), stop };
}

/** Records the id and the position of each update a listener receives. */
function listenWithPositions(backend: Backend): {
  received: { id: string; position: Position }[];
  ids: () => string[];
  positions: () => Position[];
} {
  const received: { id: string; position: Position }[] = [];
  backend.onUpdate((update, position) => received.push({ id: update.id, position }));
  return {
    received,
    ids: () => received.map((entry) => entry.id),
    positions: () => received.map((entry) => entry.position),
  };
}

/**
 * An update's fields as a plain object, without those that are `undefined`: a store may give
 * back an absent optional field as missing or as `undefined`, and that is the same update.
 * Anything else (`null`, `''` for absent, a string retry, an extra column) stays visible.
 */
function fieldsOf(update: NewUpdate): Record<string, unknown> {
  return Object.fromEntries(Object.entries(update).filter(([, value]) => value !== undefined));
}

function assertSameUpdates(actual: readonly Update[], expected: readonly NewUpdate[]): void {
  assert.deepEqual(actual.map(fieldsOf), expected.map(fieldsOf));
}

/** `updates` with the ids the backend gave them. */
function withIds(updates: readonly NewUpdate[], stored: readonly Update[]): Update[] {
  assert.equal(stored.length, updates.length);
  return updates.map((update, i) => ({ ...update, id: stored[i]?.id ?? '' }));
}

function update(data: string, id?: string): NewUpdate {
  return id === undefined
    ? { topics: ['https://example.com/t'], data, private: false }
    : { topics: ['https://example.com/t'], data, private: false, id };
}

function updates(count: number, prefix = 'u'): NewUpdate[] {
  return Array.from({ length: count }, (_, i) => update(`${prefix}${i}`));
}

/** Appends one update at a time; returns the ids. */
async function appendEach(backend: Backend, list: readonly NewUpdate[]): Promise<string[]> {
  const ids: string[] = [];
  for (const item of list) ids.push(...(await backend.append([item])).map((u) => u.id));
  return ids;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

async function assertDuplicate(append: () => Promise<unknown>): Promise<void> {
  await assert.rejects(append, (error: unknown) => {
    assert.ok(isHeraldError(error), `expected a HeraldError, got ${String(error)}`);
    assert.equal(error.code, 'HERALD_ERR_DUPLICATE_ID');
    return true;
  });
}

/** A call on a closed store: HERALD_ERR_BACKEND_UNAVAILABLE, saying the store is closed. */
function assertClosedError(error: unknown, call: string): true {
  assert.ok(isHeraldError(error), `${call}: expected a HeraldError, got ${String(error)}`);
  assert.equal(error.code, 'HERALD_ERR_BACKEND_UNAVAILABLE', call);
  assert.equal(error.message, 'The history store is closed.', call);
  return true;
}

/** The rules `validateNewUpdate` puts on a publisher's id hold for assigned ids too. */
function assertValidAssignedId(id: unknown): void {
  assert.equal(typeof id, 'string');
  assert.ok(id !== '' && id !== EARLIEST, `assigned id ${String(id)} is empty or reserved`);
  assert.ok(!String(id).startsWith('#'), `assigned id ${String(id)} starts with #`);
  assert.doesNotMatch(String(id), /[\r\n\0]/);
}

/**
 * Every field shape a publish can hand a backend, frozen so that a backend that writes to
 * its input fails loudly.
 */
const VARIED: readonly NewUpdate[] = deepFreeze([
  { topics: ['https://example.com/books/1'], data: 'plain', private: false },
  {
    // The canonical topic first, then alternates: order is part of the update.
    topics: [
      'https://example.com/books/1',
      'https://example.com/users/dunglas/books',
      'urn:isbn:978-2-07-036822-8',
    ],
    data: '{"title":"with alternates"}',
    private: true,
    id: 'urn:uuid:publisher-given-1',
    type: 'book.updated',
    retry: 5000,
  },
  {
    topics: ['https://example.com/ünïcødé/主题'],
    data: 'line one\nline two\r\nline three\rline four\n\n',
    private: false,
    id: 'given/ünïcødé 🚀',
    type: 'multi-line',
  },
  { topics: ['t'], data: 'héllo wörld — 你好 — 🌍🚀 — 𝄞', private: false, retry: 0 },
  // Empty data and an empty type are values, not absence.
  { topics: ['t'], data: '', private: false, type: '' },
  // Data is opaque: a NUL, a tab and trailing spaces are part of it.
  { topics: ['t'], data: 'nul\u0000inside\tand trailing  ', private: false },
  { topics: ['t'], data: 'x'.repeat(256 * 1024), private: false },
  {
    topics: ['t'],
    data: 'explicitly undefined optionals',
    private: false,
    id: undefined,
    type: undefined,
    retry: undefined,
  },
]);

/**
 * Declares the conformance cases for one backend kind, grouped under `name`. Call it at the
 * top level of a `*.test.ts` file.
 */
export function runBackendConformance(name: string, factory: BackendFactory): void {
  const persistence =
    factory.lacks?.persistence === undefined ? {} : { skip: factory.lacks.persistence };
  const sharedStorage =
    factory.lacks?.sharedStorage === undefined ? {} : { skip: factory.lacks.sharedStorage };

  describe(`Backend conformance: ${name}`, () => {
    // --- Storing and reading back ---------------------------------------------------------

    test('append resolves with the updates in order, each with its id and fields unchanged', async (t) => {
      const { backend } = await setUp(t, factory);
      const stored = await backend.append(VARIED);
      assertSameUpdates(stored, withIds(VARIED, stored));
      for (const item of stored) assert.equal(typeof item.id, 'string');
    });

    test('readAfter(earliest) returns appended updates in order with every field intact', async (t) => {
      const { backend } = await setUp(t, factory);
      const stored = [
        ...(await backend.append(VARIED.slice(0, 3))),
        ...(await backend.append(VARIED.slice(3, 4))),
        ...(await backend.append(VARIED.slice(4))),
      ];
      const history = await read(backend, EARLIEST);
      assert.equal(history.found, true);
      assertSameUpdates(history.updates, withIds(VARIED, stored));
    });

    test('absent optional fields come back absent or undefined, never null or empty', async (t) => {
      const { backend } = await setUp(t, factory);
      await backend.append([update('bare')]);
      const [back] = (await read(backend, EARLIEST)).updates;
      assert.ok(back !== undefined);
      assert.equal(back.type, undefined);
      assert.equal(back.retry, undefined);
      assert.equal(back.private, false);
    });

    // --- Ids ------------------------------------------------------------------------------

    test('ids are assigned when absent and kept when given', async (t) => {
      const { backend } = await setUp(t, factory);
      const stored = await backend.append([
        update('a'),
        update('b', 'given-b'),
        update('c'),
        update('d', 'urn:uuid:0190a6c8-0000-7000-8000-000000000000'),
      ]);
      assert.equal(stored[1]?.id, 'given-b');
      assert.equal(stored[3]?.id, 'urn:uuid:0190a6c8-0000-7000-8000-000000000000');
      assertValidAssignedId(stored[0]?.id);
      assertValidAssignedId(stored[2]?.id);
      assert.equal(new Set(stored.map((u) => u.id)).size, 4);
      assert.deepEqual(await idsAfter(backend, EARLIEST), [
        stored[0]?.id,
        'given-b',
        stored[2]?.id,
        'urn:uuid:0190a6c8-0000-7000-8000-000000000000',
      ]);
    });

    test('assigned ids are unique and sort in append order across many appends', async (t) => {
      const { backend } = await setUp(t, factory);
      const assigned: string[] = [];
      const all: string[] = [];
      for (let round = 0; round < 100; round++) {
        // Singles, batches of several sizes, and given ids (that need not sort) in between.
        const batch = updates((round % 7) + 1, `r${round}-`);
        if (round % 10 === 3) batch.push(update('given', `~given-${round}`));
        if (round % 10 === 6) batch.unshift(update('given', `!given-${round}`));
        const stored = await backend.append(batch);
        stored.forEach((item, i) => {
          all.push(item.id);
          if (batch[i]?.id === undefined) assigned.push(item.id);
        });
      }
      assert.equal(new Set(all).size, all.length, 'ids are unique');
      for (let i = 1; i < assigned.length; i++) {
        const [before, after] = [assigned[i - 1] ?? '', assigned[i] ?? ''];
        assert.ok(before < after, `assigned id #${i} ${after} sorts after ${before}`);
      }
      assert.deepEqual(await idsAfter(backend, EARLIEST), all);
    });

    // --- Reading from a point -------------------------------------------------------------

    test('readAfter(id) returns strictly the updates after that id', async (t) => {
      const { backend } = await setUp(t, factory);
      const ids = [
        ...(await appendEach(backend, updates(3, 'a'))),
        ...(await backend.append(updates(4, 'b'))).map((u) => u.id),
        ...(await appendEach(backend, [update('given', 'given-x'), update('c')])),
      ];
      for (let i = 0; i < ids.length; i++) {
        const after = await read(backend, ids[i] ?? '');
        assert.equal(after.found, true, `after ${ids[i]} is found`);
        assert.deepEqual(
          after.updates.map((u) => u.id),
          ids.slice(i + 1),
        );
      }
    });

    test('readAfter on the newest id returns nothing, and found', async (t) => {
      const { backend } = await setUp(t, factory);
      const ids = await appendEach(backend, updates(3));
      assert.deepEqual(await read(backend, ids[2] ?? ''), { found: true, updates: [] });
    });

    test('readAfter on an unknown id returns not found and no updates', async (t) => {
      const { backend } = await setUp(t, factory);
      const ids = await appendEach(backend, updates(3));
      for (const unknown of [
        'never-issued',
        'urn:uuid:00000000-0000-7000-8000-000000000000',
        `${ids[1] ?? ''}x`,
        'ünïcødé 🚀',
      ]) {
        assert.deepEqual(await read(backend, unknown), { found: false, updates: [] }, unknown);
      }
    });

    test('readAfter(earliest) on empty history is found, with nothing', async (t) => {
      const { backend } = await setUp(t, factory);
      assert.deepEqual(await read(backend, EARLIEST), { found: true, updates: [] });
    });

    test('a read iterated after later appends still yields what it was made for, in order', async (t) => {
      // The hub reads history, then replays it while live updates queue up: a lazy read may
      // also yield later updates, but never skip, reorder or repeat one.
      const { backend } = await setUp(t, factory);
      const ids = await appendEach(backend, updates(5, 'before'));
      const history = await backend.readAfter(ids[1] ?? '');
      assert.equal(history.found, true);
      ids.push(...(await appendEach(backend, updates(5, 'after'))));
      const yielded: string[] = [];
      for await (const item of history.updates) yielded.push(item.id);
      assert.deepEqual(yielded.slice(0, 3), ids.slice(2, 5));
      assert.deepEqual(yielded, ids.slice(2, 2 + yielded.length));
    });

    test('lastEventId is undefined when history is empty, then the newest id', async (t) => {
      const { backend } = await setUp(t, factory);
      assert.equal(await backend.lastEventId(), undefined);
      const [first] = await backend.append([update('one')]);
      assert.equal(await backend.lastEventId(), first?.id);
      const batch = await backend.append([update('two'), update('three', 'given-last')]);
      assert.equal(await backend.lastEventId(), 'given-last');
      assert.equal(batch.at(-1)?.id, 'given-last');
    });

    // --- Listeners ------------------------------------------------------------------------

    test('onUpdate listeners each receive every appended update once, in order', async (t) => {
      const fixture = await setUp(t, factory);
      const { backend } = fixture;
      const first = listen(backend);
      const second = listen(backend);
      const stored = [
        ...(await backend.append(VARIED.slice(0, 2))),
        ...(await backend.append(VARIED.slice(2, 3))),
        ...(await backend.append(VARIED.slice(3))),
      ];
      await fixture.eventually(() => {
        assertSameUpdates(first.received, withIds(VARIED, stored));
        assertSameUpdates(second.received, withIds(VARIED, stored));
      });
    });

    test('an unsubscribed listener receives nothing more, and the others keep receiving', async (t) => {
      const fixture = await setUp(t, factory);
      const { backend } = fixture;
      const leaving = listen(backend);
      const staying = listen(backend);
      const before = await appendEach(backend, updates(2, 'before'));
      await fixture.eventually(() => {
        assert.deepEqual(leaving.ids(), before);
      });
      leaving.stop();
      leaving.stop(); // Unsubscribing twice is harmless.
      const after = await appendEach(backend, updates(3, 'after'));
      // Once the remaining listener has everything, the one that left would have too.
      await fixture.eventually(() => {
        assert.deepEqual(staying.ids(), [...before, ...after]);
      });
      assert.deepEqual(leaving.ids(), before);
    });

    // --- Positions --------------------------------------------------------------------------

    test('every update reaches listeners with a position, strictly increasing in delivery order', async (t) => {
      const fixture = await setUp(t, factory);
      const { backend } = fixture;
      const listener = listenWithPositions(backend);
      await appendEach(backend, updates(3, 'single'));
      await backend.append(updates(4, 'batch'));
      // Reused ids too: positions tell apart what ids cannot.
      await appendEach(backend, [update('one', 'again'), update('two', 'again')]);
      await Promise.all(Array.from({ length: 8 }, (_, b) => backend.append(updates(3, `c${b}-`))));
      const history = await idsAfter(backend, EARLIEST);
      assert.equal(history.length, 33);
      await fixture.eventually(() => {
        assert.deepEqual(listener.ids(), history);
      });
      const positions = listener.positions();
      for (const [i, position] of positions.entries()) {
        assert.equal(typeof position, 'bigint');
        assert.ok(
          position > (positions[i - 1] ?? BEFORE_ALL),
          `position #${i} ${position} increases`,
        );
      }
    });

    test('a read reaches the position of the newest update it holds, already handed to listeners', async (t) => {
      const { backend } = await setUp(t, factory);
      const listener = listenWithPositions(backend);
      const ids = [
        ...(await appendEach(backend, updates(5))),
        ...(await backend.append(updates(3, 'batch'))).map((u) => u.id),
      ];
      // No waiting for listeners: a backend whose live feed lags its store resolves a read only
      // once its listeners have everything up to where the read reaches.
      for (const from of [EARLIEST, ids[0] ?? '', ids[5] ?? '', ids[7] ?? '']) {
        const history = await backend.readAfter(from);
        assert.equal(history.found, true, from);
        assert.deepEqual(listener.ids(), ids, `listeners have every update read from ${from}`);
        assert.equal(history.reached, listener.positions().at(-1), from);
      }
    });

    test('live updates after a read are exactly those past the position it reached', async (t) => {
      const fixture = await setUp(t, factory);
      const { backend } = fixture;
      const listener = listenWithPositions(backend);
      const before = await appendEach(backend, updates(4, 'before'));
      const history = await backend.readAfter(before[0] ?? '');
      // Stored while the read is replayed, as a hub's live updates are.
      const later = [
        ...(await appendEach(backend, updates(2, 'later'))),
        ...(await backend.append(updates(3, 'later-batch'))).map((u) => u.id),
      ];
      const replayed: string[] = [];
      for await (const item of history.updates) replayed.push(item.id);
      await fixture.eventually(() => {
        assert.deepEqual(listener.ids(), [...before, ...later]);
      });
      const covered = listener.received.filter((entry) => entry.position <= history.reached);
      const notCovered = listener.received.filter((entry) => entry.position > history.reached);
      assert.deepEqual(
        covered.map((entry) => entry.id),
        before,
      );
      assert.deepEqual(
        notCovered.map((entry) => entry.id),
        later,
      );
      // The replay then the live updates it does not cover: each update after the start once.
      assert.deepEqual(
        [...replayed, ...notCovered.map((entry) => entry.id)],
        [...before.slice(1), ...later],
      );
    });

    test('a read of an unknown or trimmed id reaches no update; one of empty or trimmed history reaches only what it holds', async (t) => {
      const fixture = await setUp(t, factory, 2);
      const { backend } = fixture;
      const listener = listenWithPositions(backend);
      const empty = await backend.readAfter(EARLIEST);
      assert.equal((await backend.readAfter('never-issued')).reached, BEFORE_ALL);
      const ids = await appendEach(backend, updates(5));
      await fixture.eventually(async () => {
        assert.deepEqual(await idsAfter(backend, EARLIEST), ids.slice(-2));
        assert.deepEqual(listener.ids(), ids);
      });
      for (const position of listener.positions()) assert.ok(position > empty.reached);
      const trimmed = await backend.readAfter(ids[0] ?? '');
      assert.equal(trimmed.found, false);
      assert.equal(trimmed.reached, BEFORE_ALL);
      assert.equal((await backend.readAfter(EARLIEST)).reached, listener.positions().at(-1));
    });

    test(
      'a read on one node reaches the position its own listeners got for a peer’s newest update',
      sharedStorage,
      async (t) => {
        const fixture = await setUp(t, factory);
        const peer = await fixture.openPeer();
        const here = listenWithPositions(fixture.backend);
        const there = listenWithPositions(peer);
        const stored = (await peer.append(updates(300, 'peer'))).map((u) => u.id);
        // At once: this node's live feed may still be reading the peer's updates.
        const history = await fixture.backend.readAfter(EARLIEST);
        assert.deepEqual(here.ids(), stored);
        assert.equal(history.reached, here.positions().at(-1));
        await fixture.eventually(() => {
          assert.deepEqual(there.ids(), stored);
        });
        assert.deepEqual(
          there.positions(),
          here.positions(),
          'one position per update, on every node',
        );
      },
    );

    // --- Reused ids (the default, as on the reference hub) ---------------------------------

    test('by default an id may be used again: each use is stored and delivered, in order', async (t) => {
      const fixture = await setUp(t, factory);
      const { backend } = fixture;
      const listener = listen(backend);
      await backend.append([update('first', 'again')]);
      await backend.append([update('between')]);
      // Twice in one batch too.
      await backend.append([update('second', 'again'), update('third', 'again')]);
      const history = await read(backend, EARLIEST);
      assert.deepEqual(
        history.updates.map((u) => [u.id === 'again', u.data]),
        [
          [true, 'first'],
          [false, 'between'],
          [true, 'second'],
          [true, 'third'],
        ],
      );
      assert.equal(await backend.lastEventId(), 'again');
      await fixture.eventually(() => {
        assert.deepEqual(
          listener.received.map((u) => u.data),
          ['first', 'between', 'second', 'third'],
        );
      });
    });

    test('resuming from a reused id starts after its newest use, and names that update', async (t) => {
      const { backend } = await setUp(t, factory);
      await appendEach(backend, [update('a', 'x'), update('b'), update('c', 'x'), update('d')]);
      const resumed = await read(backend, 'x');
      assert.equal(resumed.found, true);
      assert.deepEqual(
        resumed.updates.map((u) => u.data),
        ['d'],
      );
      const after = await afterOf(backend, 'x');
      assert.equal(after?.data, 'c');
      assert.equal(after.id, 'x');
      assert.equal(await afterOf(backend, EARLIEST), undefined);
    });

    test('trimming the older use of an id keeps the newer one findable', async (t) => {
      const fixture = await setUp(t, factory, 3);
      const { backend } = fixture;
      await appendEach(backend, [
        update('old', 'x'),
        update('y'),
        update('new', 'x'),
        update('z'),
        update('w'),
      ]);
      await fixture.eventually(async () => {
        assert.deepEqual(
          (await read(backend, EARLIEST)).updates.map((u) => u.data),
          ['new', 'z', 'w'],
        );
      });
      const resumed = await read(backend, 'x');
      assert.equal(resumed.found, true);
      assert.equal((await afterOf(backend, 'x'))?.data, 'new');
      assert.deepEqual(
        resumed.updates.map((u) => u.data),
        ['z', 'w'],
      );
    });

    test(
      'an id reused on another node resumes after its newest use on either',
      sharedStorage,
      async (t) => {
        const fixture = await setUp(t, factory);
        const peer = await fixture.openPeer();
        await fixture.backend.append([update('here', 'shared')]);
        await peer.append([update('there', 'shared'), update('after')]);
        await fixture.eventually(async () => {
          for (const node of [fixture.backend, peer]) {
            const resumed = await read(node, 'shared');
            assert.equal((await afterOf(node, 'shared'))?.data, 'there');
            assert.deepEqual(
              resumed.updates.map((u) => u.data),
              ['after'],
            );
          }
        });
      },
    );

    // --- Duplicate ids, refused (--refuse-duplicate-ids) ------------------------------------

    test('refusing duplicates, a batch with a duplicate id inside it is rejected and none of it is stored', async (t) => {
      const fixture = await setUp(t, factory, ROOMY, true);
      const { backend } = fixture;
      const listener = listen(backend);
      const seed = await appendEach(backend, updates(2, 'seed'));
      await assertDuplicate(() =>
        backend.append([update('fresh'), update('one', 'dup'), update('x'), update('two', 'dup')]),
      );
      assert.deepEqual(await idsAfter(backend, EARLIEST), seed);
      assert.equal(await backend.lastEventId(), seed[1]);
      assert.equal((await read(backend, 'dup')).found, false);
      // The failed batch reserved nothing: its id is free, and no listener saw any of it.
      const [marker] = await backend.append([update('alone', 'dup')]);
      assert.deepEqual(await idsAfter(backend, EARLIEST), [...seed, 'dup']);
      await fixture.eventually(() => {
        assert.deepEqual(listener.ids(), [...seed, marker?.id]);
      });
    });

    test('refusing duplicates, a batch reusing an id from history is rejected and none of it is stored', async (t) => {
      const fixture = await setUp(t, factory, ROOMY, true);
      const { backend } = fixture;
      const listener = listen(backend);
      const seed = await appendEach(backend, [update('a'), update('taken', 'taken'), update('b')]);
      await assertDuplicate(() =>
        backend.append([update('one', 'fresh-1'), update('again', 'taken'), update('two')]),
      );
      await assertDuplicate(() => backend.append([update('again', 'taken')]));
      // The duplicate last in the batch: everything before it must be undone too.
      await assertDuplicate(() =>
        backend.append([update('one', 'fresh-1'), update('two', 'fresh-2'), update('', seed[0])]),
      );
      assert.deepEqual(await idsAfter(backend, EARLIEST), seed);
      assert.equal(await backend.lastEventId(), seed[2]);
      assert.equal((await read(backend, 'fresh-1')).found, false);
      const retried = await backend.append([update('one', 'fresh-1'), update('two', 'fresh-2')]);
      assert.deepEqual(
        retried.map((u) => u.id),
        ['fresh-1', 'fresh-2'],
      );
      await fixture.eventually(() => {
        assert.deepEqual(listener.ids(), [...seed, 'fresh-1', 'fresh-2']);
      });
    });

    // --- Retention ------------------------------------------------------------------------

    test('retention keeps exactly the newest historySize updates', async (t) => {
      const fixture = await setUp(t, factory, 5);
      const { backend } = fixture;
      const listener = listen(backend);
      const ids = await appendEach(backend, updates(5, 'a'));
      await fixture.eventually(async () => {
        assert.deepEqual(await idsAfter(backend, EARLIEST), ids);
      });
      ids.push(...(await backend.append(updates(3, 'b'))).map((u) => u.id));
      await fixture.eventually(async () => {
        assert.deepEqual(await idsAfter(backend, EARLIEST), ids.slice(-5));
      });
      // A batch larger than the whole history: all of it is stored and delivered, the newest kept.
      const big = await backend.append(updates(7, 'c'));
      assert.equal(big.length, 7);
      ids.push(...big.map((u) => u.id));
      await fixture.eventually(async () => {
        assert.deepEqual(await idsAfter(backend, EARLIEST), ids.slice(-5));
      });
      assert.equal(await backend.lastEventId(), ids.at(-1));
      await fixture.eventually(async () => {
        assert.equal(await backend.historySize(), 5);
      });
      await fixture.eventually(() => {
        assert.deepEqual(listener.ids(), ids);
      });
    });

    test('resuming from a trimmed id is not found; from the oldest kept id it is', async (t) => {
      const fixture = await setUp(t, factory, 3);
      const { backend } = fixture;
      const ids = await appendEach(backend, updates(6));
      await fixture.eventually(async () => {
        for (const trimmed of ids.slice(0, 3)) {
          assert.deepEqual(await read(backend, trimmed), { found: false, updates: [] }, trimmed);
        }
      });
      const fromOldest = await read(backend, ids[3] ?? '');
      assert.equal(fromOldest.found, true);
      assert.deepEqual(
        fromOldest.updates.map((u) => u.id),
        ids.slice(4),
      );
    });

    test('historySize 0 keeps nothing, yet assigns ids and notifies listeners', async (t) => {
      const fixture = await setUp(t, factory, 0);
      const { backend } = fixture;
      const listener = listen(backend);
      const stored = await backend.append([update('a'), update('b', 'given')]);
      assertValidAssignedId(stored[0]?.id);
      assert.equal(stored[1]?.id, 'given');
      await fixture.eventually(async () => {
        assert.deepEqual(await read(backend, EARLIEST), { found: true, updates: [] });
        assert.deepEqual(await read(backend, 'given'), { found: false, updates: [] });
        assert.equal(await backend.lastEventId(), undefined);
        assert.equal(await backend.historySize(), 0);
        assert.deepEqual(
          listener.ids(),
          stored.map((u) => u.id),
        );
      });
    });

    // --- Concurrency ----------------------------------------------------------------------

    test('concurrent appends all resolve with unique ids, and history order is delivery order', async (t) => {
      const fixture = await setUp(t, factory);
      const { backend } = fixture;
      const listener = listen(backend);
      const batches = Array.from({ length: 64 }, (_, b) =>
        Array.from({ length: 10 }, (_, i) =>
          i % 3 === 0 ? update(`${b}.${i}`, `given-${b}.${i}`) : update(`${b}.${i}`),
        ),
      );
      const results = await Promise.all(batches.map((batch) => backend.append(batch)));
      results.forEach((stored, b) => {
        assertSameUpdates(stored, withIds(batches[b] ?? [], stored));
      });
      const resolved = results.flat().map((u) => u.id);
      assert.equal(new Set(resolved).size, 640, 'ids are unique');

      const history = await idsAfter(backend, EARLIEST);
      assert.deepEqual([...history].sort(), [...resolved].sort(), 'history holds every update');
      // Each batch keeps its own order (its updates may interleave with other batches').
      const position = new Map(history.map((id, i) => [id, i]));
      for (const stored of results) {
        const at = stored.map((u) => position.get(u.id) ?? -1);
        assert.deepEqual(
          [...at].sort((x, y) => x - y),
          at,
        );
      }
      assert.equal(await backend.lastEventId(), history.at(-1));
      await fixture.eventually(() => {
        assert.deepEqual(listener.ids(), history);
      });
    });

    // --- Closing --------------------------------------------------------------------------

    test('close resolves, and closing twice does not throw', async (t) => {
      const { backend } = await setUp(t, factory);
      listen(backend);
      await backend.append(updates(2));
      await backend.close();
      await backend.close();
    });

    test('after close, every call fails with HERALD_ERR_BACKEND_UNAVAILABLE at once, and nothing is delivered', async (t) => {
      const { backend } = await setUp(t, factory);
      const listener = listen(backend);
      await backend.append(updates(1, 'before'));
      await backend.close();
      const calls: Record<string, () => Promise<unknown>> = {
        append: () => backend.append(updates(1, 'after')),
        readAfter: () => backend.readAfter(EARLIEST),
        lastEventId: () => backend.lastEventId(),
        historySize: () => backend.historySize(),
      };
      for (const [name, call] of Object.entries(calls)) {
        await assert.rejects(call, (error: unknown) => assertClosedError(error, name));
      }
      assert.throws(
        () => backend.onUpdate(() => undefined),
        (error: unknown) => assertClosedError(error, 'onUpdate'),
      );
      // An unsubscribe handed out before the close still works (the hub calls it on shutdown).
      listener.stop();
      assert.ok(!listener.ids().some((id) => id.startsWith('after')));
    });

    test(
      'after close, an append refused as closed was not stored, and one acknowledged before was',
      persistence,
      async (t) => {
        const fixture = await setUp(t, factory);
        const acknowledged = await appendEach(fixture.backend, updates(2, 'kept'));
        await fixture.backend.close();
        await assert.rejects(
          () => fixture.backend.append([update('refused', 'refused-after-close')]),
          (error: unknown) => assertClosedError(error, 'append'),
        );
        const reopened = await fixture.reopen();
        assert.deepEqual(await idsAfter(reopened, EARLIEST), acknowledged);
      },
    );

    test(
      'a closed node gets nothing more from its peers, while they go on',
      sharedStorage,
      async (t) => {
        const fixture = await setUp(t, factory);
        const peer = await fixture.openPeer();
        const closing = listen(fixture.backend);
        const staying = listen(peer);
        const before = await appendEach(peer, updates(1, 'before'));
        await fixture.eventually(() => {
          assert.deepEqual(closing.ids(), before);
        });
        await fixture.backend.close();
        const after = await appendEach(peer, updates(3, 'after'));
        // Once the peer has delivered the later updates, the closed node would have had them too.
        await fixture.eventually(() => {
          assert.deepEqual(staying.ids(), [...before, ...after]);
        });
        assert.deepEqual(closing.ids(), before);
      },
    );

    test('a history read iterated after close yields all it was made for, or fails as closed', async (t) => {
      const { backend } = await setUp(t, factory);
      // More than one page, so that a store reading page by page must go back to its storage.
      const ids = (await backend.append(updates(250))).map((u) => u.id);
      const history = await backend.readAfter(EARLIEST);
      await backend.close();
      const yielded: string[] = [];
      try {
        for await (const update of history.updates) yielded.push(update.id);
      } catch (error) {
        assertClosedError(error, 'iterating a read');
        assert.deepEqual(
          yielded,
          ids.slice(0, yielded.length),
          'what came before the error is in order',
        );
        return;
      }
      assert.deepEqual(yielded, ids, 'a read that ends without an error yielded everything');
    });

    // --- Persistence (durable stores only) ------------------------------------------------

    test(
      'history survives close and reopen, in order with every field intact',
      persistence,
      async (t) => {
        const fixture = await setUp(t, factory);
        const stored = await fixture.backend.append(VARIED);
        const more = await appendEach(fixture.backend, updates(3));
        const reopened = await fixture.reopen();
        const history = await read(reopened, EARLIEST);
        assert.equal(history.found, true);
        assertSameUpdates(history.updates.slice(0, VARIED.length), withIds(VARIED, stored));
        assert.deepEqual(
          history.updates.slice(VARIED.length).map((u) => u.id),
          more,
        );
        assert.equal(await reopened.lastEventId(), more.at(-1));
      },
    );

    test(
      'after reopen, reading resumes strictly after an id issued before the close',
      persistence,
      async (t) => {
        const fixture = await setUp(t, factory);
        const ids = await appendEach(fixture.backend, updates(5));
        const reopened = await fixture.reopen();
        assert.deepEqual(await read(reopened, ids[4] ?? ''), { found: true, updates: [] });
        const later = await appendEach(reopened, updates(2, 'later'));
        const after = await read(reopened, ids[1] ?? '');
        assert.equal(after.found, true);
        assert.deepEqual(
          after.updates.map((u) => u.id),
          [...ids.slice(2), ...later],
        );
      },
    );

    test(
      'after reopen, new ids sort after old ones, and (refusing duplicates) old ids are still taken',
      persistence,
      async (t) => {
        const fixture = await setUp(t, factory, ROOMY, true);
        const old = (
          await fixture.backend.append([...updates(50), update('given', 'given-old')])
        ).map((u) => u.id);
        const reopened = await fixture.reopen();
        const listener = listen(reopened);
        const fresh = await appendEach(reopened, updates(3, 'fresh'));
        const newestOld = old.at(-2) ?? '';
        for (const id of fresh) assert.ok(id > newestOld, `new id ${id} sorts after ${newestOld}`);
        await assertDuplicate(() => reopened.append([update('again', 'given-old')]));
        await assertDuplicate(() => reopened.append([update('again', old[0])]));
        assert.deepEqual(await idsAfter(reopened, EARLIEST), [...old, ...fresh]);
        await fixture.eventually(() => {
          assert.deepEqual(listener.ids(), fresh);
        });
      },
    );

    // --- Shared storage (distributed stores only) -----------------------------------------

    test(
      'every node receives every node’s updates, in the one history order',
      sharedStorage,
      async (t) => {
        const fixture = await setUp(t, factory);
        const nodes = [fixture.backend, await fixture.openPeer()];
        const listeners = nodes.map(listen);
        const results = await Promise.all(
          Array.from({ length: 16 }, (_, b) =>
            (nodes[b % 2] ?? fixture.backend).append(updates(5, `n${b % 2}-b${b}-`)),
          ),
        );
        const resolved = results.flat().map((u) => u.id);
        assert.equal(new Set(resolved).size, resolved.length, 'ids are unique across nodes');
        await fixture.eventually(async () => {
          const history = await idsAfter(nodes[0] ?? fixture.backend, EARLIEST);
          assert.deepEqual([...history].sort(), [...resolved].sort());
          assert.deepEqual(await idsAfter(nodes[1] ?? fixture.backend, EARLIEST), history);
          for (const listener of listeners) assert.deepEqual(listener.ids(), history);
          for (const node of nodes) assert.equal(await node.lastEventId(), history.at(-1));
        });
      },
    );

    test(
      'refusing duplicates, an id taken on one node is refused on another',
      sharedStorage,
      async (t) => {
        const fixture = await setUp(t, factory, ROOMY, true);
        const peer = await fixture.openPeer();
        await fixture.backend.append([update('first', 'shared')]);
        await assertDuplicate(() => peer.append([update('fresh', 'fresh'), update('', 'shared')]));
        await fixture.eventually(async () => {
          assert.deepEqual(await idsAfter(peer, EARLIEST), ['shared']);
          assert.deepEqual(await idsAfter(fixture.backend, EARLIEST), ['shared']);
        });
      },
    );
  });
}
