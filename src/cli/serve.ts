import { resolve } from 'node:path';
import { pino } from 'pino';
import { redactRedisUrl } from '../backends/redis-url.ts';
import type { HeraldConfig } from '../config.ts';
import { startHerald } from '../herald.ts';
import { mintDevelopmentToken } from './development-token.ts';
import type { ServeOptions } from './serve-options.ts';

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** `herald serve` in one process: starts the hub, announces it, shuts it down on a signal. */
export async function serve(options: ServeOptions, output: Output): Promise<void> {
  // Structured logs: JSON lines on stdout.
  const herald = await startHerald(options.herald, { logger: pino({ level: options.logLevel }) });
  await announce(herald.hubUrl, herald.config, options.development, output);

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
}

/**
 * Tells the operator what runs: development mode's token and commands, where history lives, the
 * UI, and last the "Herald listening on" line that scripts (and the CLI tests) wait for.
 */
export async function announce(
  hubUrl: string,
  config: HeraldConfig,
  development: boolean,
  output: Output,
  workers: readonly number[] = [],
): Promise<void> {
  if (development) await announceDevelopmentMode(hubUrl, config, output);
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
    return `History: Redis at ${redactRedisUrl(config.store.url)}, keys ${config.store.keyPrefix}* (${size}${age})`;
  }
  return `History: SQLite at ${resolve(config.store.path)} (${size}${age})`;
}

async function announceDevelopmentMode(
  hubUrl: string,
  config: HeraldConfig,
  output: Output,
): Promise<void> {
  // Development mode always runs on a generated HMAC key; the token is the one the web UI
  // pre-fills, minted before the hub started.
  const token = config.developmentPublisherToken ?? (await mintDevelopmentToken(config));
  const topic = 'https://example.com/books/1';
  output.out(
    [
      '',
      '  DEVELOPMENT MODE: no JWT key was configured (--jwt-key or HERALD_JWT_KEY).',
      '  A random key was generated for this run and anonymous subscribers are allowed.',
      '  Never run like this in production.',
      '',
      '  Publisher token (publish and subscribe to every topic, valid until this process exits):',
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
