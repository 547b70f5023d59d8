import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { pino } from 'pino';
import { resolveConfig } from '../config.ts';
import { ClusterMetrics } from './cluster-metrics.ts';
import type { Output } from './serve.ts';
import { announce } from './serve.ts';
import type { ServeOptions } from './serve-options.ts';
import type { ToWorker } from './worker-messages.ts';
import { isFromWorker } from './worker-messages.ts';

/** The first restart of a crashed worker waits this long; each further crash doubles it. */
const FIRST_RESTART_DELAY_MS = 250;
const MAX_RESTART_DELAY_MS = 15_000;
/** A worker that served this long before it died starts its slot's backoff over. */
const STABLE_AFTER_MS = 30_000;
/**
 * Workers that die this many times in a row before listening stop the whole server: the cause
 * (a bad key file, an unreachable store, a busy port) will not go away by restarting.
 */
const MAX_START_FAILURES = 5;
/** Beyond the hub's own shutdown timeout, how long a stopping worker may take before SIGKILL. */
const STOP_GRACE_MS = 5_000;

/** One of the N places a worker runs in; a crashed worker is replaced in its slot. */
interface Slot {
  readonly number: number;
  worker: Worker | undefined;
  /** Crashes since the slot last ran stably; sets the backoff. */
  crashes: number;
  listeningSince: number | undefined;
  restartTimer: NodeJS.Timeout | undefined;
}

/**
 * `herald serve --workers N`: this process (the primary) forks N workers with node:cluster; each
 * runs a whole hub with the same options, and the primary shares the listening socket between
 * them (round-robin). The workers share history and live updates through the store, which must
 * therefore be shared (the options parser refuses memory and SQLite).
 *
 * The primary serves nothing itself: it announces the hub once every worker listens, restarts a
 * worker that dies (with a backoff), gives up when workers keep failing at start-up, and on
 * SIGTERM or SIGINT stops every worker gracefully before exiting.
 */
export function superviseWorkers(options: ServeOptions, output: Output): Promise<void> {
  const logger = pino({ level: options.logLevel });
  const config = resolveConfig(options.herald);
  const slots: Slot[] = Array.from({ length: options.workers }, (_, index) => ({
    number: index + 1,
    worker: undefined,
    crashes: 0,
    listeningSince: undefined,
    restartTimer: undefined,
  }));
  let hubUrl: string | undefined;
  let announced = false;
  let startFailures = 0;
  let lastFailure = { message: '', exitCode: 1 };
  let stopping = false;
  let exitCode = 0;

  const live = (): Worker[] => slots.flatMap((slot) => (slot.worker ? [slot.worker] : []));
  const metrics = new ClusterMetrics(() =>
    slots.flatMap((slot) =>
      slot.worker && slot.listeningSince !== undefined ? [slot.worker] : [],
    ),
  );

  const send = (worker: Worker, message: ToWorker): void => {
    // A worker that is exiting can still look connected; sending to it then fails with EPIPE.
    // With a callback that failure is reported here instead of as an 'error' event, which
    // would crash the primary. Nothing is lost: the worker's 'exit' is handled below.
    if (worker.isConnected()) worker.send(message, undefined, undefined, ignoreSendFailure);
  };

  const fork = (slot: Slot): void => {
    slot.restartTimer = undefined;
    slot.listeningSince = undefined;
    const worker = cluster.fork();
    slot.worker = worker;
    // The IPC channel of a worker that is going away; its 'exit' follows and is handled there.
    worker.on('error', (error: unknown) => {
      logger.debug({ worker: slot.number, error: String(error) }, 'worker channel error');
    });
    worker.on('message', (message: unknown) => {
      if (!isFromWorker(message)) return;
      if (message.type === 'ready') {
        send(worker, stopping ? { type: 'stop' } : { type: 'start', options });
        return;
      }
      if (message.type === 'metrics-request') {
        metrics.gather(worker, message.id);
        return;
      }
      if (message.type === 'snapshot') {
        metrics.received(worker, message.id, message.metrics);
        return;
      }
      if (message.type === 'failed') {
        lastFailure = { message: message.message, exitCode: message.exitCode };
        return;
      }
      slot.listeningSince = Date.now();
      startFailures = 0;
      hubUrl ??= message.hubUrl;
      logger.info({ worker: slot.number, workerPid: worker.process.pid }, 'worker listening');
      if (!announced && !stopping && slots.every((s) => s.listeningSince !== undefined)) {
        announced = true;
        const pids = live().map((w) => w.process.pid ?? 0);
        announce(hubUrl, config, options.developmentKey, output, pids);
      }
    });
    worker.on('exit', (code: number | null, signal: NodeJS.Signals | null) => {
      slot.worker = undefined;
      metrics.gone(worker);
      if (stopping) {
        if (code !== 0 && exitCode === 0) exitCode = 1;
        finishIfStopped();
        return;
      }
      const served =
        slot.listeningSince === undefined ? undefined : Date.now() - slot.listeningSince;
      const details = { worker: slot.number, workerPid: worker.process.pid, code, signal };
      if (served === undefined) {
        // A failed worker exits with its failure's code; the exit can be seen before the
        // message that explains it, so the code is taken from the exit itself.
        if (code !== null && code !== 0) lastFailure = { ...lastFailure, exitCode: code };
        startFailures++;
        if (startFailures >= MAX_START_FAILURES) {
          giveUp();
          return;
        }
      }
      if (served !== undefined && served >= STABLE_AFTER_MS) slot.crashes = 0;
      slot.crashes++;
      const delay = Math.min(
        FIRST_RESTART_DELAY_MS * 2 ** (slot.crashes - 1),
        MAX_RESTART_DELAY_MS,
      );
      logger.error(
        {
          ...details,
          restartInMs: delay,
          ...(served === undefined && { error: lastFailure.message }),
        },
        served === undefined ? 'worker failed to start' : 'worker died',
      );
      slot.restartTimer = setTimeout(() => {
        fork(slot);
      }, delay);
    });
  };

  let stopTimer: NodeJS.Timeout | undefined;
  const stopAll = (): void => {
    stopping = true;
    for (const slot of slots) clearTimeout(slot.restartTimer);
    for (const worker of live()) send(worker, { type: 'stop' });
    // A worker stuck in its shutdown is killed rather than waited for forever.
    stopTimer = setTimeout(() => {
      exitCode = 1;
      for (const worker of live()) worker.process.kill('SIGKILL');
    }, config.shutdownTimeoutMs + STOP_GRACE_MS);
    finishIfStopped();
  };

  const finishIfStopped = (): void => {
    if (live().length > 0) return;
    clearTimeout(stopTimer);
    process.exit(exitCode);
  };

  const giveUp = (): void => {
    output.err(
      `herald: workers keep failing at start-up (${startFailures} times in a row); the last one said: ${lastFailure.message}`,
    );
    exitCode = lastFailure.exitCode === 0 ? 1 : lastFailure.exitCode;
    stopAll();
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      output.err(`${signal} again: killing the workers without waiting.`);
      for (const worker of live()) worker.process.kill('SIGKILL');
      process.exit(1);
    }
    output.out(`${signal} received: stopping ${live().length} workers.`);
    stopAll();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  for (const slot of slots) fork(slot);
  return Promise.resolve();
}

function ignoreSendFailure(): void {
  // See `send` in superviseWorkers: the worker is gone, and its exit is handled where it is reported.
}
