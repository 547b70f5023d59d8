import { payloadForMatcher } from '../../auth/authorization-details.ts';
import { HeraldError } from '../../core/errors.ts';
import type { SubscriberGrants } from '../../core/subscriber.ts';
import type { RouteContext } from '../context.ts';
import { authorize } from '../request/request-auth.ts';
import type { RequestLog } from '../request-log.ts';
import type { HubRequest, HubResponse } from '../http-message.ts';
import type { SseConnectionLimits } from '../streams/sse-connection.ts';
import { SseConnection } from '../streams/sse-connection.ts';
import { admitStream } from '../limits/stream-admission.ts';
import { chargePresence } from '../limits/presence-admission.ts';
import { STREAM_HEADERS } from '../streams/stream-headers.ts';
import { hubUrlOf } from '../request/hub-url.ts';
import { setRequestDialect } from '../request/request-dialect.ts';
import { dialectOfQuery, readSubscribeQuery } from './subscribe-query.ts';
import { headerToUtf8, utf8ToHeader } from '../request/header-value.ts';

// A replay pauses once this much is queued, far below the slow-consumer cap.
const REPLAY_HIGH_WATER_MARK = 64 * 1024;

// What every anonymous (or public-only) subscriber is granted: one object, not one each.
const PUBLIC_ONLY: SubscriberGrants = Object.freeze({ privateSelectors: [] });

/*
 * Every stream of a hub shares one limits object (and one drop counter callback): an idle
 * stream should hold only what is its own.
 */
const limitsOf = new WeakMap<RouteContext, SseConnectionLimits>();

function streamLimits(context: RouteContext): SseConnectionLimits {
  let limits = limitsOf.get(context);
  if (limits === undefined) {
    limits = {
      highWaterMark: Math.min(REPLAY_HIGH_WATER_MARK, context.config.maxUnsentBytes),
      maxUnsentBytes: context.config.maxUnsentBytes,
      budget: context.connections.unsent,
      http1: context.http1,
      onDrop: () => {
        context.connections.droppedSlowConsumers++;
      },
      onClose: (connection) => {
        const { subscriber, countedAs } = connection;
        if (subscriber !== undefined) {
          connection.subscriber = undefined;
          context.hub.unsubscribe(subscriber);
          context.connections.delete(connection);
        }
        if (countedAs !== undefined) {
          connection.countedAs = undefined;
          context.streamsPerClient?.release(countedAs);
        }
      },
    };
    limitsOf.set(context, limits);
  }
  return limits;
}

/** `GET /.well-known/mercure`: authorizes, joins the topic index, replays history, streams. */
export async function handleSubscribe(
  context: RouteContext,
  req: HubRequest,
  res: HubResponse,
  url: URL,
  /** Headers every response carries (request id, CORS): sent with the stream's head. */
  common: Readonly<Record<string, string>>,
  /** The request's log entry: its close listener tells the connection when the response closes. */
  log: RequestLog,
): Promise<void> {
  // Made first: when the response closes, whatever ended the request, the connection releases
  // the stream count.
  const connection = new SseConnection(res, streamLimits(context));
  log.closes = connection;
  // Counted from its first moment (so requests still being authorized count too), refused
  // before the token is verified: the cheapest answer comes first.
  const countedAs = await admitStream(context, req);
  if (countedAs !== undefined && connection.closed) {
    // The client left while the cluster's count was asked: its close found nothing to release.
    context.streamsPerClient?.release(countedAs);
    return;
  }
  connection.countedAs = countedAs;
  // The dialect first, so that every refusal from here on is answered in it.
  setRequestDialect(req, dialectOfQuery(url, context.config.protocol));
  const query = readSubscribeQuery(url, {
    protocol: context.config.protocol,
    maxMatchers: context.config.maxSelectorsPerSubscription,
    hubUrl: hubUrlOf(req, context.config.tls !== null),
  });
  chargePresence(
    context.presenceRate,
    context,
    req,
    query.dialect === '07' ? query.selectors.length : query.matchers.length,
  );
  const authorization = authorize(context, req, url, {
    role: 'subscriber',
    dialect: query.dialect,
    requireToken: !context.config.anonymous,
    missingToken:
      query.dialect === '08'
        ? `Subscribing needs an access token: an Authorization Bearer header or the ${context.config.accessTokenCookie} cookie.`
        : 'Subscribing needs a token: an Authorization Bearer header, an authorization query parameter or a cookie.',
  });
  // Awaited only when it must be: a token verified before is answered at once.
  const { grants } = authorization instanceof Promise ? await authorization : authorization;
  const lastEventId = requestedLastEventId(req, query.lastEventId);
  const opened = await context.hub.subscribe({
    ...(query.dialect === '07'
      ? { selectors: query.selectors }
      : {
          selectors: [],
          matchers: query.matchers.map(({ match, matchType, selector }) => ({
            match,
            matchType,
            selector,
            // Draft-08: each subscription's own payload, that of the first subscribe detail
            // whose topics match its matcher (null: none, not the subscriber's first one).
            ...(grants.dialect === '08'
              ? { payload: payloadForMatcher(grants.subscribeDetails, match) ?? null }
              : {}),
          })),
        }),
    grants: grants.subscribe.length === 0 ? PUBLIC_ONLY : { privateSelectors: grants.subscribe },
    sink: connection,
    lastEventId,
    // Draft-08 tokens carry a payload per subscribe detail, chosen by the subscription's matcher
    // (above, for draft-08 requests); a draft-07 request with one gets its first selector's.
    payload:
      grants.dialect === '08'
        ? payloadForMatcher(
            grants.subscribeDetails,
            query.dialect === '08' ? (query.matchers[0]?.match ?? '') : (query.selectors[0] ?? ''),
          )
        : grants.payload,
  });
  const { subscriber } = opened;
  // The client may have gone while history was being looked up.
  if (connection.closed) {
    context.hub.unsubscribe(subscriber);
    return;
  }
  // The token may have expired while history was being looked up.
  if (grants.expiresAt !== undefined && grants.expiresAt <= Date.now()) {
    context.hub.unsubscribe(subscriber);
    throw new HeraldError('HERALD_ERR_INVALID_TOKEN', 'The token has expired.', {
      reason: 'expired',
    });
  }
  // From now on the connection's close handler unsubscribes and unregisters it.
  connection.subscriber = subscriber;
  // The stream ends when the token expires; the client reconnects with a fresh one.
  context.connections.add(connection, grants.expiresAt);

  const headers: Record<string, string> = { ...common, ...STREAM_HEADERS };
  if (opened.resumedAfter !== undefined) {
    // Draft-08 renamed the response field: `Last-Event-ID` is a request header only.
    const field = query.dialect === '07' ? 'Last-Event-ID' : 'Mercure-Last-Event-ID';
    headers[field] = utf8ToHeader(opened.resumedAfter);
  }
  // The head and a first comment go now, so the client knows it is connected.
  connection.open(headers);
  await opened.start();
}

/**
 * The header wins over the query parameters (see subscribe-query.ts), which exist because a
 * browser cannot set headers on its first connection. Empty means absent.
 */
function requestedLastEventId(req: HubRequest, fromQuery: string | undefined): string | undefined {
  const header = req.headers['last-event-id'];
  if (typeof header === 'string' && header !== '') return headerToUtf8(header);
  return fromQuery;
}
