import type { JwtAlgorithm } from './options/jwt-algorithms.ts';
import type { ProtocolSupport } from './core/dialect.ts';
import { checkConfig } from './options/check-config.ts';
import { DEFAULT_SQLITE_PATH } from './options/store-value.ts';

/**
 * Herald's configuration: typed once, defaulted once. The CLI fills it from flags and
 * environment variables; embedders pass it to `startHerald()`. `null` switches a feature off.
 */
export interface HeraldConfig {
  /** TCP port; `0` picks a free one. */
  readonly port: number;
  readonly host: string;
  /**
   * Serve HTTPS, with HTTP/2 and HTTP/1.1 negotiated by ALPN, from this certificate and key;
   * `null` (the default) serves plain HTTP, for a hub behind a TLS-terminating proxy.
   */
  readonly tls: TlsConfig | null;
  /** Key that verifies publisher tokens. */
  readonly publisherJwtKey: JwtKeySource;
  /** Key that verifies subscriber tokens. */
  readonly subscriberJwtKey: JwtKeySource;
  /** The one algorithm publisher tokens must be signed with; every other one is refused. */
  readonly publisherJwtAlgorithm: JwtAlgorithm;
  /** The one algorithm subscriber tokens must be signed with; every other one is refused. */
  readonly subscriberJwtAlgorithm: JwtAlgorithm;
  /** The `iss` every draft-07 token must carry; `null`: not checked. */
  readonly jwtIssuer: string | null;
  /**
   * The issuer of draft-08 access tokens the keys above verify (a token is verified only with
   * the keys of the issuer its `iss` names); `null`: `jwtIssuer`; both `null`: those keys verify
   * no access token, only `trustedIssuers` do.
   */
  readonly accessTokenIssuer: string | null;
  /** An `aud` every draft-07 token must carry; `null`: not checked. */
  readonly jwtAudience: string | null;
  /**
   * More issuers of draft-08 access tokens, each with its own key: a token is verified only with
   * the keys of the issuer its `iss` names.
   */
  readonly trustedIssuers: readonly TrustedIssuer[];
  /**
   * The hub's OAuth resource identifier, which every draft-08 access token's `aud` must hold;
   * `null`: the hub's URL as the request reached it (`http(s)://<Host>/.well-known/mercure`).
   */
  readonly resourceIdentifier: string | null;
  /** The cookie that may carry a draft-08 access token (prefix-less for plain-HTTP development). */
  readonly accessTokenCookie: string;
  /**
   * Whether draft-07 requests may carry their token in the `authorization` query parameter;
   * draft-08 requests never may.
   */
  readonly queryToken: boolean;
  /**
   * Clock skew allowed when checking a token's `exp` and `nbf`, in milliseconds. A stream whose
   * token was accepted within it ends that much after `exp`, so it is not closed at once.
   */
  readonly jwtClockToleranceMs: number;
  /**
   * After fetching a JWKS, how long a token naming an unknown `kid` is refused before the set is
   * fetched again (so tokens with made-up `kid`s cannot flood the key server).
   */
  readonly jwksCooldownMs: number;
  /** Whether subscribers without a token may subscribe (public updates only). */
  readonly anonymous: boolean;
  /** Origins allowed to call the hub from a browser (CORS, with credentials). */
  readonly corsOrigins: readonly string[];
  /** Origins allowed to publish with a cookie token (CSRF protection); defaults to `corsOrigins`. */
  readonly publishOrigins: readonly string[];
  /** Name of the cookie that may carry a draft-07 token. */
  readonly cookieName: string;
  /** Interval of the keep-alive comment on idle streams; `null` sends none. */
  readonly heartbeatMs: number | null;
  /** Where history is kept. */
  readonly store: StoreConfig;
  /** Updates kept in history for resuming clients; the oldest are trimmed first. */
  readonly historySize: number;
  /** Age past which history is trimmed, in milliseconds (durable stores); `null`: no age limit. */
  readonly historyMaxAgeMs: number | null;
  /** Largest publish body accepted; larger ones get 413. */
  readonly maxBodyBytes: number;
  /** Largest request head (request line and headers) accepted; larger ones get 431. */
  readonly maxHeaderBytes: number;
  /** Time a client has to send its request headers before it gets 408 and is disconnected. */
  readonly headersTimeoutMs: number;
  /** Time a client has to send its whole request, body included; `null`: no limit. */
  readonly requestTimeoutMs: number | null;
  /**
   * Event streams one client may hold open at once (a client: an IPv4 address, or an IPv6 /64);
   * more get 429. `null`: no limit.
   */
  readonly maxStreamsPerClient: number | null;
  /**
   * Proxies, as addresses or CIDR ranges, whose `X-Forwarded-For` header names the client. Empty:
   * the header is ignored and the client is the socket's peer.
   */
  readonly trustedProxies: readonly string[];
  /** Updates per second one publisher (a token's `sub`, else the token) may sustain; `null`: no limit. */
  readonly publishRate: number | null;
  /** Updates one publisher may send at once before the rate applies (the token bucket's size). */
  readonly publishBurst: number;
  /**
   * With `subscriptions`: subscription events per second one client address may cause (each
   * selector's start and end count one each); `null`: no limit.
   */
  readonly presenceRate: number | null;
  /** Subscription events one client address may cause at once before the rate applies. */
  readonly presenceBurst: number;
  /**
   * With `subscriptions` on a store shared by several nodes (Redis): each node's lease, renewed
   * every third of it. When a node dies, the nodes that remain end its subscriptions once its
   * lease has expired: at most this long (plus a second) after its last renewal. It must exceed
   * the longest pause a live node may take (a stalled event loop, a Redis outage), or the
   * others end that node's subscriptions, which it then announces again.
   */
  readonly presenceLeaseMs: number;
  readonly maxTopicsPerUpdate: number;
  readonly maxUpdatesPerPublish: number;
  readonly maxSelectorsPerSubscription: number;
  /** Unsent bytes one stream may queue before it counts as a slow consumer and is dropped. */
  readonly maxUnsentBytes: number;
  /**
   * Unsent bytes all streams of the process may queue together. Past it, the streams holding the
   * most are dropped as slow consumers until the total is back under it; they resume with
   * Last-Event-ID.
   */
  readonly maxUnsentBytesTotal: number;
  /**
   * History replays (clients resuming with Last-Event-ID) that may run at once; more wait in
   * arrival order, their response head held back until a replay slot is free.
   */
  readonly maxConcurrentReplays: number;
  /** How long shutdown waits for in-flight requests before cutting connections. */
  readonly shutdownTimeoutMs: number;
  /** Serve the web UI (debugger and dashboard) at /ui/; off by default, on in development mode. */
  readonly ui: boolean;
  /**
   * Set by `herald serve` in development mode only: the publisher token it printed, which the
   * web UI's debugger pre-fills for a browser on the same machine. `null` (the default and the
   * only value outside development mode): no token is ever served.
   */
  readonly developmentPublisherToken: string | null;
  /**
   * Mercure's active subscriptions: subscription events (private updates on
   * `/.well-known/mercure/subscriptions/{topic}/{subscriber}`) and the subscription API. Off by
   * default: the events reveal who subscribes to what, to holders of the right tokens.
   */
  readonly subscriptions: boolean;
  /**
   * Refuse a publish whose id is already in history (409 HERALD_ERR_DUPLICATE_ID), so that a
   * publisher can retry with the same id without storing it twice. Off by default: like the
   * reference hub, an id may be used again, and resuming from it starts after its newest use.
   */
  readonly refuseDuplicateIds: boolean;
  /**
   * Every HTTP/1.1 request through node:http, none served by the stream door (docs/architecture.md):
   * an operator's way back should the door misread some client or proxy. Streams then cost what
   * they cost through node:http (BENCHMARKS.md, "Connection cost").
   */
  readonly nodeHttpOnly: boolean;
  /**
   * The Mercure dialects served: `both` (the default) speaks draft-07 and draft-08 side by side,
   * each request in the dialect of its shape; `07` or `08` refuses requests of the other one.
   */
  readonly protocol: ProtocolSupport;
}

