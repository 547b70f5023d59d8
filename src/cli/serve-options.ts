import { availableParallelism } from 'node:os';
import type { HeraldOptions, StoreConfig } from '../config.ts';
import { DEFAULT_REDIS_PREFIX, DEFAULT_SQLITE_PATH, DEFAULTS } from '../config.ts';
import { PROTOCOL_SUPPORTS } from '../core/dialect.ts';
import type { ProtocolSupport } from '../core/dialect.ts';
import { checkRedisUrl, redactRedisUrl } from '../backends/redis-url.ts';
import { trustedProxySet } from '../http/request/client-address.ts';
import {
  checkVerificationKey,
  JWT_FLAGS,
  JWT_HELP,
  parseAccessTokenOptions,
  parseJwtOptions,
} from './jwt-options.ts';
import { readConfigFile } from './config-file.ts';
import type { DevelopmentKey } from './development-key.ts';
import { listPicker, OptionError, optionPicker, parseFlags } from './option-reading.ts';
import type { PickList, PickOption } from './option-reading.ts';
import { parseTlsOptions, TLS_FLAGS, TLS_HELP } from './tls-options.ts';

export { OptionError } from './option-reading.ts';

export interface ServeOptions {
  readonly herald: HeraldOptions;
  /** True when no key was configured and one was generated: development mode. */
  readonly development: boolean;
  /** The configuration file read (`--config`/`HERALD_CONFIG`), as given; none: `undefined`. */
  readonly configFile: string | undefined;
  /**
   * Development mode's key and where it is kept: set by `prepareDevelopmentMode` (serve.ts),
   * which replaces the key generated here with the one the data directory keeps.
   */
  readonly developmentKey?: DevelopmentKey | undefined;
  /** The level structured logs are written at. */
  readonly logLevel: LogLevel;
  /** Processes serving the port: 1 serves in this process, more fork workers (node:cluster). */
  readonly workers: number;
}

/**
 * Every `herald serve` flag; the README's configuration table is checked against these, and a
 * configuration file's keys are these names without `--` (all but `config` and `help`).
 */
