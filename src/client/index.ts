/**
 * `herald/client`: subscribe to and publish on a Herald (or any Mercure) hub, in browsers and
 * in Node ≥ 20. Web-standard APIs only (fetch, streams, TextDecoder, timers): nothing from the
 * server, nothing from `node:`.
 */
export { subscribe } from './subscribe.ts';
export type { EventHandler, HeraldEvent, Subscription } from './subscribe.ts';
export { publish } from './publish.ts';
export type { PublishOptions, PublishUpdate } from './publish.ts';
export { SUBSCRIBE_DEFAULTS } from './options.ts';
export type {
  ClientTimers,
  CredentialsMode,
  FetchFunction,
  HeadersSource,
  SubscribeOptions,
  TokenSource,
} from './options.ts';
export type { ConnectionState, StateChange } from './state.ts';
export { HeraldClientError } from './errors.ts';
export type { ClientErrorCode, Problem } from './errors.ts';
export { backoffDelay, backoffWindow } from './backoff.ts';
export type { BackoffOptions } from './backoff.ts';