export { DEFAULT_REDIS_PREFIX, DEFAULT_SQLITE_PATH } from './options/store-value.ts';
export { JWT_ALGORITHMS } from './options/jwt-algorithms.ts';
export type { JwtAlgorithm } from './options/jwt-algorithms.ts';

/**
 * Where the key that verifies one role's tokens comes from:
 * - a string: for HS256/384/512 the HMAC secret itself; for RS, PS, ES and EdDSA a public key
 *   (SPKI, X.509 certificate, or a private key whose public half is used) as PEM text, or the
 *   path of a PEM file;
 * - `{ jwksUrl }`: a JSON Web Key Set fetched over HTTP(S), cached, and fetched again when a
 *   token names a `kid` it does not hold (key rotation without a restart).
 */
export type JwtKeySource = string | { readonly jwksUrl: string };

/** A trusted issuer of draft-08 access tokens and one of its keys. */
export interface TrustedIssuer {
  /** The exact `iss` of its tokens. */
  readonly issuer: string;
  readonly key: JwtKeySource;
  readonly algorithm: JwtAlgorithm;
  /** Which tokens the key verifies; absent: both publisher and subscriber tokens. */
  readonly roles?: readonly ('publisher' | 'subscriber')[] | undefined;
  /**
   * An OAuth authorization server (RFC 8414 issuer) rather than a self-issuing publisher: listed
   * in the protected resource metadata's `authorization_servers`.
   */
  readonly authorizationServer?: boolean | undefined;
}

/**
 * `sqlite` (the default) keeps history in an embedded file that survives restarts and crashes;
 * `memory` keeps it in the process, for development and ephemeral hubs; `redis` keeps it in a
 * Redis Stream that several Herald nodes share (each delivers every node's updates).
 */
