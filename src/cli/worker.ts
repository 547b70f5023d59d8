import { pino } from 'pino';
import type { RunningHerald } from '../herald.ts';
import { startHerald } from '../herald.ts';
import { describeFatal } from './fatal-error.ts';
import type { ServeOptions } from './serve-options.ts';
import type { FromWorker } from './worker-messages.ts';
import { isToWorker } from './worker-messages.ts';

/**
 * A worker of `herald serve --workers N` (see workers.ts): waits for the options from the
 * primary, runs one hub with them, reports that it listens (or why it could not), and shuts
 * down gracefully when the primary says so or on SIGTERM/SIGINT.
 */
export async function runWorker(): Promise<void> {
  const options = await startOptions();
  let herald: RunningHerald;
  try {
    herald = await startHerald(options.herald, { logger: pino({ level: options.logLevel }) });
  } catch (error) {
    const fatal = describeFatal(error);
    // Exit only once the primary has the message: it reports it, and gives up if it repeats.
    tell({ type: 'failed', ...fatal }, () => process.exit(fatal.exitCode));
    return;
  }
  tell({ type: 'listening', hubUrl: herald.hubUrl });

  let stopping = false;
  const stop = (): void => {
    // Ctrl-C in a terminal signals the primary and every worker at once, and the primary then
    // asks again: one shutdown is enough. A worker stuck in it is killed by the primary.
    if (stopping) return;
    stopping = true;
    herald.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`herald: worker shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('message', (message: unknown) => {
    if (isToWorker(message) && message.type === 'stop') stop();
  });
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function startOptions(): Promise<ServeOptions> {
  return new Promise((resolve) => {
    const onMessage = (message: unknown): void => {
      if (isToWorker(message) && message.type === 'start') {
        process.off('message', onMessage);
        resolve(message.options);
      }
    };
    process.on('message', onMessage);
    tell({ type: 'ready' });
  });
}

function tell(message: FromWorker, then?: () => void): void {
  process.send?.(message, undefined, {}, () => then?.());
}
