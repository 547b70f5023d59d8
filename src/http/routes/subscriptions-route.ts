import { HeraldError } from '../../core/errors.ts';
import type { Presence } from '../../core/presence.ts';
import {
  documentJson,
  JSONLD_CONTEXT,
  SUBSCRIPTIONS_PATH,
  subscriptionId,
  topicCollectionId,
} from '../../core/subscription-events.ts';
import { anySelectorMatches } from '../../core/topic-selector.ts';
import type { TopicSelector } from '../../core/topic-selector.ts';
import { matchCollectionId, matchSubscriptionId } from '../../core/match-subscription-events.ts';
import { isMatchType } from '../../core/url-pattern.ts';
import { hubUrlOf } from '../request/hub-url.ts';
import { writeCollection } from './collection-writer.ts';
import type { RouteContext } from '../context.ts';
import type { HubRequest, HubResponse } from '../http-message.ts';
import { utf8ToHeader } from '../request/header-value.ts';
import { authorize, withChallenge } from '../request/request-auth.ts';

/** Whether a path belongs to the subscription API (served only with `--subscriptions`). */
export function isSubscriptionsPath(pathname: string): boolean {
  return pathname === SUBSCRIPTIONS_PATH || pathname.startsWith(`${SUBSCRIPTIONS_PATH}/`);
}

/**
 * `GET /.well-known/mercure/subscriptions[/{topic}[/{subscriber}]]`: Mercure's subscription
 * API. The caller's subscriber token must cover the URL asked for, whatever anonymous access
 * allows: the answer says who subscribes to what. The state is the cluster's, read from the
 * subscription events every node publishes, with the `lastEventID` it stands at.
 */
export async function handleSubscriptions(
  context: RouteContext,
  presence: Presence,
  req: HubRequest,
  res: HubResponse,
  url: URL,
): Promise<void> {
  const { grants, dialect } = await authorize(context, req, url, {
    role: 'subscriber',
    dialect: undefined,
    requireToken: true,
    missingToken:
      'The subscription API needs a subscriber token whose subscribe grants cover its URL.',
  });
  const segments = pathSegments(url.pathname);
  if (segments === undefined) {
    throw new HeraldError('HERALD_ERR_NOT_FOUND', `Nothing is served at ${url.pathname}.`);
  }
  // The root path is the same in both drafts: a draft-08 token gets the draft-08 form.
  const draft08 =
    segments.length === 0 && dialect === '08'
      ? { canonical: SUBSCRIPTIONS_PATH, collection: SUBSCRIPTIONS_PATH, subscriber: undefined }
      : draft08Target(presence, segments);
  if (draft08 !== undefined) {
    assertCovers(grants.subscribe, draft08.canonical, url.pathname, true);
    await answerDraft08(context, presence, req, res, draft08);
    return;
  }
  if (segments.length > 2) {
    throw new HeraldError('HERALD_ERR_NOT_FOUND', `Nothing is served at ${url.pathname}.`);
  }
  const [topic, subscriber] = segments;
  // Authorized against the URL in the form the hub writes it (the topic of the matching
  // subscription events), or exactly as requested when a client encoded it otherwise.
  const canonical =
    topic === undefined
      ? SUBSCRIPTIONS_PATH
      : subscriber === undefined
        ? topicCollectionId(topic)
        : subscriptionId(topic, subscriber);
  assertCovers(grants.subscribe, canonical, url.pathname, dialect === '08');

  // Read in one go, so that the list is exactly the state at `lastEventID`.
  const lastEventID = presence.lastEventId ?? 'earliest';
  const etag = entityTag(lastEventID);
  const headers = {
    ETag: etag,
    'Cache-Control': 'must-revalidate',
    Link: '</.well-known/mercure>; rel="mercure"',
  };
  if (topic !== undefined && subscriber !== undefined) {
    const document = presence.get(topic, canonical);
    if (document === undefined) {
      throw new HeraldError(
        'HERALD_ERR_NOT_FOUND',
        'No active subscription has this topic selector and subscriber.',
      );
    }
    send(
      req,
      res,
      headers,
      'application/ld+json',
      documentJson(document, { context: true, lastEventID }),
    );
    return;
  }
  if (notModified(req, res, headers)) return;
  // A snapshot of references taken at once (the state at `lastEventID`), written a slice at a
  // time: however many subscriptions there are, no one turn builds the whole document.
  await writeCollection(
    res,
    headers,
    'application/ld+json',
    { '@context': JSONLD_CONTEXT, id: canonical, type: 'Subscriptions', lastEventID },
    'subscriptions',
    presence.list(topic),
    (document) => documentJson(document),
  );
}

