import type { NewUpdate, Update } from './update.ts';

/**
 * Mercure's active subscriptions (draft-07): the wire format of subscription events and of the
 * subscription API's documents. Pure: building and reading documents, no state.
 */

/** Where subscription events are published and the subscription API is served. */
export const SUBSCRIPTIONS_PATH = '/.well-known/mercure/subscriptions';

/** The fixed JSON-LD context of every Mercure document. */
export const JSONLD_CONTEXT = 'https://mercure.rocks/';

/** One subscription as draft-07 describes it: one topic selector of one subscriber. */
export interface SubscriptionDocument {
  /** `/.well-known/mercure/subscriptions/{topic}/{subscriber}`: also the event's topic. */
  readonly id: string;
  readonly type: 'Subscription';
  /** The hub-assigned `urn:uuid:` shared by every selector of one connection. */
  readonly subscriber: string;
  /** The topic selector exactly as the subscriber sent it. */
  readonly topic: string;
  readonly active: boolean;
  /** The subscriber token's `mercure.payload`, when it has one. */
  readonly payload?: unknown;
}

/**
 * RFC 6570 simple expansion of one variable: every character but the unreserved ones
 * (`A-Z a-z 0-9 - . _ ~`) percent-encoded as UTF-8, upper-case hex. encodeURIComponent leaves
 * `!'()*` alone, so they are encoded here. The reference hub (Go's url.QueryEscape) differs
 * only for the space, which it writes `+`.
 */
export function expandSegment(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The id (and event topic) of one subscription. */
export function subscriptionId(topic: string, subscriber: string): string {
  return `${SUBSCRIPTIONS_PATH}/${expandSegment(topic)}/${expandSegment(subscriber)}`;
}

/** The URL of the collection of one topic selector's subscriptions. */
export function topicCollectionId(topic: string): string {
  return `${SUBSCRIPTIONS_PATH}/${expandSegment(topic)}`;
}

/**
 * Whether an update is one of the hub's subscription events (presence), which stores keep
 * apart from published updates in their retention: presence must never evict what publishers
 * published. Publishers cannot write these topics, so only hubs make such updates.
 */
export function isSubscriptionEvent(update: NewUpdate): boolean {
  const topic = update.topics[0];
  return update.private && topic !== undefined && topic.startsWith(`${SUBSCRIPTIONS_PATH}/`);
}

/**
 * What every form of subscription event shares, read from an update of the feed: its topic and
 * the fields of its JSON object, when it is private, on the reserved topics, with an object for
 * data; else `undefined`. Each form (draft-07 here, draft-08 in match-subscription-events.ts)
 * then checks its own fields against the topic.
 */
export function subscriptionEventFields(
  update: Update,
): { readonly topic: string; readonly fields: Record<string, unknown> } | undefined {
  const topic = update.topics[0];
  if (topic === undefined || !isSubscriptionEvent(update)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(update.data);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  return { topic, fields: parsed as Record<string, unknown> };
}

/** Whether a topic lies in the hub's own subscription-event namespace, which publishers may not use. */
export function isReservedTopic(topic: string): boolean {
  return topic === SUBSCRIPTIONS_PATH || topic.startsWith(`${SUBSCRIPTIONS_PATH}/`);
}

export function subscriptionDocument(
  topic: string,
  subscriber: string,
  active: boolean,
  payload: unknown,
): SubscriptionDocument {
  return {
    id: subscriptionId(topic, subscriber),
    type: 'Subscription',
    subscriber,
    topic,
    active,
    // A payload of null or none is left out, as the reference hub does.
    ...(payload === undefined || payload === null ? {} : { payload }),
  };
}

/**
 * A document as JSON, in the reference hub's field order and indentation (two spaces), with
 * `@context` first and `extra` fields (the API's `lastEventID`) before `payload`.
 */
export function documentJson(
  document: SubscriptionDocument,
  options: { context?: boolean; lastEventID?: string } = {},
): Record<string, unknown> {
  return {
    ...(options.context === true ? { '@context': JSONLD_CONTEXT } : {}),
    id: document.id,
    type: document.type,
    subscriber: document.subscriber,
    topic: document.topic,
    active: document.active,
    ...(options.lastEventID === undefined ? {} : { lastEventID: options.lastEventID }),
    ...('payload' in document ? { payload: document.payload } : {}),
  };
}

/** The private update announcing that one subscription started or ended. */
export function subscriptionEvent(document: SubscriptionDocument): NewUpdate {
  return {
    topics: [document.id],
    data: JSON.stringify(documentJson(document, { context: true }), null, 2),
    private: true,
  };
}

/**
 * Reads a subscription event back from the live feed (from any node), or `undefined` when the
 * update is not one. Only private updates on the reserved topics count: publishers cannot
 * write there, so these come from hubs.
 */
export function readSubscriptionEvent(update: Update): SubscriptionDocument | undefined {
  const event = subscriptionEventFields(update);
  if (event === undefined) return undefined;
  const { topic, fields } = event;
  const { type, subscriber, active } = fields;
  const selector = fields['topic'];
  if (
    type !== 'Subscription' ||
    typeof subscriber !== 'string' ||
    typeof selector !== 'string' ||
    typeof active !== 'boolean' ||
    fields['id'] !== topic ||
    subscriptionId(selector, subscriber) !== topic
  ) {
    return undefined;
  }
  return subscriptionDocument(selector, subscriber, active, fields['payload']);
}
