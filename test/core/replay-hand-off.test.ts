/**
 * The hub's replay/live hand-off, against a backend scripted step by step: its live feed lags
 * its store (as a Redis node's does), so the frames held back during a replay include updates
 * the client had, updates the replay writes, and newer ones; and ids repeat, so only positions
 * can tell them apart.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend, HistoryRead, Position } from '../../src/core/backend.ts';
import { BEFORE_ALL } from '../../src/core/backend.ts';
import { Hub } from '../../src/core/hub.ts';
import type { Update } from '../../src/core/update.ts';
import { RecordingSink } from '../support/recording-sink.ts';

const TOPIC = 'https://example.com/hand-off';

/** A promise and its resolve, to settle from outside. */
interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/** A backend whose reads and live deliveries happen when the test says so. */
class ScriptedBackend implements Backend {
  readonly #listeners = new Set<(update: Update, position: Position) => void>();
  /** Its live feed lags behind its store, as a store shared by several nodes does. */
  readonly capabilities = { exclusive: false };
  readonly #reads: Deferred<HistoryRead>[] = [];
  readonly #readStarted: Deferred<string>[] = [];

  /** Resolves with the id asked for once the hub starts its next history read. */
  nextRead(): Promise<string> {
    const started = deferred<string>();
    this.#readStarted.push(started);
    return started.promise;
  }

  /** Answers the history read in progress. */
  answer(history: HistoryRead): void {
    const read = this.#reads.shift();
    assert.ok(read !== undefined, 'a read is in progress');
    read.resolve(history);
  }

  /** The live feed hands the hub one update. */
  deliver(update: Update, position: Position): void {
    for (const listener of this.#listeners) listener(update, position);
  }

  readAfter(lastEventId: string): Promise<HistoryRead> {
    const read = deferred<HistoryRead>();
    this.#reads.push(read);
    this.#readStarted.shift()?.resolve(lastEventId);
    return read.promise;
  }

  onUpdate(listener: (update: Update, position: Position) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  append(): Promise<readonly Update[]> {
    return Promise.reject(new Error('this test publishes through deliver()'));
  }

  lastEventId(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  historySize(): Promise<number> {
    return Promise.resolve(0);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function hubOn(backend: Backend): Hub {
  return new Hub(backend, {
    maxTopicsPerUpdate: 8,
    maxUpdatesPerPublish: 100,
    maxSelectorsPerSubscription: 8,
    maxPendingBytes: 1 << 20,
  });
}

const update = (id: string, data: string): Update => ({
  topics: [TOPIC],
  data,
  private: false,
  id,
});

/**
 * A hub on a scripted backend, and a subscriber resuming after `lastEventId` on it, returned
 * once the hub asked the backend for that history; the read is not answered yet.
 */
async function resumingAfter(lastEventId: string) {
  const backend = new ScriptedBackend();
  const hub = hubOn(backend);
  const sink = new RecordingSink();
  const reading = backend.nextRead();
  const subscribing = hub.subscribe({
    selectors: [TOPIC],
    grants: { privateSelectors: [] },
    sink,
    lastEventId,
  });
  assert.equal(await reading, lastEventId);
  return { backend, hub, sink, subscribing };
}

// History in store order: positions 10, 20, … (a backend's positions need not be dense).
const HISTORY = [
  update('a', 'u1'),
  update('b', 'u2'),
  update('a', 'u3'),
  update('c', 'u4'),
  update('a', 'u5'),
  update('d', 'u6'),
];
const positionOf = (index: number): Position => BigInt((index + 1) * 10);

test('held-back frames at or before the position the read reached are dropped, the rest written once after the replay, whatever their ids', async () => {
  const { backend, hub, sink, subscribing } = await resumingAfter('b');
  // While the read is made, the lagging feed hands over all of history, then newer updates
  // that reuse ids the replay holds.
  HISTORY.forEach((item, i) => {
    backend.deliver(item, positionOf(i));
  });
  backend.deliver(update('a', 'u7'), 70n);
  backend.deliver(update('c', 'u8'), 80n);
  backend.answer({
    found: true,
    after: HISTORY[1],
    updates: HISTORY.slice(2),
    reached: positionOf(HISTORY.length - 1),
  });
  const opened = await subscribing;
  assert.equal(opened.resumedAfter, 'b');
  // After the read, before the replay starts: still held, past the read.
  backend.deliver(update('b', 'u9'), 90n);
  assert.deepEqual(sink.data, [], 'nothing is written before start()');
  await opened.start();
  backend.deliver(update('d', 'u10'), 100n);
  assert.deepEqual(sink.data, ['u3', 'u4', 'u5', 'u6', 'u7', 'u8', 'u9', 'u10']);
  hub.close();
});

test('a read that reaches no update (unknown id) drops no held-back frame', async () => {
  const { backend, hub, sink, subscribing } = await resumingAfter('gone');
  backend.deliver(update('a', 'u1'), 10n);
  backend.deliver(update('a', 'u2'), 20n);
  backend.answer({ found: false, updates: [], reached: BEFORE_ALL });
  const opened = await subscribing;
  assert.equal(opened.resumedAfter, 'earliest');
  await opened.start();
  backend.deliver(update('e', 'u3'), 30n);
  assert.deepEqual(sink.data, ['u1', 'u2', 'u3']);
  hub.close();
});

test('a resume after an update the subscriber may not see drops no held-back frame, as for an unknown id', async () => {
  const { backend, hub, sink, subscribing } = await resumingAfter('secret');
  backend.deliver({ ...update('secret', 'hidden'), private: true }, 10n);
  backend.deliver(update('p', 'u1'), 20n);
  backend.answer({
    found: true,
    after: { ...update('secret', 'hidden'), private: true },
    updates: [update('p', 'u1')],
    reached: 20n,
  });
  const opened = await subscribing;
  assert.equal(opened.resumedAfter, 'earliest');
  await opened.start();
  assert.deepEqual(sink.data, ['u1']);
  hub.close();
});
