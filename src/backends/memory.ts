import type { Backend, HistoryRead } from '../core/backend.ts';
import { EARLIEST } from '../core/backend.ts';
import { HeraldError } from '../core/errors.ts';
import { createIdGenerator } from '../core/ids.ts';
import type { NewUpdate, Update } from '../core/update.ts';

export interface MemoryBackendOptions {
  /** How many updates history keeps; the oldest are dropped first. `0` keeps none. */
  readonly historySize: number;
  /** Refuse an id already in history (HERALD_ERR_DUPLICATE_ID) rather than store it again. */
  readonly refuseDuplicateIds?: boolean | undefined;
}

/**
 * History in a ring of the newest `historySize` updates, for development and ephemeral hubs.
 * Everything is lost when the process exits.
 */
export class MemoryBackend implements Backend {
  readonly #historySize: number;
  readonly #nextId = createIdGenerator();
  readonly #listeners = new Set<(update: Update) => void>();
  /** Kept updates, oldest first, from `#head` on; compacted when the dead prefix grows. */
  #history: Update[] = [];
  #head = 0;
  /**
   * Absolute position of the newest kept update with each id (an id may be reused): position −
   * `#dropped` indexes `#history` from `#head`.
   */
  readonly #positions = new Map<string, number>();
  /** Absolute position of every kept update object, for `covers`. */
  readonly #positionOf = new WeakMap<Update, number>();
  #dropped = 0;
  readonly #refuseDuplicateIds: boolean;

  constructor(options: MemoryBackendOptions) {
    this.#historySize = options.historySize;
    this.#refuseDuplicateIds = options.refuseDuplicateIds === true;
  }

  append(updates: readonly NewUpdate[]): Promise<readonly Update[]> {
    const stored: Update[] = [];
    const batchIds = new Set<string>();
    for (const update of updates) {
      const id = update.id ?? this.#nextId();
      if (this.#refuseDuplicateIds && (this.#positions.has(id) || batchIds.has(id))) {
        return Promise.reject(
          new HeraldError('HERALD_ERR_DUPLICATE_ID', `An update with id "${id}" already exists.`),
        );
      }
      batchIds.add(id);
      stored.push({ ...update, id });
    }
    for (const update of stored) this.#keep(update);
    for (const update of stored) {
      for (const listener of this.#listeners) listener(update);
    }
    return Promise.resolve(stored);
  }

  #keep(update: Update): void {
    if (this.#historySize === 0) return;
    const position = this.#dropped + this.#history.length - this.#head;
    this.#positions.set(update.id, position);
    this.#positionOf.set(update, position);
    this.#history.push(update);
    if (this.#history.length - this.#head > this.#historySize) {
      const oldest = this.#history[this.#head];
      // A newer update with the same id keeps it findable.
      if (oldest !== undefined && this.#positions.get(oldest.id) === this.#dropped) {
        this.#positions.delete(oldest.id);
      }
      this.#head++;
      this.#dropped++;
      // Compact once the dead prefix is as long as the live part: amortized O(1) per append.
      if (this.#head >= this.#historySize) {
        this.#history = this.#history.slice(this.#head);
        this.#head = 0;
      }
    }
  }

  readAfter(lastEventId: string): Promise<HistoryRead> {
    let start: number;
    let after: Update | undefined;
    if (lastEventId === EARLIEST) {
      start = this.#head;
    } else {
      // After the newest update with this id, when it was used more than once.
      const position = this.#positions.get(lastEventId);
      if (position === undefined) return Promise.resolve({ found: false, updates: [] });
      start = this.#head + (position - this.#dropped) + 1;
      after = this.#history[start - 1];
    }
    // A snapshot: updates appended while the reader iterates reach it live, not from here.
    const end = this.#dropped + this.#history.length - this.#head - 1;
    return Promise.resolve({
      found: true,
      updates: this.#history.slice(start),
      after,
      // Live updates held back meanwhile that this snapshot already holds, or that came before.
      covers: (update: Update) => (this.#positionOf.get(update) ?? Infinity) <= end,
    });
  }

  historySize(): Promise<number> {
    return Promise.resolve(this.#history.length - this.#head);
  }

  lastEventId(): Promise<string | undefined> {
    return Promise.resolve(this.#history.at(-1)?.id);
  }

  onUpdate(listener: (update: Update) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): Promise<void> {
    this.#listeners.clear();
    return Promise.resolve();
  }
}
