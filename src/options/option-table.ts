import { JWT_ALGORITHMS } from './jwt-algorithms.ts';
import { PROTOCOL_SUPPORTS } from '../core/dialect.ts';
import { DEFAULT_REDIS_PREFIX, DEFAULT_SQLITE_PATH, store } from './store-value.ts';
import type { ValueKind } from './value-kinds.ts';
import {
  addresses,
  choice,
  duration,
  flag,
  integer,
  LONGEST_TIMER,
  opaque,
  origins,
  processCount,
  rate,
  text,
} from './value-kinds.ts';

/**
 * One option of Herald, declared once. From this table come the `herald serve` flags and their
 * parsing, its `--help`, the environment variables, the configuration file's keys, the checks
 * `startHerald()` makes (whatever the source), and the README's configuration table check.
 */
export interface OptionSpec {
  /** The flag without `--`; also the configuration file's key. */
  readonly flag: string;
  /** The environment variable: `HERALD_` and the flag in upper case, unless declared otherwise. */
  readonly variable: string;
  /** What the value is: how its text is read, its bounds, how its default is written. */
  readonly kind: ValueKind;
  /** One line (or a few sentences) for `--help`, which wraps it. */
  readonly help: string;
  /**
   * The `startHerald()` option it sets (`port`; `store.keyPrefix` inside the store), checked with
   * `kind` whatever gave it. Absent: a command-line matter (`--workers`), or a value that its own
   * module reads and checks by loading it (keys, certificates).
   */
  readonly path?: string | undefined;
  /**
   * `herald serve` computes the value at `path` from this option and others (a role's algorithm
   * falls back to `--jwt-alg`): its own module sets it, not the table's reader.
   */
  readonly derived?: boolean | undefined;
  /** The default in words, where it is not the value at `path` in `DEFAULTS` (or there is none). */
  readonly defaultText?: string | undefined;
  /** A command-line-only flag: not a configuration file key (`--config` itself). */
  readonly notInFile?: boolean | undefined;
}

/** The levels structured logs can be written at (`--log-level`). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** An option as declared: the variable may be left to its rule. */
export type DeclaredOption = Omit<OptionSpec, 'variable'> & { readonly variable?: string };

/** Completes a declaration: the variable is `HERALD_` and the flag in upper case unless given. */
export function option(declared: DeclaredOption): OptionSpec {
  return {
    ...declared,
    variable: declared.variable ?? `HERALD_${declared.flag.toUpperCase().replaceAll('-', '_')}`,
  };
}

/** The key, algorithm and claim options that `herald serve` and `herald token` share. */
export const SIGNING_OPTIONS: readonly OptionSpec[] = [
  option({
    flag: 'jwt-key',
    kind: opaque('<key>'),
    help: "key for publisher and subscriber tokens: the HMAC secret (HS*), or for RS*, PS*, ES* and EdDSA a public key as PEM text or a PEM file's path",
    defaultText: 'none: development mode',
  }),
  option({
    flag: 'publisher-jwt-key',
    kind: opaque('<key>'),
    help: 'key for publisher tokens only',
    defaultText: '--jwt-key',
  }),
  option({
    flag: 'subscriber-jwt-key',
    kind: opaque('<key>'),
    help: 'key for subscriber tokens only',
    defaultText: '--jwt-key',
  }),
  option({
    flag: 'jwks-url',
    kind: opaque('<url>'),
    help: 'verify with a JSON Web Key Set instead of a key (cached; fetched again for an unknown kid)',
  }),
  option({
    flag: 'publisher-jwks-url',
    kind: opaque('<url>'),
    help: 'JWKS for publisher tokens only',
    defaultText: '--jwks-url',
  }),
  option({
    flag: 'subscriber-jwks-url',
    kind: opaque('<url>'),
    help: 'JWKS for subscriber tokens only',
    defaultText: '--jwks-url',
  }),
  option({
    flag: 'jwt-alg',
    kind: choice(JWT_ALGORITHMS, '<alg>'),
    help: 'HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512 or EdDSA; tokens signed otherwise are refused',
    defaultText: 'HS256',
  }),
  option({
    flag: 'publisher-jwt-alg',
    kind: choice(JWT_ALGORITHMS, '<alg>'),
    help: 'algorithm of publisher tokens only',
    path: 'publisherJwtAlgorithm',
    derived: true,
    defaultText: '--jwt-alg',
  }),
  option({
    flag: 'subscriber-jwt-alg',
    kind: choice(JWT_ALGORITHMS, '<alg>'),
    help: 'algorithm of subscriber tokens only',
    path: 'subscriberJwtAlgorithm',
    derived: true,
    defaultText: '--jwt-alg',
  }),
  option({
    flag: 'jwt-issuer',
    kind: text({ placeholder: '<iss>' }),
    help: 'draft-07 tokens must carry this "iss"',
    path: 'jwtIssuer',
    defaultText: 'none: not checked',
  }),
  option({
    flag: 'jwt-audience',
    kind: text({ placeholder: '<aud>' }),
    help: 'draft-07 tokens must carry this "aud"',
    path: 'jwtAudience',
    defaultText: 'none: not checked',
  }),
];