/** Refuses (403) a token whose subscribe grants cover neither form of the URL asked for. */
function assertCovers(
  selectors: readonly TopicSelector[],
  canonical: string,
  requested: string,
  draft08: boolean,
): void {
  if (!anySelectorMatches(selectors, [canonical, requested])) {
    const refusal = new HeraldError(
      'HERALD_ERR_FORBIDDEN',
      `The token's subscribe selectors do not cover ${canonical}.`,
    );
    // Draft-08: 403 with `insufficient_scope`; draft-07 keeps its plain 403.
    throw draft08 ? withChallenge(refusal) : refusal;
  }
}

/** Answers 304 when the client holds the current state already; true when it did. */
function notModified(req: HubRequest, res: HubResponse, headers: Record<string, string>): boolean {
  if (req.headers['if-none-match'] !== headers['ETag']) return false;
  res.writeHead(304, headers);
  res.end();
  return true;
}

function send(
  req: HubRequest,
  res: HubResponse,
  headers: Record<string, string>,
  contentType: string,
  body: unknown,
): void {
  if (notModified(req, res, headers)) return;
  const json = JSON.stringify(body, null, 2);
  res.writeHead(200, {
    ...headers,
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(json),
  });
  res.end(json);
}

/** A draft-08 API URL: a matcher's collection, or one subscription of it. */
interface Draft08Target {
  readonly canonical: string;
  readonly collection: string;
  /** Absent for the collection. */
  readonly subscriber: string | undefined;
}

/**
 * The draft-08 resource a path names, or `undefined` for a draft-07 one. Draft-08 paths are
 * `/subscriptions/{match_type}/{match}[/{subscriber}]`; two segments are ambiguous with
 * draft-07's `/subscriptions/{topic}/{subscriber}`, so they are draft-07 when such a
 * subscription exists, and draft-08 when the first segment is a matcher type.
 */
function draft08Target(presence: Presence, segments: string[]): Draft08Target | undefined {
  const [matchType, match, subscriber] = segments;
  if (!isMatchType(matchType) || match === undefined) return undefined;
  if (subscriber === undefined) {
    if (presence.get(matchType, subscriptionId(matchType, match)) !== undefined) return undefined;
    const collection = matchCollectionId(matchType, match);
    return { canonical: collection, collection, subscriber: undefined };
  }
  return {
    canonical: matchSubscriptionId(matchType, match, subscriber),
    collection: matchCollectionId(matchType, match),
    subscriber,
  };
}

/**
 * Draft-08 answers: plain JSON (`application/json`), documents with `match` and `match_type`,
 * and the reconciliation cursor on the `rel="mercure"` Link header rather than in the body.
 */
async function answerDraft08(
  context: RouteContext,
  presence: Presence,
  req: HubRequest,
  res: HubResponse,
  target: Draft08Target,
): Promise<void> {
  const lastEventId = presence.lastEventId ?? 'earliest';
  const hubUrl = hubUrlOf(req, context.config.tls !== null);
  const headers = {
    ETag: entityTag(lastEventId),
    'Cache-Control': 'must-revalidate',
    Link: `<${hubUrl}>; rel="mercure"; last-event-id="${linkQuoted(lastEventId)}"; type="mercure"; content-type="application/json"`,
  };
  if (target.subscriber !== undefined) {
    const document = presence.getMatch(target.collection, target.canonical);
    if (document === undefined) {
      throw new HeraldError(
        'HERALD_ERR_NOT_FOUND',
        'No active subscription has this matcher and subscriber.',
      );
    }
    send(req, res, headers, 'application/json', document);
    return;
  }
  if (notModified(req, res, headers)) return;
  // As for draft-07: a snapshot taken at once, written a slice at a time.
  await writeCollection(
    res,
    headers,
    'application/json',
    { id: target.collection, type: 'subscriptions' },
    'subscriptions',
    target.collection === SUBSCRIPTIONS_PATH
      ? presence.listMatches()
      : presence.listMatches(target.collection),
    (document) => document,
  );
}

/** A Link parameter's quoted-string content, its UTF-8 bytes written as Node writes headers. */
function linkQuoted(value: string): string {
  return Buffer.from(value.replaceAll(/["\\]/g, '\\$&'), 'utf8').toString('latin1');
}

/**
 * The decoded `{topic}` and `{subscriber}` of an API path (none, one or both), or `undefined`
 * for a path of another shape or with a malformed escape.
 */
function pathSegments(pathname: string): string[] | undefined {
  const rest = pathname.slice(SUBSCRIPTIONS_PATH.length);
  if (rest === '') return [];
  const raw = rest.slice(1).split('/');
  if (raw.length > 3 || raw.some((segment) => segment === '')) return undefined;
  try {
    return raw.map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
}

/**
 * A quoted entity tag (RFC 9110) naming the state: the last event id, with `%` and `"` escaped
 * and its UTF-8 bytes written as Node writes header values (any control byte escaped too).
 */
function entityTag(lastEventId: string): string {
  const escaped = lastEventId.replaceAll('%', '%25').replaceAll('"', '%22');
  return `"${utf8ToHeader(escaped)}"`;
}
