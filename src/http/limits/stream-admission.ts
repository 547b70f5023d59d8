import type { BlockList } from 'node:net';
import { HeraldError } from '../../core/errors.ts';
import { clientAddress, clientKey } from '../request/client-address.ts';
import type { HubRequest } from '../http-message.ts';
import type { StreamCounter } from './streams-per-client.ts';

// When a client over its stream limit may try again: streams close at no predictable moment,
// so a fixed pause that keeps a reconnect loop slow.
const STREAMS_RETRY_AFTER_SECONDS = 10;

/** What deciding whether a client may open one more long-lived stream needs. */
export interface StreamAdmission {
  /** Open streams per client, when their number is limited. */
  readonly streamsPerClient: StreamCounter | undefined;
  /** Proxies whose X-Forwarded-For names the client. */
  readonly trustedProxies: BlockList | undefined;
}

/**
 * Counts one more long-lived stream (an event stream, a dashboard feed) for the client of
 * `req` under `--max-streams-per-client`, and returns the key to release it under when it
 * closes; `undefined` when streams are not limited. Throws HERALD_ERR_TOO_MANY_STREAMS (429)
 * when the client already holds the limit. Every kind of stream shares one count per client,
 * so no route can be used to hold more sockets than the limit. On a shared store the count is
 * the cluster's, which takes a round trip to the store.
 */
export async function admitStream(
  admission: StreamAdmission,
  req: HubRequest,
): Promise<string | undefined> {
  const { streamsPerClient } = admission;
  if (streamsPerClient === undefined) return undefined;
  const client = clientKey(clientAddress(req, admission.trustedProxies));
  if (!(await streamsPerClient.tryOpen(client))) {
    throw new HeraldError(
      'HERALD_ERR_TOO_MANY_STREAMS',
      `This client already has ${streamsPerClient.limit} event streams open, the most this hub allows; close one or retry later.`,
      { retryAfterSeconds: STREAMS_RETRY_AFTER_SECONDS },
    );
  }
  return client;
}