/** The draft-08 access-token options of `herald serve`. */
export const ACCESS_TOKEN_OPTIONS: readonly OptionSpec[] = [
  option({
    flag: 'access-token-issuer',
    kind: text({ placeholder: '<iss>' }),
    help: 'the issuer whose draft-08 access tokens the keys above verify (neither this nor --jwt-issuer: only --trusted-issuer)',
    path: 'accessTokenIssuer',
    defaultText: '--jwt-issuer',
  }),
  option({
    flag: 'trusted-issuer',
    variable: 'HERALD_TRUSTED_ISSUERS',
    kind: opaque('<json>', 'json list'),
    help: 'another issuer of draft-08 access tokens and its key (repeatable), e.g. \'{"issuer":"https://auth.example","jwksUrl":"https://auth.example/jwks","algorithm":"RS256"}\'; also "key" (instead of "jwksUrl"), "roles" (["publisher","subscriber"]), "authorizationServer" (true: listed in the metadata); the variable holds a JSON object or array',
  }),
  option({
    flag: 'resource-identifier',
    kind: text({
      placeholder: '<uri>',
      valid: (value) => value !== '' && !/[\s"\\]/.test(value),
      problem: ({ name }) => `${name} must be a URI without spaces or quotes.`,
    }),
    help: 'the "aud" draft-08 access tokens must hold',
    path: 'resourceIdentifier',
    defaultText: 'the hub URL the request reached',
  }),
  option({
    flag: 'access-token-cookie',
    kind: text({
      placeholder: '<name>',
      // RFC 6265 token characters: what a cookie name may hold.
      valid: (value) => /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value),
      problem: ({ name, written }) => `${name} is not a valid cookie name; got ${written}.`,
    }),
    help: 'cookie carrying draft-08 access tokens; prefix-less for plain HTTP',
    path: 'accessTokenCookie',
  }),
  option({
    flag: 'no-query-token',
    kind: flag(),
    help: "refuse draft-07's authorization query parameter (never accepted in a draft-08 request)",
    defaultText: 'off',
  }),
];

