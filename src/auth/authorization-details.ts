import type { TopicSelector } from '../core/topic-selector.ts';
import { isMatchType, MATCH_TYPES, matcherSelector } from '../core/url-pattern.ts';

/** The `type` of a Mercure authorization detail (RFC 9396), compared byte by byte. */
export const MERCURE_DETAIL_TYPE = 'https://mercure.rocks/authorization-detail';

/**
 * Limits on what one token may carry (draft-08 asks hubs to bound them): past any, the token is
 * refused as invalid, never trimmed.
 */
export const DETAIL_LIMITS = Object.freeze({
  /** Mercure authorization details in one token. */
  maxDetails: 64,
  /** Entries of one detail's `topics`. */
  maxTopicsPerDetail: 64,
  /** Characters of one `match`. */
  maxMatchLength: 2048,
});

/** One `subscribe` grant, in token order: draft-08 picks a subscription's payload from them. */
export interface SubscribeDetail {
  readonly topics: readonly TopicSelector[];
  readonly payload: Readonly<Record<string, unknown>> | undefined;
}

/** What a token's Mercure authorization details grant. */
export interface DetailGrants {
  readonly publish: readonly TopicSelector[];
  readonly subscribe: readonly TopicSelector[];
  readonly subscribeDetails: readonly SubscribeDetail[];
}

/** A defect of the claim; the verifier reports it as `invalid-authorization-details`. */
export class AuthorizationDetailsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthorizationDetailsError';
  }
}

/**
 * Reads the `authorization_details` claim. Entries of other types are another API's business
 * and are skipped; every Mercure entry must be valid, or the whole token is refused (acting on
 * the remaining entries would silently change what the token allows). Actions this hub does not
 * know grant nothing and invalidate nothing, as draft-08 requires.
 */
export function readAuthorizationDetails(claim: unknown, hubUrl: string): DetailGrants {
  const publish: TopicSelector[] = [];
  const subscribe: TopicSelector[] = [];
  const subscribeDetails: SubscribeDetail[] = [];
  if (claim === undefined) return { publish, subscribe, subscribeDetails };
  if (!Array.isArray(claim)) {
    throw new AuthorizationDetailsError('"authorization_details" must be an array.');
  }
  let mercureDetails = 0;
  claim.forEach((detail: unknown, index) => {
    const where = `authorization_details[${index}]`;
    if (!isObject(detail)) throw new AuthorizationDetailsError(`${where} is not an object.`);
    if (typeof detail['type'] !== 'string') {
      throw new AuthorizationDetailsError(`${where} has no "type" string.`);
    }
    if (detail['type'] !== MERCURE_DETAIL_TYPE) return;
    if (++mercureDetails > DETAIL_LIMITS.maxDetails) {
      throw new AuthorizationDetailsError(
        `The token carries more than ${DETAIL_LIMITS.maxDetails} Mercure authorization details.`,
      );
    }
    const actions = readActions(detail['actions'], where);
    const topics = readTopics(detail['topics'], where, hubUrl);
    const payload = detail['payload'];
    if (payload !== undefined && !isObject(payload)) {
      throw new AuthorizationDetailsError(`${where}.payload must be a JSON object.`);
    }
    if (actions.has('publish')) publish.push(...topics);
    if (actions.has('subscribe')) {
      subscribe.push(...topics);
      subscribeDetails.push({ topics, payload });
    }
  });
  return { publish, subscribe, subscribeDetails };
}

/**
 * The payload draft-08 attaches to a subscription: that of the first `subscribe` detail one of
 * whose topics matches the subscription's own matcher string, taken as if it were a topic.
 */
export function payloadForMatcher(
  details: readonly SubscribeDetail[],
  matcher: string,
): Readonly<Record<string, unknown>> | undefined {
  for (const detail of details) {
    if (detail.topics.some((topic) => topic.matches(matcher))) return detail.payload;
  }
  return undefined;
}

function readActions(value: unknown, where: string): Set<string> {
  if (!Array.isArray(value) || value.length === 0) {
    throw new AuthorizationDetailsError(`${where}.actions must be a non-empty array of strings.`);
  }
  for (const action of value) {
    if (typeof action !== 'string') {
      throw new AuthorizationDetailsError(`${where}.actions holds a value that is not a string.`);
    }
  }
  return new Set(value as string[]);
}

function readTopics(value: unknown, where: string, hubUrl: string): TopicSelector[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new AuthorizationDetailsError(`${where}.topics must be a non-empty array of objects.`);
  }
  if (value.length > DETAIL_LIMITS.maxTopicsPerDetail) {
    throw new AuthorizationDetailsError(
      `${where}.topics has more than ${DETAIL_LIMITS.maxTopicsPerDetail} entries.`,
    );
  }
  return value.map((entry: unknown, index) => {
    const at = `${where}.topics[${index}]`;
    if (!isObject(entry)) {
      throw new AuthorizationDetailsError(`${at} is not an object with a "match".`);
    }
    const match = entry['match'];
    if (typeof match !== 'string' || match === '') {
      throw new AuthorizationDetailsError(`${at}.match must be a non-empty string.`);
    }
    if (match.length > DETAIL_LIMITS.maxMatchLength) {
      throw new AuthorizationDetailsError(
        `${at}.match is longer than ${DETAIL_LIMITS.maxMatchLength} characters.`,
      );
    }
    const type = entry['match_type'] ?? 'exact';
    if (!isMatchType(type)) {
      // Unlike an unknown action, an unknown type cannot be skipped: the grant would change.
      throw new AuthorizationDetailsError(
        `${at}.match_type must be one of ${MATCH_TYPES.join(', ')} (case-sensitive).`,
      );
    }
    try {
      // `*` matches every topic whatever the type; relative URL Patterns resolve against the hub.
      return matcherSelector(match, type, hubUrl);
    } catch (error) {
      throw new AuthorizationDetailsError(`${at}.match: ${(error as Error).message}`);
    }
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
