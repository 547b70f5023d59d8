import type { Dialect } from './dialect.ts';
import {
  expandSegment,
  isSubscriptionEvent,
  SUBSCRIPTIONS_PATH,
  subscriptionEventFields,
} from './subscription-events.ts';
import type { NewUpdate, Update } from './update.ts';
import type { MatchType } from './url-pattern.ts';
import { isMatchType } from './url-pattern.ts';

/**
 * Mercure's active subscriptions in the draft-08 (Mercure 1.0) form: topics
 * `/.well-known/mercure/subscriptions/{match_type}/{match}/{subscriber}`, plain JSON documents
 * with `match` and `match_type`, dispatched with the SSE event type `mercure`. The draft-07
 * form is `subscription-events.ts`. Pure: building and reading documents, no state.
 */

/** The SSE event type of draft-08 subscription events; publishers may not use it. */
export const SUBSCRIPTION_EVENT_TYPE = 'mercure';

/** One subscription as draft-08 describes it: one matcher of one subscriber. */
export interface MatchSubscriptionDocument {
  /** `/.well-known/mercure/subscriptions/{match_type}/{match}/{subscriber}`: also the topic. */
  readonly id: string;
  readonly type: 'subscription';
  readonly match_type: MatchType;
  readonly match: string;
  /** The hub-assigned `urn:uuid:` shared by every matcher of one connection. */
  readonly subscriber: string;
  readonly active: boolean;
  readonly payload?: unknown;
}

/** The id (and event topic) of one draft-08 subscription; each variable encoded once. */
export function matchSubscriptionId(
  matchType: MatchType,
  match: string,
  subscriber: string,
): string {
  return `${matchCollectionId(matchType, match)}/${expandSegment(subscriber)}`;
}

/** The URL of the collection of one matcher's subscriptions. */
export function matchCollectionId(matchType: MatchType, match: string): string {
  return `${SUBSCRIPTIONS_PATH}/${matchType}/${expandSegment(match)}`;
}

export function matchSubscriptionDocument(
  matchType: MatchType,
  match: string,
  subscriber: string,
  active: boolean,
  payload: unknown,
): MatchSubscriptionDocument {
  return {
    id: matchSubscriptionId(matchType, match, subscriber),
    type: 'subscription',
    match_type: matchType,
    match,
    subscriber,
    active,
    ...(payload === undefined || payload === null ? {} : { payload }),
  };
}

/** The private update announcing that one draft-08 subscription started or ended. */
export function matchSubscriptionEvent(document: MatchSubscriptionDocument): NewUpdate {
  return {
    topics: [document.id],
    data: JSON.stringify(document),
    private: true,
    type: SUBSCRIPTION_EVENT_TYPE,
  };
}

/**
 * The draft-08 subscription event in an update of the feed, or `undefined`. Only private
 * updates of type `mercure` on the reserved topics count: publishers can write neither.
 */
export function readMatchSubscriptionEvent(update: Update): MatchSubscriptionDocument | undefined {
  if (update.type !== SUBSCRIPTION_EVENT_TYPE) return undefined;
  const event = subscriptionEventFields(update);
  if (event === undefined) return undefined;
  const { topic, fields } = event;
  const { type, subscriber, active, match } = fields;
  const matchType = fields['match_type'];
  if (
    type !== 'subscription' ||
    !isMatchType(matchType) ||
    typeof match !== 'string' ||
    typeof subscriber !== 'string' ||
    typeof active !== 'boolean' ||
    fields['id'] !== topic ||
    matchSubscriptionId(matchType, match, subscriber) !== topic
  ) {
    return undefined;
  }
  return matchSubscriptionDocument(matchType, match, subscriber, active, fields['payload']);
}

/**
 * The dialect of the subscription event `update` is, or `undefined` when it is not one. Each
 * subscription is announced in both forms (see docs/protocol.md); a subscriber sees only the
 * form of its own dialect, so that presence reads right to both kinds and none sees it twice.
 */
export function subscriptionEventDialect(update: Update): Dialect | undefined {
  if (!isSubscriptionEvent(update)) return undefined;
  return update.type === SUBSCRIPTION_EVENT_TYPE ? '08' : '07';
}
