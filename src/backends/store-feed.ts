import { HeraldError } from '../core/errors.ts';

/**
 * What every store shares: the listeners of its live feed (`Backend.onUpdate`, `onFeedGap`),
 * and the words of the errors a store gives its callers, so that the three stores fail alike.
 */

/**
 * The listeners of one kind of feed event, called with `Args` (e.g. an update and its
 * position). After `close()` nothing reaches them, and none may join.
 */
export class FeedListeners<Args extends readonly unknown[]> {
  readonly #listeners = new Set<(...args: Args) => void>();
  #closed = false;

  /** Adds a listener; returns its unsubscribe. Throws HERALD_ERR_BACKEND_UNAVAILABLE once closed. */
  add(listener: (...args: Args) => void): () => void {
    if (this.#closed) throw storeClosed();
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Calls every listener with `args`, in the order they joined. */
  emit(...args: Args): void {
    for (const listener of this.#listeners) listener(...args);
  }

  close(): void {
    this.#closed = true;
    this.#listeners.clear();
  }
}

/** A call on a store after its `close()`: an error to report, never a hang. */
export function storeClosed(): HeraldError {
  return new HeraldError('HERALD_ERR_BACKEND_UNAVAILABLE', 'The history store is closed.');
}

/** The store could not store or read; `reason` says why, in a phrase without a final period. */
export function storeFailed(reason: string, cause?: unknown): HeraldError {
  return new HeraldError('HERALD_ERR_BACKEND_UNAVAILABLE', `The history store failed: ${reason}.`, {
    cause,
  });
}

/** A publish reusing an id while the store refuses duplicate ids. */
export function duplicateId(id: string, cause?: unknown): HeraldError {
  return new HeraldError('HERALD_ERR_DUPLICATE_ID', `An update with id "${id}" already exists.`, {
    cause,
  });
}

/** An error's message as a phrase to embed in one of the above: no trailing period. */
export function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\.$/, '');
}