/** Every `herald serve` option, in `--help` order. */
export const SERVE_OPTIONS: readonly OptionSpec[] = [
  option({
    flag: 'config',
    kind: opaque('<file>'),
    help: 'a YAML file whose keys are these flags without "--" (port: 3000); flags and variables win over it',
    notInFile: true,
  }),
  option({
    flag: 'port',
    kind: integer({ min: 0, max: 65_535 }),
    help: 'TCP port, 0 for any free one',
    path: 'port',
  }),
  option({
    flag: 'host',
    kind: text({ placeholder: '<addr>' }),
    help: 'address to listen on',
    path: 'host',
  }),
  option({
    flag: 'tls-cert',
    kind: opaque('<file>'),
    help: 'serve HTTPS (HTTP/2 and HTTP/1.1) with this PEM certificate (chain)',
    defaultText: 'none: plain HTTP',
  }),
  option({
    flag: 'tls-key',
    kind: opaque('<file>'),
    help: "the certificate's PEM private key (unencrypted)",
  }),
  ...SIGNING_OPTIONS,
  ...ACCESS_TOKEN_OPTIONS,
  option({
    flag: 'jwt-clock-tolerance',
    kind: duration({ max: '1h' }),
    help: 'clock skew allowed on exp and nbf',
    path: 'jwtClockToleranceMs',
  }),
  option({
    flag: 'anonymous',
    kind: flag(),
    help: 'let subscribers without a token see public updates',
    path: 'anonymous',
    defaultText: 'off; on in development mode',
  }),
  option({
    flag: 'cors-origin',
    variable: 'HERALD_CORS_ORIGINS',
    kind: origins(),
    help: 'allow a browser origin (repeatable)',
    path: 'corsOrigins',
  }),
  option({
    flag: 'publish-origin',
    variable: 'HERALD_PUBLISH_ORIGINS',
    kind: origins(),
    help: 'allow cookie publishes from an origin (repeatable)',
    path: 'publishOrigins',
    defaultText: 'the CORS origins',
  }),
  option({
    flag: 'heartbeat',
    kind: duration({ max: LONGEST_TIMER, zeroMeansNone: true }),
    help: 'keep-alive comment interval, e.g. 20s, 0 for none',
    path: 'heartbeatMs',
  }),
  option({
    flag: 'store',
    kind: store(),
    help: `sqlite:<file>, sqlite (= sqlite:${DEFAULT_SQLITE_PATH}), memory, or redis://[user:pass@]host:port[/db] (rediss:// for TLS), or redis+sentinel://[user:pass@]host:port,host:port/mymaster[?db=N] (rediss+sentinel:// for TLS): the master the Sentinels name, or redis+cluster://[user:pass@]host:port,host:port (rediss+cluster:// for TLS): a Redis Cluster`,
    path: 'store',
  }),
  option({
    flag: 'redis-prefix',
    kind: text({
      placeholder: '<prefix>',
      valid: (value) => value !== '' && !/[\s*?[\]]/.test(value),
      problem: ({ name, written }) =>
        `${name} must be a non-empty key prefix without spaces or glob characters (* ? [ ]); got ${written}.`,
    }),
    help: 'key prefix in Redis; hubs sharing it share history',
    path: 'store.keyPrefix',
    derived: true,
    defaultText: DEFAULT_REDIS_PREFIX,
  }),
  option({
    flag: 'redis-min-replicas',
    kind: integer({ min: 0, max: 100 }),
    help: 'acknowledge a publish only once n Redis replicas have it (WAIT), else 503',
    path: 'store.minReplicas',
    derived: true,
    defaultText: '0',
  }),
  option({
    flag: 'redis-min-replicas-timeout',
    // WAIT with 0 waits forever: a publish must always get an answer.
    kind: duration({ min: '1ms', max: '60s' }),
    help: 'how long a publish waits for them',
    path: 'store.minReplicasTimeoutMs',
    derived: true,
    defaultText: '1s',
  }),
  option({
    flag: 'history-size',
    kind: integer({ min: 0, max: 10_000_000 }),
    help: 'updates kept for resuming clients',
    path: 'historySize',
  }),
  option({
    flag: 'history-max-age',
    kind: duration({ zeroMeansNone: true }),
    help: 'age past which history is trimmed (sqlite, redis), 0 for none',
    path: 'historyMaxAgeMs',
  }),
  option({
    flag: 'max-body-size',
    kind: integer({ min: 1, max: 1 << 30, placeholder: '<bytes>' }),
    help: 'largest publish body (413 past it)',
    path: 'maxBodyBytes',
  }),
  option({
    flag: 'max-unsent-bytes',
    kind: integer({ min: 1024, max: 1 << 30, placeholder: '<bytes>' }),
    help: 'queue past which a slow stream is dropped',
    path: 'maxUnsentBytes',
  }),
  option({
    flag: 'max-unsent-bytes-total',
    kind: integer({ min: 1024, max: Number.MAX_SAFE_INTEGER, placeholder: '<bytes>' }),
    help: "all streams' queues together; past it the streams not reading are dropped",
    path: 'maxUnsentBytesTotal',
  }),
  option({
    flag: 'max-concurrent-replays',
    kind: integer({ min: 1, max: 100_000 }),
    help: 'history replays at once; more wait their turn',
    path: 'maxConcurrentReplays',
  }),
  option({
    flag: 'max-header-size',
    kind: integer({ min: 1024, max: 1 << 20, placeholder: '<bytes>' }),
    help: 'largest request head (431 past it)',
    path: 'maxHeaderBytes',
  }),
  option({
    flag: 'headers-timeout',
    kind: duration({ min: '1ms' }),
    help: 'time to send the headers (408 past it)',
    path: 'headersTimeoutMs',
  }),
  option({
    flag: 'request-timeout',
    kind: duration({ zeroMeansNone: true }),
    help: 'time to send a whole request, 0 for none',
    path: 'requestTimeoutMs',
  }),
  option({
    flag: 'max-streams-per-client',
    kind: integer({ min: 0, max: 10_000_000, zeroMeansNone: true }),
    help: 'open streams per client IP (IPv6: per /64), 0 for no limit',
    path: 'maxStreamsPerClient',
  }),
  option({
    flag: 'trust-proxy',
    variable: 'HERALD_TRUST_PROXY',
    kind: addresses(),
    help: 'a proxy (address or CIDR) whose X-Forwarded-For names the client (repeatable)',
    path: 'trustedProxies',
  }),
  option({
    flag: 'publish-rate',
    kind: rate(10_000_000),
    help: 'updates per second per publisher, 0 for no limit',
    path: 'publishRate',
  }),
  option({
    flag: 'publish-burst',
    kind: integer({ min: 1, max: 10_000_000 }),
    help: 'updates a publisher may send at once',
    path: 'publishBurst',
  }),
  option({
    flag: 'presence-rate',
    kind: rate(10_000_000),
    help: 'subscription events per second per client address (with --subscriptions), 0 for no limit',
    path: 'presenceRate',
  }),
  option({
    flag: 'presence-burst',
    kind: integer({ min: 1, max: 10_000_000 }),
    help: 'subscription events a client may cause at once',
    path: 'presenceBurst',
  }),
  option({
    flag: 'presence-lease',
    kind: duration({ min: '1s', max: '1h' }),
    help: "with --subscriptions on Redis: a node's lease; a dead node's subscriptions end once it expires",
    path: 'presenceLeaseMs',
  }),
  option({
    flag: 'ui',
    kind: flag(),
    help: 'serve the web UI (debugger, dashboard) at /ui/',
    path: 'ui',
    defaultText: 'off; on in development mode',
  }),
  option({
    flag: 'subscriptions',
    kind: flag(),
    help: 'subscription events and API (presence)',
    path: 'subscriptions',
  }),
  option({
    flag: 'refuse-duplicate-ids',
    kind: flag(),
    help: '409 for an id already in history (idempotent retries)',
    path: 'refuseDuplicateIds',
  }),
  option({
    flag: 'node-http-only',
    kind: flag(),
    help: 'serve every HTTP/1.1 request through node:http, none by the stream door (more CPU and memory per stream)',
    path: 'nodeHttpOnly',
  }),
  option({
    flag: 'protocol',
    kind: choice(PROTOCOL_SUPPORTS, '<07|08|both>', '07, 08 or both'),
    help: 'Mercure dialects served: draft-07, draft-08 (Mercure 1.0) or both',
    path: 'protocol',
  }),
  option({
    flag: 'log-level',
    kind: choice(LOG_LEVELS, '<level>'),
    help: 'fatal, error, warn, info, debug, trace or silent',
    defaultText: 'info',
  }),
  option({
    flag: 'workers',
    kind: processCount(1024),
    help: 'processes sharing the port (auto: one per CPU); above 1 needs a shared store (--store redis://…)',
    defaultText: '1',
  }),
];

/**
 * The `startHerald()` options that no flag sets, with their bounds: `checkConfig` holds an
 * embedder to them as to the others.
 */
export const EMBEDDER_OPTIONS: readonly { readonly path: string; readonly kind: ValueKind }[] = [
  { path: 'maxTopicsPerUpdate', kind: integer({ min: 1, max: 100_000 }) },
  { path: 'maxUpdatesPerPublish', kind: integer({ min: 1, max: 1_000_000 }) },
  { path: 'maxSelectorsPerSubscription', kind: integer({ min: 1, max: 100_000 }) },
  { path: 'shutdownTimeoutMs', kind: duration({ max: LONGEST_TIMER }) },
  { path: 'jwksCooldownMs', kind: duration({ max: LONGEST_TIMER }) },
];
