import type { TopicSelector } from '../core/topic-selector.ts';

/** What a verified token allows, read from its `mercure` claim. */
export interface Grants {
  /** Selectors every topic of a published update must match; empty: no publishing. */
  readonly publish: readonly TopicSelector[];
  /** Selectors that admit private updates; empty: public updates only. */
  readonly subscribe: readonly TopicSelector[];
  /** Arbitrary JSON the publisher of the token attached, shown in subscription events. */
  readonly payload: unknown;
  /** The token's `exp`, in milliseconds since the epoch. */
  readonly expiresAt: number | undefined;
}

/** An anonymous subscriber: public updates only. */
export const ANONYMOUS: Grants = Object.freeze({
  publish: [],
  subscribe: [],
  payload: undefined,
  expiresAt: undefined,
});
