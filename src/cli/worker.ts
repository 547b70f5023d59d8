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
  const metrics = new MetricsRequests();
  let herald: RunningHerald | undefined;
  // Changed by signals and messages while start-up awaits (an object, so none is taken as fixed).
  const phase = { starting: false, stopRequested: false, closing: false };

  const stop = (): void => {
    phase.stopRequested = true;
    // Before the hub starts there is nothing to close; while it starts, it is closed once up.
    if (herald === undefined) {
      if (!phase.starting) process.exit(0);
      return;
    }
    // Ctrl-C in a terminal signals the primary and every worker at once, and the primary then
    // asks again: one shutdown is enough. A worker stuck in it is killed by the primary.
    if (phase.closing) return;
    phase.closing = true;
    herald.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`herald: worker shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };

  const started = new Promise<ServeOptions>((resolve) => {
    process.on('message', (message: unknown) => {
      if (!isToWorker(message)) return;
      switch (message.type) {
        case 'start':
          resolve(message.options);
          return;
        case 'stop':
          stop();
          return;
        case 'metrics':
          metrics.answered(message);
          return;
        case 'collect-metrics':
          sendSnapshot(herald, message.id);
          return;
      }
    });
  });
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Only now can a message be received: one sent before would have been lost.
  tell({ type: 'ready' });

  const options = await started;
  phase.starting = true;
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
  if (phase.stopRequested) {
    stop();
    return;
  }
  tell({ type: 'listening', hubUrl: herald.hubUrl });
}

/** Answers the primary's `collect-metrics`; a worker still starting has nothing to send yet. */
function sendSnapshot(herald: RunningHerald | undefined, id: number): void {
  herald?.metrics.snapshot().then(
    (snapshot) => {
      tell({ type: 'snapshot', id, metrics: snapshot });
    },
    // Not answering makes the scrape fail with the primary's timeout; say why here.
    (error: unknown) => {
      process.stderr.write(`herald: worker metrics failed: ${String(error)}\n`);
    },
  );
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

function tell(message: FromWorker, then?: () => void): void {
  process.send?.(message, undefined, {}, () => then?.());
}
