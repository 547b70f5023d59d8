import type { NewUpdate, Update } from './update.ts';

/** Where a history read starts: strictly after an update's id, or from the oldest kept. */
export const EARLIEST = 'earliest';

/** What a history read found. */
export interface HistoryRead {
  /**
   * False when `lastEventId` names no update the backend still keeps (never issued, or
   * trimmed by retention). `updates` is then empty: the hub cannot know what was missed.
   */
  readonly found: boolean;
  /** Updates strictly after the requested id, oldest first (read with `for await`). */
  readonly updates: AsyncIterable<Update> | Iterable<Update>;
  /**
   * Set by a backend whose live feed runs behind its store (Redis: every node reads the shared
   * stream after the fact), so that a live update may reach the hub after a read began that
   * already holds it, or one the client had before `lastEventId`. Such a backend resolves
   * `readAfter` only once its listeners have been handed every update up to the end of this
   * read, and `covers(update)` tells whether a live update is at or before that end: the hub
   * drops those from the live frames it holds back, as the client has them or gets them here.
   */
  readonly covers?: ((update: Update) => boolean) | undefined;
}

/**
 * Where updates live. One interface for every store (memory, SQLite, Redis), checked by one
 * conformance suite. A backend owns ids and ordering; the hub owns matching and delivery.
 */
export interface Backend {
  /**
   * Stores the updates, assigning ids to those without one, and resolves once they are as
   * durable as the backend promises: only then may the publish be acknowledged. Rejects with
   * HERALD_ERR_DUPLICATE_ID when an id is taken, and HERALD_ERR_BACKEND_UNAVAILABLE when the
   * store cannot be reached; in both cases none of the batch is stored.
   */
  append(updates: readonly NewUpdate[]): Promise<readonly Update[]>;
  /** History strictly after `lastEventId` (`EARLIEST` = all kept history), oldest first. */
  readAfter(lastEventId: string): Promise<HistoryRead>;
  /** The id of the newest stored update, or `undefined` when history is empty. */
  lastEventId(): Promise<string | undefined>;
  /** How many updates history holds now (for metrics; may lag a trim in progress). */
  historySize(): Promise<number>;
  /** Subscribes to every stored update, in order, from every node. Returns an unsubscribe. */
  onUpdate(listener: (update: Update) => void): () => void;
  close(): Promise<void>;
}
