import type { TopicSelector } from '../core/topic-selector.ts';

/** What a verified token allows, read from its `mercure` claim. */
export interface Grants {
  /** Selectors every topic of a published update must match; empty: no publishing. */
  readonly publish: readonly TopicSelector[];
  /** Selectors that admit private updates; empty: public updates only. */
  readonly subscribe: readonly TopicSelector[];
  /** Arbitrary JSON the publisher of the token attached, shown in subscription events. */
  readonly payload: unknown;
  /**
   * When the hub stops honouring the token, in milliseconds since the epoch: its `exp` plus the
   * clock tolerance (a token accepted within the tolerance is not cut off at once).
   */
  readonly expiresAt: number | undefined;
  /** The token's `sub` claim, when it has one: who publishes, for the publish rate limit. */
  readonly subject: string | undefined;
}

/** An anonymous subscriber: public updates only. */
export const ANONYMOUS: Grants = Object.freeze({
  publish: [],
  subscribe: [],
  payload: undefined,
  expiresAt: undefined,
  subject: undefined,
});
