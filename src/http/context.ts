import type { BlockList } from 'node:net';
import type { Logger } from 'pino';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import type { HeraldConfig } from '../config.ts';
import type { Hub } from '../core/hub.ts';
import type { Presence } from '../core/presence.ts';
import type { RateDecision, RateLimiter } from '../core/rate-limiter.ts';
import type { ConnectionRegistry } from './streams/connection-registry.ts';
import type { ClientBundle } from './ui/client-bundle.ts';
import type { HeraldMetrics } from './metrics.ts';
import type { NodeHttp1 } from './node-http1.ts';
import type { StreamCounter } from './limits/streams-per-client.ts';
import type { WebUi } from './ui/web-ui.ts';

/** What every route needs, built once at start-up. */
export interface RouteContext {
  readonly config: HeraldConfig;
  readonly hub: Hub;
  /** With `--subscriptions`: the active subscriptions of every node. */
  readonly presence: Presence | undefined;
  readonly verifier: TokenVerifier;
  readonly connections: ConnectionRegistry;
  readonly publishOrigins: ReadonlySet<string>;
  /** Open streams per client, when their number is limited. */
  readonly streamsPerClient: StreamCounter | undefined;
  /** Proxies whose X-Forwarded-For names the client; `undefined`: the header is ignored. */
  readonly trustedProxies: BlockList | undefined;
  /** Each publisher's token bucket, when publishing is rate-limited (the cluster's on Redis). */
  readonly publishRate: PublishRate | undefined;
  /** With subscription events on: subscription events per client address (presence-admission.ts). */
  readonly presenceRate: RateLimiter | undefined;
  /** True once shutdown has begun: new requests are refused so clients go elsewhere. */
  readonly closing: () => boolean;
  readonly metrics: HeraldMetrics;
  /** The text `/metrics` serves: this hub's registry, or all workers' figures combined. */
  readonly metricsExposition: () => Promise<string>;
  readonly logger: Logger;
  /** The browser build of herald/client, served at /herald-client.js. */
  readonly clientBundle: ClientBundle;
  /** The web UI, when switched on. */
  readonly ui: WebUi | undefined;
  /** How streams reach HTTP/1.1 sockets on this Node (node-http1.ts). */
  readonly http1: NodeHttp1;
  /** Resolves when the history backend answers; rejects when it cannot. */
  readonly probeBackend: () => Promise<void>;
}

/**
 * The publish rate limit: RateLimiter for one process, SharedRateLimiter for a cluster on a
 * shared store (whose `take` asks the store).
 */
export interface PublishRate {
  /** Whether `key` might spend `cost` now; spends nothing and never waits. */
  check(key: string, cost: number): RateDecision;
  take(key: string, cost: number): RateDecision | Promise<RateDecision>;
}
