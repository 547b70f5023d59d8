import { HeraldError } from '../../core/errors.ts';
import type { RateLimiter } from '../../core/rate-limiter.ts';
import { clientAddress, clientKey } from '../request/client-address.ts';
import type { StreamAdmission } from './stream-admission.ts';
import type { HubRequest } from '../http-message.ts';

/**
 * With `--subscriptions`, every subscription stores events in history: one per selector when
 * it starts and one when it ends. Left unbounded, an anonymous client connecting and leaving in
 * a loop writes as fast as a publisher, for free. So each client address (as for
 * `--max-streams-per-client`) spends from a token bucket of subscription events
 * (`--presence-rate`, `--presence-burst`), charged before the token is verified: over it the
 * subscription is refused with 429 and a Retry-After, and nothing is stored.
 */
export function chargePresence(
  rate: RateLimiter | undefined,
  admission: Pick<StreamAdmission, 'trustedProxies'>,
  req: HubRequest,
  selectors: number,
): void {
  if (rate === undefined) return;
  const client = clientKey(clientAddress(req, admission.trustedProxies));
  // The start and the end of each selector's subscription.
  const decision = rate.take(client, 2 * selectors);
  if (decision.allowed) return;
  throw new HeraldError(
    'HERALD_ERR_PRESENCE_RATE_LIMITED',
    "This client is over the hub's rate limit of subscription events: every subscription is announced while the subscription API is on. Retry after Retry-After seconds.",
    { retryAfterSeconds: decision.retryAfterMs / 1000 },
  );
}
