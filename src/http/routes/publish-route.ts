import { createHash } from 'node:crypto';
import type { Grants } from '../../auth/grants.ts';
import { HeraldError } from '../../core/errors.ts';
import type { RateDecision } from '../../core/rate-limiter.ts';
import { anySelectorMatches } from '../../core/topic-selector.ts';
import type { NewUpdate } from '../../core/update.ts';
import type { RouteContext } from '../context.ts';
import type { HubRequest, HubResponse } from '../http-message.ts';
import { parsePublishBody } from './publish-body.ts';
import { checkPublishedUpdate } from '../../core/reserved-namespace.ts';
import { readBody } from './read-body.ts';
import { authorize, withChallenge } from '../request/request-auth.ts';

/**
 * `POST /.well-known/mercure`: authorizes, parses, stores, and answers with the ids only once
 * the backend has stored the updates.
 */
export async function handlePublish(
  context: RouteContext,
  req: HubRequest,
  res: HubResponse,
  url: URL,
): Promise<void> {
  const started = performance.now();
  const { grants, token } = await publisherGrants(context, req, url);
  const publisher = publisherKey(grants, token);
  // An empty bucket refuses before the body is read; then the updates are counted.
  refuseOverRate(context.publishRate?.check(publisher, 1));
  const body = await readBody(req, context.config.maxBodyBytes);
  const updates = parsePublishBody(req.headers['content-type'], body);
  for (const update of updates) {
    // Refused whatever the token allows, so before it is asked (draft-08: 400, not 403).
    checkPublishedUpdate(update);
    try {
      assertMayPublish(grants, update);
    } catch (error) {
      // Draft-08: 403 with `insufficient_scope`; draft-07 keeps its plain 403.
      throw grants.dialect === '08' ? withChallenge(error) : error;
    }
  }
  refuseOverRate(await context.publishRate?.take(publisher, updates.length));
  const stored = await context.hub.publish(updates);
  const ids = stored.map((update) => update.id).join('\n');
  res.writeHead(200, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(ids),
  });
  res.end(ids);
  context.metrics.observePublish(stored.length, (performance.now() - started) / 1000);
}

/**
 * Who publishes, for the rate limit: the token's `sub`, so that one publisher's tokens share a
 * bucket; a token without one is its own publisher (hashed: tokens are not kept in memory).
 */
function publisherKey(grants: Grants, token: string): string {
  if (grants.subject !== undefined) return `sub:${grants.subject}`;
  return `token:${createHash('sha256').update(token).digest('base64url')}`;
}

function refuseOverRate(decision: RateDecision | undefined): void {
  if (decision === undefined || decision.allowed) return;
  throw new HeraldError(
    'HERALD_ERR_RATE_LIMITED',
    "This publisher is over the hub's publish rate limit; nothing was stored: retry after Retry-After seconds.",
    { retryAfterSeconds: decision.retryAfterMs / 1000 },
  );
}

async function publisherGrants(
  context: RouteContext,
  req: HubRequest,
  url: URL,
): Promise<{ grants: Grants; token: string }> {
  // A publish body is the same in both dialects: the token's form decides the answers' style.
  const { grants, found } = await authorize(context, req, url, {
    role: 'publisher',
    dialect: undefined,
    requireToken: true,
    missingToken: 'Publishing needs a publisher token.',
  });
  if (found === undefined) throw new Error('unreachable: a required token is always found');
  // A browser attaches cookies to cross-site requests: only allowed origins may publish with one.
  if (found.source === 'cookie') assertAllowedOrigin(context, req);
  return { grants, token: found.token };
}

function assertAllowedOrigin(context: RouteContext, req: HubRequest): void {
  const origin = req.headers.origin ?? originOf(req.headers.referer);
  if (origin === undefined || !context.publishOrigins.has(origin)) {
    throw new HeraldError(
      'HERALD_ERR_CSRF',
      'A publish authorized by cookie must come from an allowed Origin or Referer.',
    );
  }
}

function originOf(referer: string | undefined): string | undefined {
  if (referer === undefined) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}

function assertMayPublish(grants: Grants, update: NewUpdate): void {
  for (const topic of update.topics) {
    if (!anySelectorMatches(grants.publish, [topic])) {
      throw new HeraldError(
        'HERALD_ERR_FORBIDDEN',
        `The token's publish selectors do not cover the topic "${topic}".`,
      );
    }
  }
}
