import type { TopicSelector } from '../core/topic-selector.ts';
import type { SubscribeDetail } from './authorization-details.ts';
import type { Dialect } from '../core/dialect.ts';

/**
 * What a verified token allows, read from its draft-07 `mercure` claim or its draft-08
 * `authorization_details`.
 */
export interface Grants {
  /** The token's form: `07` for a `mercure` claim, `08` for an RFC 9068 access token. */
  readonly dialect: Dialect | undefined;
  /** Selectors every topic of a published update must match; empty: no publishing. */
  readonly publish: readonly TopicSelector[];
  /** Selectors that admit private updates; empty: public updates only. */
  readonly subscribe: readonly TopicSelector[];
  /**
   * Draft-07: the `mercure.payload` shown in subscription events. Draft-08 tokens carry one per
   * `subscribe` detail instead (`subscribeDetails`; see `payloadForMatcher`).
   */
  readonly payload: unknown;
  /** Draft-08: the `subscribe` details in token order, with their payloads. */
  readonly subscribeDetails: readonly SubscribeDetail[];
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
  dialect: undefined,
  publish: [],
  subscribe: [],
  payload: undefined,
  subscribeDetails: [],
  expiresAt: undefined,
  subject: undefined,
});
