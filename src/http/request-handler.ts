import { randomUUID } from 'node:crypto';
import { HeraldError } from '../core/errors.ts';
import type { RouteContext } from './context.ts';
import { CLIENT_BUNDLE_PATH } from './ui/client-bundle.ts';
import { answerPreflight, corsHeaders } from './request/cors.ts';
import { assertHeaderListSize } from './limits/header-list-size.ts';
import { HUB_PATH } from './request/hub-url.ts';
import { handleHealth, handleMetrics, handleReady } from './routes/health-routes.ts';
import { hubIdentity, metadataPaths } from './request/hub-identity.ts';
import type { HubRequest, HubResponse } from './http-message.ts';
import { isHttp2 } from './http-message.ts';
import { sendProblem } from './problem.ts';
import { RequestLog } from './request-log.ts';
import { handlePublish } from './routes/publish-route.ts';
import { handleRoot } from './routes/root-route.ts';
import { bearerChallenge, withChallenge } from './request/request-auth.ts';
import { requestDialect } from './request/request-dialect.ts';
import { servesDialect } from '../core/dialect.ts';
import {
  answerMetadataPreflight,
  handleResourceMetadata,
} from './routes/resource-metadata-route.ts';
import { handleSubscribe } from './routes/subscribe-route.ts';
import { handleSubscriptions, isSubscriptionsPath } from './routes/subscriptions-route.ts';
import { readRequestTarget } from './request/request-target.ts';
import { assertSingleHost } from './request/single-host.ts';
import { SUBSCRIPTIONS_PATH } from '../core/subscription-events.ts';

export { HUB_PATH } from './request/hub-url.ts';

// Subscription API paths encode a topic (holding "/") in one segment.
const ENCODED_SLASHES = [`${SUBSCRIPTIONS_PATH}/`];

// An incoming X-Request-Id is kept (a proxy's id ties the logs together) only if it is this tame.
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Routes a request, turns every thrown error into a problem response, and logs each request
 * once it ends: its id, method, path (never the query, which may carry a token), HTTP version,
 * status and duration.
 */
export function createRequestHandler(
  context: RouteContext,
): (req: HubRequest, res: HubResponse) => void {
  const corsOrigins = new Set(context.config.corsOrigins);
  // A draft-07-only hub publishes no metadata: its absence tells clients what it speaks.
  const draft08 = servesDialect(context.config.protocol, '08');
  const metadata = draft08 ? metadataPaths(context.config) : new Set<string>();

  async function route(
    req: HubRequest,
    res: HubResponse,
    common: Record<string, string>,
    log: RequestLog,
  ): Promise<void> {
    assertHeaderListSize(req, context.config.maxHeaderBytes);
    assertSingleHost(req);
    // Routing compares the raw path: one a URL parser would normalise is refused, not rewritten.
    const { path, url } = readRequestTarget(req.url, ENCODED_SLASHES);
    // An event stream passes these headers with its head. Set here, Node would keep a header
    // map (an object and an array per header) alive for as long as each stream stays open.
    const stream = path === HUB_PATH && req.method === 'GET';
    if (!stream) for (const [name, value] of Object.entries(common)) res.setHeader(name, value);
    if (context.closing()) {
      throw new HeraldError(
        'HERALD_ERR_SHUTTING_DOWN',
        'The hub is shutting down; retry on another node or shortly.',
      );
    }
    if (path === HUB_PATH) {
      switch (req.method) {
        case 'GET':
          return handleSubscribe(context, req, res, url, common, log);
        case 'POST':
          return handlePublish(context, req, res, url);
        case 'OPTIONS':
          answerPreflight(res);
          return;
        default:
          throw new HeraldError(
            'HERALD_ERR_METHOD_NOT_ALLOWED',
            `${req.method ?? 'This method'} is not allowed here; use GET to subscribe or POST to publish.`,
          );
      }
    }
    if (metadata.has(path)) {
      if (req.method === 'GET' || req.method === 'HEAD') {
        handleResourceMetadata(context, req, res);
        return;
      }
      if (req.method === 'OPTIONS') {
        answerMetadataPreflight(res);
        return;
      }
    }
    // Served only with --subscriptions: otherwise these paths are unknown (404).
    const presence = context.presence;
    if (presence !== undefined && isSubscriptionsPath(path)) {
      if (req.method === 'GET') return handleSubscriptions(context, presence, req, res, url);
      if (req.method === 'OPTIONS') {
        answerPreflight(res);
        return;
      }
    }
    if (req.method === 'GET') {
      switch (path) {
        case '/':
          handleRoot(context, req, res);
          return;
        case '/healthz':
          handleHealth(res);
          return;
        case '/readyz':
          return handleReady(context, res);
        case '/metrics':
          return handleMetrics(context, res);
        case CLIENT_BUNDLE_PATH:
          if (context.clientBundle.serve(res)) return;
          throw new HeraldError(
            'HERALD_ERR_NOT_FOUND',
            'The browser client is not built: run npm run build (build:browser).',
          );
      }
      if ((await context.ui?.serve(path, req, res)) === true) return;
    }
    throw new HeraldError('HERALD_ERR_NOT_FOUND', `Nothing is served at ${path}.`);
  }

  return (req, res) => {
    const started = performance.now();
    const incoming = req.headers['x-request-id'];
    const requestId =
      typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const common = { 'X-Request-Id': requestId, ...corsHeaders(req, corsOrigins) };
    const log = RequestLog.open(context.logger, req, res, requestId, started);
    route(req, res, common, log).catch((thrown: unknown) => {
      // A draft-08 request's token refusals carry RFC 6750 challenges.
      const error = requestDialect(req) === '08' ? withChallenge(thrown) : thrown;
      if (abortedByClient(req, error)) {
        // The connection was cut mid-request (by the client, or by a request timeout that was
        // already answered): there is no one to answer, and nothing went wrong here.
        context.logger.debug({ requestId }, 'request aborted');
        return;
      }
      if (error instanceof HeraldError) {
        context.metrics.countError(error.code);
      } else {
        context.metrics.countError('HERALD_ERR_INTERNAL');
        context.logger.error({ requestId, err: error }, 'internal error');
      }
      const headers: Record<string, string> = { ...common };
      if (error instanceof HeraldError && error.code === 'HERALD_ERR_METHOD_NOT_ALLOWED') {
        headers['Allow'] = 'GET, POST, OPTIONS';
      }
      if (error instanceof HeraldError && error.challenge !== undefined && draft08) {
        // A draft-08 refusal: RFC 6750's challenge, pointing to the metadata (RFC 9728 §5.1).
        const { metadataUrl } = hubIdentity(context.config, req);
        headers['WWW-Authenticate'] = bearerChallenge(error.challenge, metadataUrl);
      }
      // A refusal may come before the body was received, and a malformed request leaves the
      // framing of what follows in doubt: close rather than reuse the connection. (HTTP/2 ends
      // just this stream, and forbids the header.)
      const malformed =
        error instanceof HeraldError && error.code === 'HERALD_ERR_MALFORMED_REQUEST';
      if ((!req.complete || malformed) && !isHttp2(req)) headers['Connection'] = 'close';
      sendProblem(res, error, headers);
    });
  };
}

/** Node rejects a body read with ECONNRESET "aborted" when the connection closes mid-body. */
function abortedByClient(req: HubRequest, error: unknown): boolean {
  return (
    req.destroyed &&
    !(error instanceof HeraldError) &&
    (error as { code?: unknown } | null)?.code === 'ECONNRESET'
  );
}
