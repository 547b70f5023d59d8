import { pino } from 'pino';
import type { Logger } from 'pino';
import { OptionError } from './serve-options.ts';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The CLI's logger: JSON lines on stdout, at `HERALD_LOG_LEVEL` (default `info`). */
export function createLogger(env: Readonly<Record<string, string | undefined>>): Logger {
  const level = env['HERALD_LOG_LEVEL'] ?? 'info';
  if (!LEVELS.includes(level)) {
    throw new OptionError(`HERALD_LOG_LEVEL must be one of ${LEVELS.join(', ')}; got "${level}".`);
  }
  return pino({ level });
}
