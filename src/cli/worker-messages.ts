import type { ServeOptions } from './serve-options.ts';

/**
 * What the primary and its workers tell each other over node:cluster's IPC channel. Options,
 * keys included, travel this way rather than through the environment, where other tools (`ps e`,
 * /proc/<pid>/environ, crash reporters) could read them.
 */
export type ToWorker =
  | { readonly type: 'start'; readonly options: ServeOptions }
  /** Shut down gracefully, as on SIGTERM. */
  | { readonly type: 'stop' };

export type FromWorker =
  /**
   * The worker listens for messages: a message sent before would be lost, so the primary sends
   * `start` only in answer to this.
   */
  | { readonly type: 'ready' }
  | { readonly type: 'listening'; readonly hubUrl: string }
  /** Start-up failed; the worker exits with `exitCode` right after. */
  | { readonly type: 'failed'; readonly message: string; readonly exitCode: number };

export function isToWorker(message: unknown): message is ToWorker {
  const type = (message as { type?: unknown } | null)?.type;
  return type === 'start' || type === 'stop';
}

export function isFromWorker(message: unknown): message is FromWorker {
  const type = (message as { type?: unknown } | null)?.type;
  return type === 'ready' || type === 'listening' || type === 'failed';
}