export type StoreConfig =
  | { readonly kind: 'memory' }
  | { readonly kind: 'sqlite'; readonly path: string }
  | {
      readonly kind: 'redis';
      /**
       * `redis://[user:pass@]host:port[/db]`, or `rediss://` for TLS; or
       * `redis+sentinel://[user:pass@]host:port,host:port/mymaster[?db=N]` (`rediss+sentinel://`
       * for TLS): the master the Sentinels name, followed through failovers; or
       * `redis+cluster://[user:pass@]host:port,host:port` (`rediss+cluster://`): a Redis Cluster.
       */
      readonly url: string;
      /**
       * Every key starts with it: hubs that share a prefix share history. On a cluster it is
       * put in braces (`{herald:}`) unless it holds a hash tag: one hub's keys share a slot.
       */
      readonly keyPrefix: string;
      /**
       * A publish is acknowledged only once this many replicas hold it (Redis `WAIT`), else
       * 503 HERALD_ERR_BACKEND_UNAVAILABLE. 0 (the default): once the master stored it.
       */
      readonly minReplicas?: number | undefined;
      /** How long a publish waits for `minReplicas` replicas (default 1 s). */
      readonly minReplicasTimeoutMs?: number | undefined;
    };

/**
 * A certificate and its private key. Each is PEM text (it starts with `-----BEGIN`) or the path
 * of a PEM file, read once at start-up. `cert` may hold the whole chain, leaf first. The key
 * must not be encrypted.
 */
export interface TlsConfig {
  readonly cert: string;
  readonly key: string;
}

export const DEFAULTS = Object.freeze({
  port: 3000,
  host: '0.0.0.0',
  tls: null,
  publisherJwtAlgorithm: 'HS256',
  subscriberJwtAlgorithm: 'HS256',
  jwtIssuer: null,
  jwtAudience: null,
  accessTokenIssuer: null,
  trustedIssuers: [],
  resourceIdentifier: null,
  accessTokenCookie: '__Secure-mercure_access_token',
  queryToken: true,
  jwtClockToleranceMs: 0,
  jwksCooldownMs: 30_000,
  anonymous: false,
  corsOrigins: [],
  cookieName: 'mercureAuthorization',
  heartbeatMs: 20_000,
  store: Object.freeze({ kind: 'sqlite', path: DEFAULT_SQLITE_PATH }),
  historySize: 100_000,
  historyMaxAgeMs: 7 * 24 * 60 * 60 * 1000,
  maxBodyBytes: 1024 * 1024,
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  maxStreamsPerClient: 1000,
  trustedProxies: [],
  publishRate: 1000,
  publishBurst: 2000,
  presenceRate: 100,
  presenceBurst: 1000,
  presenceLeaseMs: 15_000,
  maxTopicsPerUpdate: 64,
  maxUpdatesPerPublish: 1000,
  maxSelectorsPerSubscription: 64,
  maxUnsentBytes: 1024 * 1024,
  maxUnsentBytesTotal: 256 * 1024 * 1024,
  maxConcurrentReplays: 32,
  shutdownTimeoutMs: 5_000,
  ui: false,
  developmentPublisherToken: null,
  subscriptions: false,
  refuseDuplicateIds: false,
  nodeHttpOnly: false,
  protocol: 'both',
} as const satisfies Partial<HeraldConfig>);

/** The options a caller must choose: the keys. Everything else has a default (`undefined` = it). */
export type HeraldOptions = {
  readonly [K in keyof HeraldConfig]?: HeraldConfig[K] | undefined;
} & Pick<HeraldConfig, 'publisherJwtKey' | 'subscriberJwtKey'> & {
    /** Both roles' algorithm at once; `publisherJwtAlgorithm`/`subscriberJwtAlgorithm` win. */
    readonly jwtAlgorithm?: JwtAlgorithm | undefined;
  };

/**
 * The configuration `startHerald()` runs with: the options given, defaults for the others,
 * checked against every option's bounds (the same check `herald serve` makes).
 *
 * @throws ConfigError naming the option at fault and the value given
 */
export function resolveConfig(options: HeraldOptions): HeraldConfig {
  const config = withDefaults(options);
  checkConfig(config);
  return config;
}

/** The options given and defaults for the others, not checked: `resolveConfig` checks them. */
export function withDefaults(options: HeraldOptions): HeraldConfig {
  const { jwtAlgorithm, ...rest } = options;
  const corsOrigins = rest.corsOrigins ?? DEFAULTS.corsOrigins;
  const algorithm = jwtAlgorithm ?? DEFAULTS.publisherJwtAlgorithm;
  return {
    ...DEFAULTS,
    corsOrigins,
    publishOrigins: corsOrigins,
    publisherJwtAlgorithm: algorithm,
    subscriberJwtAlgorithm: algorithm,
    ...stripUndefined(rest),
    publisherJwtKey: rest.publisherJwtKey,
    subscriberJwtKey: rest.subscriberJwtKey,
  };
}

function stripUndefined(options: object): Partial<HeraldConfig> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}
