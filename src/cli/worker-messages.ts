import type { MetricsSnapshot } from '../http/metrics.ts';
import type { ServeOptions } from './serve-options.ts';

/**
 * What the primary and its workers tell each other over node:cluster's IPC channel. Options,
 * keys included, travel this way rather than through the environment, where other tools (`ps e`,
 * /proc/<pid>/environ, crash reporters) could read them.
 */
export type ToWorker =
  | { readonly type: 'start'; readonly options: ServeOptions }
  /** Shut down gracefully, as on SIGTERM. */
  | { readonly type: 'stop' }
  /** Send this worker's metrics (`snapshot`), for a scrape that reached some worker. */
  | { readonly type: 'collect-metrics'; readonly id: number }
  /** The answer to a worker's `metrics-request`: every worker's metrics combined, or why not. */
  | {
      readonly type: 'metrics';
      readonly id: number;
      readonly text?: string;
      readonly error?: string;
    };

export type FromWorker =
  /**
   * The worker listens for messages: a message sent before would be lost, so the primary sends
   * `start` only in answer to this.
   */
  | { readonly type: 'ready' }
  | { readonly type: 'listening'; readonly hubUrl: string }
  /** Start-up failed; the worker exits with `exitCode` right after. */
  | { readonly type: 'failed'; readonly message: string; readonly exitCode: number }
  /** A scrape of /metrics reached this worker: it asks for every worker's figures combined. */
  | { readonly type: 'metrics-request'; readonly id: number }
  | { readonly type: 'snapshot'; readonly id: number; readonly metrics: MetricsSnapshot };

export function isToWorker(message: unknown): message is ToWorker {
  const type = (message as { type?: unknown } | null)?.type;
  return type === 'start' || type === 'stop' || type === 'collect-metrics' || type === 'metrics';
}

export function isFromWorker(message: unknown): message is FromWorker {
  const type = (message as { type?: unknown } | null)?.type;
  return (
    type === 'ready' ||
    type === 'listening' ||
    type === 'failed' ||
    type === 'metrics-request' ||
    type === 'snapshot'
  );
}
