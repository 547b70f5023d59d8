import type { SharedLimitStore } from './shared-limits.ts';
import type { NewUpdate, Update } from './update.ts';

/** Where a history read starts: strictly after an update's id, or from the oldest kept. */
export const EARLIEST = 'earliest';

/**
 * Where an update stands in its backend's one order of history: a positive integer the backend
 * defines (SQLite's `seq`, a Redis stream id as one number, a counter in memory), strictly
 * greater for every update stored later. Positions compare within one backend only; ids cannot
 * stand in for them, as an id may be reused.
 */
export type Position = bigint;

/** Before every update: what a read that reaches no update answers. */
export const BEFORE_ALL: Position = 0n;

/** What a history read found. */
export interface HistoryRead {
  /**
   * False when `lastEventId` names no update the backend still keeps (never issued, or
   * trimmed by retention). `updates` is then empty and `reached` is `BEFORE_ALL`: the hub
   * cannot know what was missed.
   */
  readonly found: boolean;
  /**
   * The update the read starts after (the newest with `lastEventId`, as an id may be reused),
   * when found: the hub answers a subscriber that may not see it as if the id were unknown.
   */
  readonly after?: Update | undefined;
  /** Updates strictly after the requested id, oldest first (read with `for await`). */
  readonly updates: AsyncIterable<Update> | Iterable<Update>;
  /**
   * The position the read reaches: `updates` holds every kept update after the start up to
   * this position, and every update stored after the read has a greater one (`BEFORE_ALL`
   * when the read reaches none). A live update at or before it is covered: the client had it
   * (it came before the start) or the replay writes it. A backend whose live feed runs behind
   * its store (Redis: every node reads the shared stream after the fact) resolves `readAfter`
   * only once its listeners have been handed every update up to here, so that no covered
   * update reaches a listener after the read.
   */
  readonly reached: Position;
}

/**
 * Where updates live. One interface for every store (memory, SQLite, Redis), checked by one
 * conformance suite. A backend owns ids and ordering; the hub owns matching and delivery.
 */
export interface Backend {
  /**
   * Stores the updates, assigning ids to those without one, and resolves once they are as
   * durable as the backend promises: only then may the publish be acknowledged. An id may be
   * used again (as the reference hub allows), unless the backend was opened to refuse duplicate
   * ids: then it rejects with HERALD_ERR_DUPLICATE_ID when an id is taken. It rejects with
   * HERALD_ERR_BACKEND_UNAVAILABLE when the store cannot be reached. In both cases none of the
   * batch is stored.
   */
  append(updates: readonly NewUpdate[]): Promise<readonly Update[]>;
  /**
   * History strictly after `lastEventId` (`EARLIEST` = all kept history), oldest first. An id
   * used more than once resumes after its newest occurrence.
   */
  readAfter(lastEventId: string): Promise<HistoryRead>;
  /** The id of the newest stored update, or `undefined` when history is empty. */
  lastEventId(): Promise<string | undefined>;
  /** How many updates history holds now (for metrics; may lag a trim in progress). */
  historySize(): Promise<number>;
  /**
   * Subscribes to every stored update, in order, from every node, each with its position.
   * Returns an unsubscribe.
   */
  onUpdate(listener: (update: Update, position: Position) => void): () => void;
  /**
   * A shared store only: called when this node's live feed resumed past updates it never
   * delivered because retention removed them first (it lagged longer than the grace period).
   * Returns an unsubscribe.
   */
  onFeedGap?(listener: (gap: FeedGap) => void): () => void;
  /**
   * A store shared by several processes (Redis) only: where the stream limit and the publish
   * rate are counted for all of them (shared-limits.ts). Opened once, closed by its owner.
   */
  openSharedLimits?(): Promise<SharedLimitStore>;
  /** What the store promises beyond this contract: asked instead of the store's kind. */
  readonly capabilities: BackendCapabilities;
  close(): Promise<void>;
}

/** Updates a node's live feed skipped: stored after `after`, removed by retention up to `through`. */
export interface FeedGap {
  /** The id of the last update the node delivered before the gap. */
  readonly after: string;
  /** The id of the newest update retention removed, which the node never delivered. */
  readonly through: string;
}

/**
 * What a backend declares about itself, so that services built on it (presence) decide from
 * what the store promises rather than from what kind of store it is.
 */
export interface BackendCapabilities {
  /**
   * While open, the store is this process's alone (SQLite locks its file; memory lives in the
   * process): any update in its history was stored by this process or an earlier run of it.
   */
  readonly exclusive: boolean;
  /** A shared store's leases, by which the nodes that stay settle what a dead node left. */
  readonly nodeLeases?: NodeLeases | undefined;
}

/**
 * Leases on a store shared by several nodes. Each node holds a lease that it renews, and keeps
 * under it the updates to store should it die (the `active: false` subscription events of its
 * subscriptions). When a lease expires, the first surviving node to see it stores those updates
 * and removes the lease, atomically: exactly once however many nodes see it. Time is the store's
 * clock, so the nodes' clocks need not agree.
 */
export interface NodeLeases {
  /**
   * Takes or renews `node`'s lease for `ttlMs`. Resolves with whether the lease had lapsed since
   * the previous renewal (other nodes may have stored what it held: the caller holds it again)
   * and with the nodes whose lease has expired, to `settle`.
   */
  renew(node: string, ttlMs: number, first: boolean): Promise<LeaseRenewal>;
  /** Keeps `updates` under `node`'s lease as what to store for `key` should `node` die. */
  hold(node: string, key: string, updates: readonly NewUpdate[]): Promise<void>;
  /** Forgets what `hold` kept for `key`. */
  release(node: string, key: string): Promise<void>;
  /**
   * If `node`'s lease has expired: stores everything it holds (appended like any update, so
   * every node's feed delivers it) and removes the lease, atomically. Resolves with how many
   * keys' updates this call stored: 0 when the lease is alive again or another node settled it.
   */
  settle(node: string): Promise<number>;
  /** Gives `node`'s lease up, with what it holds: after a shutdown stored its own ends. */
  drop(node: string): Promise<void>;
}

/** What a lease renewal found. */
export interface LeaseRenewal {
  /** The lease had expired before this renewal (never true for the first). */
  readonly lapsed: boolean;
  /** Other nodes whose lease has expired, not yet settled. */
  readonly expired: readonly string[];
}
