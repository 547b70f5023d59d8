import type { Backend, HistoryRead, Position } from '../core/backend.ts';
import { BEFORE_ALL, EARLIEST } from '../core/backend.ts';
import { createIdGenerator } from '../core/ids.ts';
import { isSubscriptionEvent } from '../core/subscription-events.ts';
import type { NewUpdate, Update } from '../core/update.ts';
import { duplicateId, FeedListeners, storeClosed } from './store-feed.ts';

export interface MemoryBackendOptions {
  /**
   * How many updates history keeps; the oldest are dropped first. `0` keeps none. Subscription
   * events are kept apart, up to as many again: they never push out a published update.
   */
  readonly historySize: number;
  /** Refuse an id already in history (HERALD_ERR_DUPLICATE_ID) rather than store it again. */
  readonly refuseDuplicateIds?: boolean | undefined;
}

/** An update and its place in the one order of history (its position). */
interface Entry {
  readonly seq: number;
  readonly update: Update;
}

/** The newest `size` entries of one kind, oldest first; compacted when the dead prefix grows. */
class Ring {
  #entries: Entry[] = [];
  #head = 0;

  constructor(readonly size: number) {}

  get length(): number {
    return this.#entries.length - this.#head;
  }

  /** Adds an entry; returns the one it pushed out, if any. */
  push(entry: Entry): Entry | undefined {
    this.#entries.push(entry);
    if (this.length <= this.size) return undefined;
    const oldest = this.#entries[this.#head];
    this.#head++;
    // Compact once the dead prefix is as long as the live part: amortized O(1) per push.
    if (this.#head >= this.size) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    return oldest;
  }

  /** The kept entries with a seq above `seq`, oldest first (a copy). */
  after(seq: number): Entry[] {
    return this.#entries.slice(this.#firstAbove(seq));
  }

  /** The kept entry with exactly this seq. */
  at(seq: number): Entry | undefined {
    const entry = this.#entries[this.#firstAbove(seq - 1)];
    return entry?.seq === seq ? entry : undefined;
  }

  /** The index of the first kept entry with a seq above `seq` (binary search: seqs ascend). */
  #firstAbove(seq: number): number {
    let low = this.#head;
    let high = this.#entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.#entries[middle]?.seq ?? Infinity) <= seq) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/**
 * History in memory, for development and ephemeral hubs: published updates in a ring of the
 * newest `historySize`, subscription events in a ring of their own (so that no number of
 * subscriptions can trim a published update), both in one order. Everything is lost when the
 * process exits.
 */
export class MemoryBackend implements Backend {
  readonly #nextId = createIdGenerator();
  readonly #listeners = new FeedListeners<[update: Update, position: Position]>();
  readonly #published: Ring;
  readonly #presence: Ring;
  /** The seq of the newest update appended, kept or not: each update's position is its seq. */
  #seq = 0;
  /** The newest kept update (of either kind). */
  #newest: Update | undefined;
  /** The seq of the newest kept update with each id (an id may be reused). */
  readonly #seqOfId = new Map<string, number>();
  readonly #refuseDuplicateIds: boolean;
  #closed = false;
  /** This process's alone; nothing to share, nothing survives it. */
  readonly capabilities = { exclusive: true };

  constructor(options: MemoryBackendOptions) {
    this.#published = new Ring(options.historySize);
    this.#presence = new Ring(options.historySize);
    this.#refuseDuplicateIds = options.refuseDuplicateIds === true;
  }

  append(updates: readonly NewUpdate[]): Promise<readonly Update[]> {
    if (this.#closed) return Promise.reject(storeClosed());
    const stored: Update[] = [];
    const batchIds = new Set<string>();
    for (const update of updates) {
      const id = update.id ?? this.#nextId();
      if (this.#refuseDuplicateIds && (this.#seqOfId.has(id) || batchIds.has(id))) {
        return Promise.reject(duplicateId(id));
      }
      batchIds.add(id);
      stored.push({ ...update, id });
    }
    const entries = stored.map((update) => ({ seq: ++this.#seq, update }));
    for (const entry of entries) this.#keep(entry);
    for (const { seq, update } of entries) this.#listeners.emit(update, BigInt(seq));
    return Promise.resolve(stored);
  }

  #keep(entry: Entry): void {
    const { seq, update } = entry;
    const ring = isSubscriptionEvent(update) ? this.#presence : this.#published;
    if (ring.size === 0) return;
    this.#newest = update;
    this.#seqOfId.set(update.id, seq);
    const dropped = ring.push(entry);
    // A newer update with the same id keeps it findable.
    if (dropped !== undefined && this.#seqOfId.get(dropped.update.id) === dropped.seq) {
      this.#seqOfId.delete(dropped.update.id);
    }
  }

  readAfter(lastEventId: string): Promise<HistoryRead> {
    if (this.#closed) return Promise.reject(storeClosed());
    let from = 0;
    let after: Update | undefined;
    if (lastEventId !== EARLIEST) {
      // After the newest update with this id, when it was used more than once.
      const seq = this.#seqOfId.get(lastEventId);
      if (seq === undefined) {
        return Promise.resolve({ found: false, updates: [], reached: BEFORE_ALL });
      }
      from = seq;
      after = (this.#published.at(seq) ?? this.#presence.at(seq))?.update;
    }
    // A snapshot of everything appended so far: later updates reach the reader live.
    return Promise.resolve({
      found: true,
      updates: merge(this.#published.after(from), this.#presence.after(from)),
      after,
      reached: BigInt(this.#seq),
    });
  }

  historySize(): Promise<number> {
    if (this.#closed) return Promise.reject(storeClosed());
    return Promise.resolve(this.#published.length + this.#presence.length);
  }

  lastEventId(): Promise<string | undefined> {
    if (this.#closed) return Promise.reject(storeClosed());
    return Promise.resolve(this.#newest?.id);
  }

  onUpdate(listener: (update: Update, position: Position) => void): () => void {
    return this.#listeners.add(listener);
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#listeners.close();
    return Promise.resolve();
  }
}

/** Two lists of entries, each in seq order, as one list of updates in seq order. */
function merge(a: readonly Entry[], b: readonly Entry[]): Update[] {
  const updates: Update[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const left = a[i];
    const right = b[j];
    if (right === undefined || (left !== undefined && left.seq < right.seq)) {
      if (left !== undefined) updates.push(left.update);
      i++;
    } else {
      updates.push(right.update);
      j++;
    }
  }
  return updates;
}
