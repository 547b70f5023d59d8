import type { HeraldOptions, StoreConfig } from '../config.ts';
import { withDefaults } from '../config.ts';
import { checkConfig } from '../options/check-config.ts';
import { SERVE_OPTIONS } from '../options/option-table.ts';
import type { LogLevel } from '../options/option-table.ts';
import { readConfigFile } from './config-file.ts';
import type { DevelopmentKey } from './development-key.ts';
import { checkVerificationKey, parseAccessTokenOptions, parseJwtOptions } from './jwt-options.ts';
import { optionHelp } from './option-help.ts';
import { OptionError, parseFlags } from './option-reading.ts';
import { flagTable, givenOptions, notInFile, pickerOf } from './option-sources.ts';
import type { GivenOptions } from './option-sources.ts';
import { operatorNaming, readGiven, readValues } from './option-values.ts';
import { parseTlsOptions } from './tls-options.ts';

export { OptionError } from './option-reading.ts';
export { LOG_LEVELS } from '../options/option-table.ts';
export type { LogLevel } from '../options/option-table.ts';

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

/** Every `herald serve` flag, from the option table (src/options/option-table.ts), and `--help`. */
export const SERVE_FLAGS = {
  ...flagTable(SERVE_OPTIONS),
  help: { type: 'boolean', short: 'h' },
} as const;

export const SERVE_HELP = `Usage: herald serve [options]

Options (each also read from the environment variable shown, then from the --config file):
${optionHelp(SERVE_OPTIONS)}

With no key configured, Herald starts in development mode: it generates a key, prints a
publisher token, lets anonymous subscribers in and serves the web UI.`;

/** Development mode's access-token issuer and resource identifier, unless others are set. */
export const DEVELOPMENT_TOKEN_IDENTITY = 'urn:herald:development';

type Env = Readonly<Record<string, string | undefined>>;

/** The flags a configuration file cannot set. */
const NOT_IN_FILE = [...notInFile(SERVE_OPTIONS), 'help'];

/**
 * Reads `herald serve` flags, then the environment, then the configuration file
 * (`--config`/`HERALD_CONFIG`) into Herald's options: flag > variable > file > default. The
 * option table says where each is found and how it is read; `checkConfig` then checks the whole,
 * as `startHerald()` does, naming each option as the operator gave it.
 */
export function parseServeOptions(argv: readonly string[], env: Env): ServeOptions | 'help' {
  const flags = parseFlags(argv, SERVE_FLAGS) as Readonly<Record<string, unknown>>;
  if (flags['help'] === true) return 'help';

  const configPath = pickerOf(givenOptions(SERVE_OPTIONS, flags, env))('config')?.[1];
  const file =
    configPath === undefined ? undefined : readConfigFile(configPath, SERVE_FLAGS, NOT_IN_FILE);
  const given = givenOptions(SERVE_OPTIONS, flags, env, file);
  const pick = pickerOf(given);

  const jwt = parseJwtOptions(given);
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

  // The options the table's reader sets as they are (port, limits, switches, lists)…
  const values = readValues(given) as Partial<HeraldOptions>;
  // …and those that depend on others.
  const store = withRedisOptions(values.store, given);
  const logLevel = readOption(given, 'log-level') as LogLevel | undefined;
  const workers = readWorkers(given);
  if (workers.count > 1) refuseUnsharedStore(workers, store);

  const generatedKey = development ? randomKey() : undefined;
  const herald: HeraldOptions = {
    ...values,
    publisherJwtKey: publisherKey?.source ?? generatedKey ?? '',
    subscriberJwtKey: subscriberKey?.source ?? generatedKey ?? '',
    publisherJwtAlgorithm: jwt.publisher.algorithm?.value,
    subscriberJwtAlgorithm: jwt.subscriber.algorithm?.value,
    ...parseAccessTokenOptions(given),
    // Development mode's printed token is an access token too (it serves draft-07 and draft-08
    // clients alike): its issuer and audience are fixed, since the port may not be known yet.
    ...(development
      ? {
          accessTokenIssuer: values.accessTokenIssuer ?? jwt.issuer ?? DEVELOPMENT_TOKEN_IDENTITY,
          resourceIdentifier: values.resourceIdentifier ?? DEVELOPMENT_TOKEN_IDENTITY,
        }
      : {}),
    tls: parseTlsOptions(pick),
    // Development mode lets anonymous subscribers in, and serves the UI, unless told otherwise.
    anonymous: values.anonymous ?? (development ? true : undefined),
    ui: values.ui ?? (development ? true : undefined),
    publishOrigins: values.publishOrigins ?? values.corsOrigins,
    store,
  };
  checkConfig(withDefaults(herald), operatorNaming(SERVE_OPTIONS, given));
  return {
    development,
    configFile: file?.path,
    logLevel: logLevel ?? 'info',
    workers: workers.count,
    herald,
  };
}

/** One option's value as its kind reads it; `undefined` when it was not given. */
function readOption(given: GivenOptions, flag: string): unknown {
  const option = given.get(flag);
  return option === undefined ? undefined : readGiven(option);
}

/** Applies `--redis-prefix` and `--redis-min-replicas[-timeout]`, which only the Redis store has. */
function withRedisOptions(
  store: StoreConfig | undefined,
  given: GivenOptions,
): StoreConfig | undefined {
  const flags = ['redis-prefix', 'redis-min-replicas', 'redis-min-replicas-timeout'];
  const names = flags.flatMap((flag) => given.get(flag)?.name ?? []);
  if (names.length === 0) return store;
  if (store?.kind !== 'redis') {
    throw new OptionError(
      `${names.join(', ')} applies to the Redis store only (--store redis://…).`,
    );
  }
  const prefix = readOption(given, 'redis-prefix') as string | undefined;
  const minReplicas = readOption(given, 'redis-min-replicas') as number | undefined;
  const timeout = readOption(given, 'redis-min-replicas-timeout') as number | undefined;
  return {
    ...store,
    ...(prefix === undefined ? {} : { keyPrefix: prefix }),
    ...(minReplicas === undefined ? {} : { minReplicas }),
    ...(timeout === undefined ? {} : { minReplicasTimeoutMs: timeout }),
  };
}

interface Workers {
  readonly count: number;
  /** How the operator said it, for messages: `--workers is 3`, `HERALD_WORKERS is auto (2 CPUs)`. */
  readonly said: string;
}

const ONE_WORKER: Workers = { count: 1, said: '' };

/** `--workers`: how many, and how the operator said it. */
function readWorkers(given: GivenOptions): Workers {
  const option = given.get('workers');
  if (option === undefined) return ONE_WORKER;
  const count = readGiven(option) as number;
  const [text = ''] = option.texts;
  const said = `${option.name} is ${text}`;
  return { count, said: text === 'auto' ? `${said} (${count} CPUs)` : said };
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

function randomKey(): string {
  const bytes = new Uint8Array(64);
  crypto.getRandomValues(bytes);
  return Buffer.from(bytes).toString('base64url');
}
