import { pino } from 'pino';
import type { RunningHerald } from '../herald.ts';
import { startHerald } from '../herald.ts';
import { describeFatal } from './fatal-error.ts';
import type { ServeOptions } from './serve-options.ts';
import type { FromWorker, ToWorker } from './worker-messages.ts';
import { isToWorker } from './worker-messages.ts';

/**
 * A worker of `herald serve --workers N` (see workers.ts): waits for the options from the
 * primary, runs one hub with them, reports that it listens (or why it could not), and shuts
 * down gracefully when the primary says so or on SIGTERM/SIGINT.
 */
export async function runWorker(): Promise<void> {
  const options = await startOptions();
  const metrics = new MetricsRequests();
  let herald: RunningHerald;
  try {
    herald = await startHerald(options.herald, {
      logger: pino({ level: options.logLevel }),
      metricsExposition: metrics.request,
    });
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
    if (!isToWorker(message)) return;
    if (message.type === 'stop') stop();
    if (message.type === 'metrics') metrics.answered(message);
    if (message.type === 'collect-metrics') {
      const { id } = message;
      herald.metrics.snapshot().then(
        (snapshot) => {
          tell({ type: 'snapshot', id, metrics: snapshot });
        },
        // Not answering makes the scrape fail with the primary's timeout, naming the cause.
        (error: unknown) => {
          process.stderr.write(`herald: worker metrics failed: ${String(error)}\n`);
        },
      );
    }
  });
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** This worker's scrapes of /metrics, waiting for the primary to combine every worker's figures. */
class MetricsRequests {
  #nextId = 0;
  readonly #pending = new Map<number, { resolve(text: string): void; reject(e: Error): void }>();

  readonly request = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const id = this.#nextId++;
      this.#pending.set(id, { resolve, reject });
      tell({ type: 'metrics-request', id });
    });

  answered(answer: Extract<ToWorker, { type: 'metrics' }>): void {
    const pending = this.#pending.get(answer.id);
    if (pending === undefined) return;
    this.#pending.delete(answer.id);
    if (answer.text === undefined) {
      pending.reject(new Error(`cluster metrics: ${answer.error ?? 'no answer'}`));
    } else {
      pending.resolve(answer.text);
    }
  }
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
