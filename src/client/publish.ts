import { HeraldClientError, readProblem, statusError } from './errors.ts';
import type { CredentialsMode, FetchFunction, TokenSource } from './options.ts';
import { defaultFetch } from './options.ts';

/** One update, as Herald's JSON extension spells it. */
export interface PublishUpdate {
  /** The topic, or the topics (the first is canonical, the others alternates). */
  readonly topic: string | readonly string[];
  readonly data?: string | undefined;
  /** Delivered only to subscribers whose token's `mercure.subscribe` covers a topic. */
  readonly private?: boolean | undefined;
  /** The hub assigns a `urn:uuid:` id when none is given. */
  readonly id?: string | undefined;
  /** The SSE event type. */
  readonly type?: string | undefined;
  /** The reconnection time, in milliseconds, subscribers should use. */
  readonly retry?: number | undefined;
}

export interface PublishOptions {
  /** The publisher token, sent as `Authorization: Bearer`; a function is called once. */
  readonly token?: TokenSource;
  /** @defaultValue `globalThis.fetch` */
  readonly fetch?: FetchFunction | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** For a `mercureAuthorization` cookie in browsers (the hub then checks the Origin). */
  readonly credentials?: CredentialsMode | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Publishes one update, resolving with its id once the hub has stored it.
 *
 * @throws HeraldClientError with the hub's problem document (`error.hubCode`, e.g.
 *   `HERALD_ERR_FORBIDDEN`) when the hub refuses it; `HERALD_CLIENT_ERR_NETWORK` when no
 *   answer came.
 */
export function publish(
  hubUrl: string | URL,
  update: PublishUpdate,
  options?: PublishOptions,
): Promise<string>;
/**
 * Publishes a batch in one request (all stored or none), resolving with the ids in order.
 */
export function publish(
  hubUrl: string | URL,
  updates: readonly PublishUpdate[],
  options?: PublishOptions,
): Promise<string[]>;
export async function publish(
  hubUrl: string | URL,
  updates: PublishUpdate | readonly PublishUpdate[],
  options: PublishOptions = {},
): Promise<string | string[]> {
  const batch = isBatch(updates);
  if (batch && updates.length === 0) {
    throw new HeraldClientError('HERALD_CLIENT_ERR_INVALID_OPTION', 'Publish at least one update.');
  }
  const fetchFunction = options.fetch ?? defaultFetch();
  const headers = new Headers(options.headers);
  headers.set('Content-Type', 'application/json');
  const token = typeof options.token === 'function' ? await options.token() : options.token;
  if (token !== undefined) headers.set('Authorization', `Bearer ${token}`);
  const body = JSON.stringify(batch ? updates.map(toJson) : toJson(updates));
  const init: RequestInit = { method: 'POST', headers, body };
  if (options.credentials !== undefined) init.credentials = options.credentials;
  if (options.signal !== undefined) init.signal = options.signal;

  let response: Response;
  try {
    response = await fetchFunction(hubUrl, init);
  } catch (cause) {
    throw new HeraldClientError('HERALD_CLIENT_ERR_NETWORK', 'Publishing failed: no answer.', {
      cause,
    });
  }
  if (response.status !== 200) {
    throw statusError(response.status, await readProblem(response), 'Publishing failed');
  }
  const ids = (await response.text()).split('\n');
  return batch ? ids : (ids[0] ?? '');
}

function isBatch(
  updates: PublishUpdate | readonly PublishUpdate[],
): updates is readonly PublishUpdate[] {
  return Array.isArray(updates);
}

/** Only the fields the hub knows: it refuses unknown ones, and extra properties are likely. */
function toJson(update: PublishUpdate): Record<string, unknown> {
  return {
    topic: update.topic,
    data: update.data,
    private: update.private,
    id: update.id,
    type: update.type,
    retry: update.retry,
  };
}
