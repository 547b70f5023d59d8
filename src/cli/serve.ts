import { resolve } from 'node:path';
import { pino } from 'pino';
import { hubKeyPrefix } from '../backends/redis-keys.ts';
import { isClusterUrl, redactRedisUrl } from '../backends/redis-url.ts';
import type { HeraldConfig } from '../config.ts';
import { startHerald } from '../herald.ts';
import type { DevelopmentKey } from './development-key.ts';
import { keepDevelopmentKey, loadDevelopmentKey } from './development-key.ts';
import type { ServeOptions } from './serve-options.ts';

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/**
 * Development mode's key: the one an earlier start kept in the data directory, or a new one (kept
 * once the hub listens). A configured key always wins: then nothing is read, and no development
 * key is ever used. The publisher token is minted from it afterwards (`withDevelopmentToken`).
 */
export function withDevelopmentKey(options: ServeOptions): ServeOptions {
  if (!options.development) return options;
  const developmentKey = loadDevelopmentKey(options.herald.store);
  return {
    ...options,
    developmentKey,
    herald: {
      ...options.herald,
      publisherJwtKey: developmentKey.key,
      subscriberJwtKey: developmentKey.key,
    },
  };
}

/** `herald serve` in one process: starts the hub, announces it, shuts it down on a signal. */
export async function serve(options: ServeOptions, output: Output): Promise<void> {
  // Structured logs: JSON lines on stdout.
  const herald = await startHerald(options.herald, { logger: pino({ level: options.logLevel }) });
  // Only now, with the port held and the data directory made, is a new key written.
  if (options.developmentKey !== undefined) keepDevelopmentKey(options.developmentKey);

  // Handlers first, the announcement last: a supervisor may send SIGTERM as soon as it reads
  // "Herald listening", and until a handler exists that signal kills the process outright.
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      output.err(`${signal} again: exiting without waiting.`);
      process.exit(1);
    }
    stopping = true;
    output.out(`${signal} received: closing streams and shutting down.`);
    herald.close().then(
      () => process.exit(0),
      (error: unknown) => {
        output.err(`shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  announce(herald.hubUrl, herald.config, options.developmentKey, output);
}

/**
 * Tells the operator what runs: development mode's token and commands, where history lives, the
 * UI, and last the "Herald listening on" line that scripts (and the CLI tests) wait for.
 */
export function announce(
  hubUrl: string,
  config: HeraldConfig,
  developmentKey: DevelopmentKey | undefined,
  output: Output,
  workers: readonly number[] = [],
): void {
  if (developmentKey !== undefined && config.developmentPublisherToken !== null) {
    announceDevelopmentMode(hubUrl, config.developmentPublisherToken, developmentKey, output);
  }
  output.out(describeHistory(config));
  if (config.ui) output.out(`Web UI: ${new URL('/ui/', hubUrl).href}`);
  if (workers.length > 0) {
    output.out(
      `Workers: ${workers.length} processes sharing the port (pids ${workers.join(', ')})`,
    );
  }
  output.out(`Herald listening on ${hubUrl}`);
}

function describeHistory(config: HeraldConfig): string {
  const size = `the newest ${config.historySize} updates`;
  if (config.store.kind === 'memory') return `History: in memory (${size}; lost on exit)`;
  const age =
    config.historyMaxAgeMs === null ? '' : `, at most ${config.historyMaxAgeMs / 3_600_000} h old`;
  if (config.store.kind === 'redis') {
    const replicas =
      (config.store.minReplicas ?? 0) > 0
        ? `; a publish is acknowledged once ${config.store.minReplicas} replica(s) have it`
        : '';
    const prefix = hubKeyPrefix(config.store.keyPrefix, isClusterUrl(config.store.url));
    return `History: Redis at ${redactRedisUrl(config.store.url)}, keys ${prefix}* (${size}${age}${replicas})`;
  }
  return `History: SQLite at ${resolve(config.store.path)} (${size}${age})`;
}

function announceDevelopmentMode(
  hubUrl: string,
  token: string,
  developmentKey: DevelopmentKey,
  output: Output,
): void {
  const topic = 'https://example.com/books/1';
  const keyLines =
    developmentKey.file === undefined
      ? ['  A random key was generated for this run and anonymous subscribers are allowed.']
      : [
          `  The generated key is kept in ${developmentKey.file} (mode 0600), so the token below`,
          '  works across restarts (delete the file for a new key). Anonymous subscribers are allowed.',
        ];
  const validity =
    developmentKey.file === undefined
      ? 'valid until this process exits'
      : 'valid as long as the key file is kept';
  output.out(
    [
      '',
      '  DEVELOPMENT MODE: no JWT key was configured (--jwt-key or HERALD_JWT_KEY).',
      ...keyLines,
      '  Never run like this in production.',
      '',
      `  Publisher token (publish and subscribe to every topic, ${validity}):`,
      `    ${token}`,
      '',
      '  Subscribe, in one terminal:',
      `    curl -N '${hubUrl}?topic=${encodeURIComponent(topic)}'`,
      '  Publish, in another:',
      `    curl -H 'Authorization: Bearer ${token}' -d 'topic=${topic}' -d 'data=Hello' ${hubUrl}`,
      '',
    ].join('\n'),
  );
}
