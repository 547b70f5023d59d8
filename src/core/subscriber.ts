import type { Dialect } from './dialect.ts';
import type { PendingLive } from './pending-live.ts';
import { subscriptionEventDialect } from './match-subscription-events.ts';
import type { TopicSelector } from './topic-selector.ts';
import { anySelectorMatches } from './topic-selector.ts';
import type { Update } from './update.ts';

/** Where a subscription's frames go. The HTTP layer implements it over a response stream. */
export interface FrameSink {
  /**
   * Queues one encoded frame. Returns false once the queue is past its high-water mark: a
   * writer with more to send (a history replay) should wait for `drained()`. Live delivery
   * does not wait; a sink whose queue passes its hard cap closes itself.
   */
  write(frame: Uint8Array): boolean;
  /** Resolves when the queue is below its high-water mark again, or the sink closed. */
  drained(): Promise<void>;
  /** Ends the stream; the client resumes with Last-Event-ID. */
  close(): void;
  readonly closed: boolean;
}

/** What a subscriber may see beyond public updates. */
export interface SubscriberGrants {
  /**
   * Selectors from the token's `mercure.subscribe` claim: a private update is delivered only
   * when one of its topics matches one of them. Empty for anonymous subscribers.
   */
  readonly privateSelectors: readonly TopicSelector[];
}

/**
 * One open subscription: its topic selectors, its grants and its sink. The hub writes to it;
 * the HTTP layer creates and ends it.
 */
export class Subscriber {
  readonly selectors: readonly TopicSelector[];
  readonly grants: SubscriberGrants;
  readonly sink: FrameSink;
  /** The dialect it subscribed in: it sees subscription events in that dialect's form only. */
  readonly dialect: Dialect;
  /** Set only while history is being replayed; idle subscribers carry nothing extra. */
  pending: PendingLive | undefined;
  /**
   * The sequence number (Hub) of the update this subscriber was last visited for, so that an
   * update matching twice is sent once; set when it joins, so that it skips those before.
   */
  lastDispatch = 0;

  constructor(
    selectors: readonly TopicSelector[],
    grants: SubscriberGrants,
    sink: FrameSink,
    dialect: Dialect = '07',
  ) {
    this.selectors = selectors;
    this.grants = grants;
    this.sink = sink;
    this.dialect = dialect;
  }

  /** Whether this subscriber's topic selectors and grants admit `update`. */
  accepts(update: Update): boolean {
    if (!anySelectorMatches(this.selectors, update.topics)) return false;
    if (!this.maySee(update)) return false;
    // Subscription events come in both dialects' forms: each subscriber gets its own.
    const form = subscriptionEventDialect(update);
    return form === undefined || form === this.dialect;
  }

  /** Whether this subscriber's grants let it see `update` at all, whatever its selectors. */
  maySee(update: Update): boolean {
    return !update.private || anySelectorMatches(this.grants.privateSelectors, update.topics);
  }
}
