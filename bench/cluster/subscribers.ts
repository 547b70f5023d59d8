import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerConfig, WorkerReport } from '../fanout/subscriber-worker.ts';

/**
 * A load-client process of the fan-out benchmark (bench/fanout/subscriber-worker.ts) holding
 * SSE connections to one node, driven over IPC.
 */
export interface SubscriberWorker {
  /** The node its connections go to. */
  readonly node: number;
  /** Connections answered 200. */
  readonly held: number;
  reset(firstSeq: number): Promise<void>;
  deliveries(): Promise<number>;
  report(events: number): Promise<WorkerReport>;
  stop(): Promise<void>;
}

export async function startSubscriberWorker(
  node: number,
  config: WorkerConfig,
): Promise<SubscriberWorker> {
  const child: ChildProcess = fork(
    fileURLToPath(new URL('../fanout/subscriber-worker.ts', import.meta.url)),
    [JSON.stringify(config)],
    { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const waiters = new Map<string, (value: unknown) => void>();
  let onConnected: (held: number) => void = () => undefined;
  const connected = new Promise<number>((resolve) => (onConnected = resolve));
  child.on('message', (message: { type: string; connected?: number; report?: WorkerReport }) => {
    if (message.type === 'connected') onConnected(message.connected ?? 0);
    const waiter = waiters.get(message.type);
    waiters.delete(message.type);
    waiter?.(message.report ?? message);
  });
  const request = <T>(message: object, reply: string): Promise<T> =>
    new Promise((resolve) => {
      waiters.set(reply, resolve as (value: unknown) => void);
      child.send(message);
    });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const held = await connected;
  return {
    node,
    held,
    reset: async (firstSeq) => {
      await request({ type: 'reset', firstSeq }, 'reset-done');
    },
    deliveries: async () =>
      (await request<{ deliveries: number }>({ type: 'count' }, 'count')).deliveries,
    report: (events) => request<WorkerReport>({ type: 'report', events }, 'report'),
    stop: async () => {
      child.send({ type: 'stop' });
      await exited;
    },
  };
}

/** Latency histograms (0.1 ms buckets) summed. */
export function mergeHistograms(reports: readonly WorkerReport[]): number[] {
  const merged: number[] = [];
  for (const report of reports) {
    report.latency.forEach((count, i) => (merged[i] = (merged[i] ?? 0) + count));
  }
  return merged;
}

/** The latency in ms at quantile `q` of a 0.1 ms histogram; NaN when it is empty. */
export function histogramPercentile(histogram: readonly number[], q: number): number {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return Number.NaN;
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] ?? 0;
    if (seen >= q * total) return (i + 1) / 10;
  }
  return Number.NaN;
}