export const SERVE_FLAGS = {
  config: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  ...TLS_FLAGS,
  ...JWT_FLAGS,
  'jwt-clock-tolerance': { type: 'string' },
  anonymous: { type: 'boolean' },
  'cors-origin': { type: 'string', multiple: true },
  'publish-origin': { type: 'string', multiple: true },
  heartbeat: { type: 'string' },
  'history-size': { type: 'string' },
  'history-max-age': { type: 'string' },
  store: { type: 'string' },
  'redis-prefix': { type: 'string' },
  'redis-min-replicas': { type: 'string' },
  'redis-min-replicas-timeout': { type: 'string' },
  'max-body-size': { type: 'string' },
  'max-unsent-bytes': { type: 'string' },
  'max-unsent-bytes-total': { type: 'string' },
  'max-concurrent-replays': { type: 'string' },
  'max-header-size': { type: 'string' },
  'headers-timeout': { type: 'string' },
  'request-timeout': { type: 'string' },
  'max-streams-per-client': { type: 'string' },
  'trust-proxy': { type: 'string', multiple: true },
  'publish-rate': { type: 'string' },
  'publish-burst': { type: 'string' },
  'presence-rate': { type: 'string' },
  'presence-burst': { type: 'string' },
  ui: { type: 'boolean' },
  subscriptions: { type: 'boolean' },
  'refuse-duplicate-ids': { type: 'boolean' },
  protocol: { type: 'string' },
  'log-level': { type: 'string' },
  workers: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const SERVE_HELP = `Usage: herald serve [options]

Options (each also read from the environment variable shown, then from the --config file):
  --config <file>            a YAML file whose keys are these flags without "--"
                             (port: 3000); flags and variables win over it   HERALD_CONFIG
  --port <n>                 TCP port, 0 for any free one          HERALD_PORT (3000)
  --host <addr>              address to listen on                  HERALD_HOST (0.0.0.0)
${TLS_HELP}
${JWT_HELP}
  --jwt-clock-tolerance <dur> clock skew allowed on exp and nbf    HERALD_JWT_CLOCK_TOLERANCE (0)
  --anonymous                let subscribers without a token see public updates   HERALD_ANONYMOUS
  --cors-origin <origin>     allow a browser origin (repeatable)   HERALD_CORS_ORIGINS (comma list)
  --publish-origin <origin>  allow cookie publishes from an origin (repeatable; default: the CORS origins)
                                                                   HERALD_PUBLISH_ORIGINS
  --heartbeat <duration>     keep-alive comment interval, e.g. 20s, 0 for none   HERALD_HEARTBEAT (20s)
  --store <store>            sqlite:<file>, sqlite (= sqlite:${DEFAULT_SQLITE_PATH}), memory,
                             or redis://[user:pass@]host:port[/db] (rediss:// for TLS),
                             or redis+sentinel://[user:pass@]host:port,host:port/mymaster[?db=N]
                             (rediss+sentinel:// for TLS): the master the Sentinels name
                                                                   HERALD_STORE (sqlite)
  --redis-prefix <prefix>    key prefix in Redis; hubs sharing it share history
                                                                   HERALD_REDIS_PREFIX (${DEFAULT_REDIS_PREFIX})
  --redis-min-replicas <n>   acknowledge a publish only once n Redis replicas have it (WAIT),
                             else 503                              HERALD_REDIS_MIN_REPLICAS (0)
  --redis-min-replicas-timeout <dur>  how long a publish waits for them
                                                                   HERALD_REDIS_MIN_REPLICAS_TIMEOUT (1s)
  --history-size <n>         updates kept for resuming clients     HERALD_HISTORY_SIZE (100000)
  --history-max-age <dur>    age past which history is trimmed (sqlite, redis), 0 for none
                                                                   HERALD_HISTORY_MAX_AGE (7d)
  --max-body-size <bytes>    largest publish body (413 past it)    HERALD_MAX_BODY_SIZE (1048576)
  --max-unsent-bytes <bytes> queue past which a slow stream is dropped   HERALD_MAX_UNSENT_BYTES (1048576)
  --max-unsent-bytes-total <bytes>  all streams' queues together; past it the largest are dropped
                                                                   HERALD_MAX_UNSENT_BYTES_TOTAL (268435456)
  --max-concurrent-replays <n>  history replays at once; more wait their turn
                                                                   HERALD_MAX_CONCURRENT_REPLAYS (32)
  --max-header-size <bytes>  largest request head (431 past it)    HERALD_MAX_HEADER_SIZE (16384)
  --headers-timeout <dur>    time to send the headers (408 past it)   HERALD_HEADERS_TIMEOUT (10s)
  --request-timeout <dur>    time to send a whole request, 0 for none   HERALD_REQUEST_TIMEOUT (60s)
  --max-streams-per-client <n>  open streams per client IP (IPv6: per /64), 0 for no limit
                                                                   HERALD_MAX_STREAMS_PER_CLIENT (1000)
  --trust-proxy <addr>       a proxy (address or CIDR) whose X-Forwarded-For names the client
                             (repeatable)                          HERALD_TRUST_PROXY (comma list)
  --publish-rate <n>         updates per second per publisher, 0 for no limit   HERALD_PUBLISH_RATE (1000)
  --publish-burst <n>        updates a publisher may send at once  HERALD_PUBLISH_BURST (2000)
  --presence-rate <n>        subscription events per second per client address (with
                             --subscriptions), 0 for no limit      HERALD_PRESENCE_RATE (100)
  --presence-burst <n>       subscription events a client may cause at once   HERALD_PRESENCE_BURST (1000)
  --ui                       serve the web UI (debugger, dashboard) at /ui/   HERALD_UI (off; on in development mode)
  --subscriptions            subscription events and API (presence)   HERALD_SUBSCRIPTIONS (off)
  --refuse-duplicate-ids     409 for an id already in history (idempotent retries)
                                                                   HERALD_REFUSE_DUPLICATE_IDS (off)
  --protocol <07|08|both>    Mercure dialects served: draft-07, draft-08 (Mercure 1.0) or both
                                                                   HERALD_PROTOCOL (both)
  --log-level <level>        fatal, error, warn, info, debug, trace or silent   HERALD_LOG_LEVEL (info)
  --workers <n|auto>         processes sharing the port (auto: one per CPU); above 1 needs a
                             shared store (--store redis://…)     HERALD_WORKERS (1)

With no key configured, Herald starts in development mode: it generates a key, prints a
publisher token, lets anonymous subscribers in and serves the web UI.`;

/** Development mode's access-token issuer and resource identifier, unless others are set. */
export const DEVELOPMENT_TOKEN_IDENTITY = 'urn:herald:development';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

type Env = Readonly<Record<string, string | undefined>>;

/** The flags a configuration file cannot set. */
const NOT_IN_FILE = ['config', 'help'];

/**
 * Reads `herald serve` flags, then the environment, then the configuration file
 * (`--config`/`HERALD_CONFIG`) into Herald's options: flag > variable > file > default.
 */
export function parseServeOptions(argv: readonly string[], env: Env): ServeOptions | 'help' {
  const values = parseFlags(argv, SERVE_FLAGS);
  if (values.help === true) return 'help';

  const configPath = values.config ?? (env['HERALD_CONFIG'] || undefined);
  const file =
    configPath === undefined ? undefined : readConfigFile(configPath, SERVE_FLAGS, NOT_IN_FILE);
  const pick = optionPicker(values, env, file);
  const pickList = listPicker(values, env, file);

  const jwt = parseJwtOptions(pick);
  const accessTokens = parseAccessTokenOptions(pick, pickList);
  const publisherKey = jwt.publisher.key;
  const subscriberKey = jwt.subscriber.key;
  if ((publisherKey === undefined) !== (subscriberKey === undefined)) {
    throw new OptionError(
      publisherKey === undefined
        ? '--publisher-jwt-key (or --jwt-key, or a JWKS URL) is required when --subscriber-jwt-key is set.'
        : '--subscriber-jwt-key (or --jwt-key, or a JWKS URL) is required when --publisher-jwt-key is set.',
    );
  }
  const development = publisherKey === undefined;
  for (const role of [jwt.publisher, jwt.subscriber]) {
    if (development && role.algorithm !== undefined && !role.algorithm.value.startsWith('HS')) {
      throw new OptionError(
        `${role.algorithm.name} is ${role.algorithm.value}, which needs a key: set --jwt-key (a PEM key or file) or --jwks-url.`,
      );
    }
    checkVerificationKey(role);
  }

  const tls = parseTlsOptions(pick);
  const port = optional(pick('port', 'HERALD_PORT'), (v, name) => integer(v, name, 0, 65_535));
  const heartbeat = optional(pick('heartbeat', 'HERALD_HEARTBEAT'), duration);
  const store = withRedisOptions(optional(pick('store', 'HERALD_STORE'), parseStore), pick);
  const maxAge = optional(pick('history-max-age', 'HERALD_HISTORY_MAX_AGE'), duration);
  const limits = parseLimits(pick, pickList);
  const corsOrigins = origins(pickList('cors-origin', 'HERALD_CORS_ORIGINS'));
  const publishOrigins = origins(pickList('publish-origin', 'HERALD_PUBLISH_ORIGINS'));
  // A boolean flag's presence is `true`; a variable or file value is parsed.
  const anonymous = optional(pick('anonymous', 'HERALD_ANONYMOUS'), boolean);
  const ui = optional(pick('ui', 'HERALD_UI'), boolean);
  const subscriptions = optional(pick('subscriptions', 'HERALD_SUBSCRIPTIONS'), boolean);
  const refuseDuplicateIds = optional(
    pick('refuse-duplicate-ids', 'HERALD_REFUSE_DUPLICATE_IDS'),
    boolean,
  );
  const protocol = optional(pick('protocol', 'HERALD_PROTOCOL'), (v, name): ProtocolSupport => {
    if (!(PROTOCOL_SUPPORTS as readonly string[]).includes(v)) {
      throw new OptionError(`${name} must be 07, 08 or both; got "${v}".`);
    }
    return v as ProtocolSupport;
  });
  const logLevel = optional(pick('log-level', 'HERALD_LOG_LEVEL'), (v, name): LogLevel => {
    if (!(LOG_LEVELS as readonly string[]).includes(v)) {
      throw new OptionError(`${name} must be one of ${LOG_LEVELS.join(', ')}; got "${v}".`);
    }
    return v as LogLevel;
  });

  const workers = optional(pick('workers', 'HERALD_WORKERS'), parseWorkers) ?? ONE_WORKER;
  if (workers.count > 1) refuseUnsharedStore(workers, store);

  const generatedKey = development ? randomKey() : undefined;
  return {
    development,
    configFile: file?.path,
    logLevel: logLevel ?? 'info',
    workers: workers.count,
    herald: {
      publisherJwtKey: publisherKey?.source ?? generatedKey ?? '',
      subscriberJwtKey: subscriberKey?.source ?? generatedKey ?? '',
      publisherJwtAlgorithm: jwt.publisher.algorithm?.value,
      subscriberJwtAlgorithm: jwt.subscriber.algorithm?.value,
      jwtIssuer: jwt.issuer,
      jwtAudience: jwt.audience,
      ...accessTokens,
      // Development mode's printed token is an access token too (it serves draft-07 and draft-08
      // clients alike): its issuer and audience are fixed, since the port may not be known yet.
      ...(development
        ? {
            accessTokenIssuer:
              accessTokens.accessTokenIssuer ?? jwt.issuer ?? DEVELOPMENT_TOKEN_IDENTITY,
            resourceIdentifier: accessTokens.resourceIdentifier ?? DEVELOPMENT_TOKEN_IDENTITY,
          }
        : {}),
      jwtClockToleranceMs: optional(
        pick('jwt-clock-tolerance', 'HERALD_JWT_CLOCK_TOLERANCE'),
        (v, n) => {
          const ms = duration(v, n);
          if (ms > 3_600_000) throw new OptionError(`${n} must be at most 1h; got "${v}".`);
          return ms;
        },
      ),
      port,
      host: pick('host', 'HERALD_HOST')?.[1],
      tls,
      // Development mode lets anonymous subscribers in, and serves the UI, unless told otherwise.
      anonymous: anonymous ?? (development ? true : undefined),
      ui: ui ?? (development ? true : undefined),
      subscriptions,
      refuseDuplicateIds,
      protocol,
      corsOrigins,
      publishOrigins: publishOrigins ?? corsOrigins,
      heartbeatMs: heartbeat === undefined ? undefined : heartbeat === 0 ? null : heartbeat,
      historyMaxAgeMs: maxAge === undefined ? undefined : maxAge === 0 ? null : maxAge,
      historySize: optional(pick('history-size', 'HERALD_HISTORY_SIZE'), (v, n) =>
        integer(v, n, 0, 10_000_000),
      ),
      store,
      maxBodyBytes: optional(pick('max-body-size', 'HERALD_MAX_BODY_SIZE'), (v, n) =>
        integer(v, n, 1, 1 << 30),
      ),
      maxUnsentBytes: optional(pick('max-unsent-bytes', 'HERALD_MAX_UNSENT_BYTES'), (v, n) =>
        integer(v, n, 1024, 1 << 30),
      ),
      maxUnsentBytesTotal: optional(
        pick('max-unsent-bytes-total', 'HERALD_MAX_UNSENT_BYTES_TOTAL'),
        (v, n) => integer(v, n, 1024, Number.MAX_SAFE_INTEGER),
      ),
      maxConcurrentReplays: optional(
        pick('max-concurrent-replays', 'HERALD_MAX_CONCURRENT_REPLAYS'),
        (v, n) => integer(v, n, 1, 100_000),
      ),
      ...limits,
    },
  };
}

type LimitOptions = Pick<
  HeraldOptions,
  | 'maxHeaderBytes'
  | 'headersTimeoutMs'
  | 'requestTimeoutMs'
  | 'maxStreamsPerClient'
  | 'trustedProxies'
  | 'publishRate'
  | 'publishBurst'
  | 'presenceRate'
  | 'presenceBurst'
>;

/** The abuse limits: header size, slow requests, streams per client, publish rate. */
function parseLimits(
  pick: PickOption<keyof typeof SERVE_FLAGS>,
  pickList: PickList<keyof typeof SERVE_FLAGS>,
): LimitOptions {
  const headersTimeout = pick('headers-timeout', 'HERALD_HEADERS_TIMEOUT');
  const headersTimeoutMs = optional(headersTimeout, (v, n) => {
    const ms = duration(v, n);
    if (ms < 1) throw new OptionError(`${n} must be at least 1ms; got "${v}".`);
    return ms;
  });
  const requestTimeout = pick('request-timeout', 'HERALD_REQUEST_TIMEOUT');
  const requestTimeoutMs = optional(requestTimeout, duration);
  const effectiveHeaders = headersTimeoutMs ?? DEFAULTS.headersTimeoutMs;
  const effectiveRequest = requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
  if (effectiveRequest !== 0 && effectiveHeaders > effectiveRequest) {
    throw new OptionError(
      `${headersTimeout?.[0] ?? '--headers-timeout'} (${effectiveHeaders} ms) must not exceed ${requestTimeout?.[0] ?? '--request-timeout'} (${effectiveRequest} ms).`,
    );
  }
  const streams = optional(
    pick('max-streams-per-client', 'HERALD_MAX_STREAMS_PER_CLIENT'),
    (v, n) => integer(v, n, 0, 10_000_000),
  );
  const rate = optional(pick('publish-rate', 'HERALD_PUBLISH_RATE'), (v, n) =>
    integer(v, n, 0, 10_000_000),
  );
  const presenceRate = optional(pick('presence-rate', 'HERALD_PRESENCE_RATE'), (v, n) =>
    integer(v, n, 0, 10_000_000),
  );
  const [proxiesName, proxies] = pickList('trust-proxy', 'HERALD_TRUST_PROXY') ?? ['', undefined];
  if (proxies !== undefined) {
    try {
      trustedProxySet(proxies, proxiesName);
    } catch (error) {
      throw new OptionError((error as Error).message);
    }
  }
  return {
    maxHeaderBytes: optional(pick('max-header-size', 'HERALD_MAX_HEADER_SIZE'), (v, n) =>
      integer(v, n, 1024, 1 << 20),
    ),
    headersTimeoutMs,
    requestTimeoutMs: requestTimeoutMs === 0 ? null : requestTimeoutMs,
    maxStreamsPerClient: streams === 0 ? null : streams,
    trustedProxies: proxies,
    publishRate: rate === 0 ? null : rate,
    publishBurst: optional(pick('publish-burst', 'HERALD_PUBLISH_BURST'), (v, n) =>
      integer(v, n, 1, 10_000_000),
    ),
    presenceRate: presenceRate === 0 ? null : presenceRate,
    presenceBurst: optional(pick('presence-burst', 'HERALD_PRESENCE_BURST'), (v, n) =>
      integer(v, n, 1, 10_000_000),
    ),
  };
}

export function optional<T>(
  found: [string, string] | undefined,
  parse: (value: string, name: string) => T,
): T | undefined {
  return found === undefined ? undefined : parse(found[1], found[0]);
}

function integer(value: string, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < min || n > max) {
    throw new OptionError(`${name} must be an integer from ${min} to ${max}; got "${value}".`);
  }
  return n;
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** `1500`, `1500ms`, `20s`, `2m`, `12h` or `7d`, in milliseconds. */
export function duration(value: string, name: string): number {
  const match = /^([0-9]+)(ms|s|m|h|d)?$/.exec(value);
  if (match === null) {
    throw new OptionError(
      `${name} must be a duration such as 20s, 1500ms, 2m or 7d; got "${value}".`,
    );
  }
  return Number(match[1]) * (DURATION_UNITS[match[2] ?? 'ms'] ?? 1);
}

/** `memory`, `sqlite`, `sqlite:<path>`, or a `redis://` / `rediss://` URL. */
function parseStore(value: string, name: string): StoreConfig {
  if (value === 'memory') return { kind: 'memory' };
  if (value === 'sqlite') return { kind: 'sqlite', path: DEFAULT_SQLITE_PATH };
  if (value.startsWith('sqlite:') && value.length > 'sqlite:'.length) {
    return { kind: 'sqlite', path: value.slice('sqlite:'.length) };
  }
  if (/^rediss?(\+sentinel)?:/i.test(value)) {
    const problem = checkRedisUrl(value);
    if (problem !== undefined) {
      // The URL may hold a password: show it masked.
      throw new OptionError(
        `${name} is not a usable Redis URL (${problem}): "${redactRedisUrl(value)}". Use redis://[user:pass@]host:port[/db], or rediss:// for TLS, or redis+sentinel://[user:pass@]host:port,host:port/mymaster[?db=N].`,
      );
    }
    return { kind: 'redis', url: value, keyPrefix: DEFAULT_REDIS_PREFIX };
  }
  throw new OptionError(
    `${name} must be sqlite:<file>, sqlite, memory or a redis:// URL; got "${value}".`,
  );
}

/** Applies `--redis-prefix` and `--redis-min-replicas[-timeout]`, which only the Redis store has. */
function withRedisOptions(
  store: StoreConfig | undefined,
  pick: PickOption<keyof typeof SERVE_FLAGS>,
): StoreConfig | undefined {
  const prefix = pick('redis-prefix', 'HERALD_REDIS_PREFIX');
  const minReplicas = pick('redis-min-replicas', 'HERALD_REDIS_MIN_REPLICAS');
  const timeout = pick('redis-min-replicas-timeout', 'HERALD_REDIS_MIN_REPLICAS_TIMEOUT');
  const given = [prefix, minReplicas, timeout].filter((found) => found !== undefined);
  if (given.length === 0) return store;
  if (store?.kind !== 'redis') {
    throw new OptionError(
      `${given.map(([name]) => name).join(', ')} applies to the Redis store only (--store redis://…).`,
    );
  }
  let configured: StoreConfig = store;
  if (prefix !== undefined) {
    const [name, value] = prefix;
    if (value === '' || /[\s*?[\]]/.test(value)) {
      throw new OptionError(
        `${name} must be a non-empty key prefix without spaces or glob characters (* ? [ ]); got "${value}".`,
      );
    }
    configured = { ...configured, keyPrefix: value };
  }
  if (minReplicas !== undefined) {
    configured = { ...configured, minReplicas: integer(minReplicas[1], minReplicas[0], 0, 100) };
  }
  if (timeout !== undefined) {
    const ms = duration(timeout[1], timeout[0]);
    // WAIT with 0 waits forever: a publish must always get an answer.
    if (ms < 1 || ms > 60_000) {
      throw new OptionError(`${timeout[0]} must be from 1ms to 60s; got "${timeout[1]}".`);
    }
    configured = { ...configured, minReplicasTimeoutMs: ms };
  }
  return configured;
}

interface Workers {
  readonly count: number;
  /** How the operator said it, for messages: `--workers is 3`, `HERALD_WORKERS is auto (2 CPUs)`. */
  readonly said: string;
}

const ONE_WORKER: Workers = { count: 1, said: '' };

/** A positive integer, or `auto`: one worker per CPU this process may use. */
function parseWorkers(value: string, name: string): Workers {
  const said = `${name} is ${value}`;
  if (value === 'auto') {
    const count = availableParallelism();
    return { count, said: `${said} (${count} CPUs)` };
  }
  if (!/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > 1024) {
    throw new OptionError(`${name} must be auto or an integer from 1 to 1024; got "${value}".`);
  }
  return { count: Number(value), said };
}

/**
 * Workers are separate processes: each must see every update and every other worker's history,
 * which only a shared store gives. Memory history would split between them, and a SQLite file
 * is locked by the one process that opened it.
 */
function refuseUnsharedStore(workers: Workers, store: StoreConfig | undefined): void {
  const kind = store?.kind ?? 'sqlite';
  if (kind === 'memory' || kind === 'sqlite') {
    const why =
      kind === 'memory'
        ? 'the memory store would split history between them'
        : 'a SQLite file is locked by the one process that opens it';
    throw new OptionError(
      `${workers.said}, which needs a store shared by the workers, but ${why}: use --store redis://host:port (or one worker).`,
    );
  }
}

function boolean(value: string, name: string): boolean {
  if (['1', 'true', 'yes', 'on'].includes(value.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(value.toLowerCase())) return false;
  throw new OptionError(`${name} must be true or false; got "${value}".`);
}

function origins(found: [name: string, origins: string[]] | undefined): string[] | undefined {
  if (found === undefined) return undefined;
  const [name, list] = found;
  for (const origin of list) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (parsed?.origin !== origin) {
      throw new OptionError(
        `${name} must list origins such as https://app.example.com (scheme, host and port only); got "${origin}".`,
      );
    }
  }
  return list;
}

function randomKey(): string {
  const bytes = new Uint8Array(64);
  crypto.getRandomValues(bytes);
  return Buffer.from(bytes).toString('base64url');
}
