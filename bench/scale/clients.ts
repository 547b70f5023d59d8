import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerConfig, WorkerReport } from '../fanout/subscriber-worker.ts';

/** What a load-client process says while it ramps up and after. */
export interface ClientCount {
  readonly connected: number;
  readonly closed: number;
  readonly deliveries: number;
}

/**
 * One load-client process of the fan-out benchmark (bench/fanout/subscriber-worker.ts), driven
 * over IPC. Unlike bench/cluster/subscribers.ts it is usable while it still ramps up (`count()`),
 * so the orchestrator can watch progress and give up at a deadline instead of waiting forever.
 */
export interface LoadClient {
  readonly pid: number;
  /** Resolves with the connections answered 200 once every connection was tried. */
  readonly rampedUp: Promise<number>;
  count(): Promise<ClientCount>;
  reset(firstSeq: number): Promise<void>;
  report(events: number): Promise<WorkerReport>;
  /** Asks the process to close its connections and exit; SIGKILL by pid after `graceMs`. */
  stop(graceMs: number): Promise<void>;
}

export function startLoadClient(config: WorkerConfig): LoadClient {
  const child: ChildProcess = fork(
    fileURLToPath(new URL('../fanout/subscriber-worker.ts', import.meta.url)),
    [JSON.stringify(config)],
    {
      execArgv: ['--import', 'tsx', '--max-old-space-size=2048'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
  const waiters = new Map<string, ((value: unknown) => void)[]>();
  let onRampedUp: (held: number) => void = () => undefined;
  const rampedUp = new Promise<number>((resolve) => (onRampedUp = resolve));
  child.on('message', (message: { type: string; connected?: number; report?: WorkerReport }) => {
    if (message.type === 'connected') onRampedUp(message.connected ?? 0);
    const waiter = waiters.get(message.type)?.shift();
    waiter?.(message.report ?? message);
  });
  // Answers come in the order asked (one IPC channel), so a queue per reply type is enough.
  const request = <T>(message: object, reply: string): Promise<T> =>
    new Promise((resolve, reject) => {
      if (!child.connected) {
        reject(new Error(`load client ${String(child.pid)} is gone`));
        return;
      }
      const queue = waiters.get(reply) ?? [];
      queue.push(resolve as (value: unknown) => void);
      waiters.set(reply, queue);
      child.send(message);
    });
  return {
    pid: child.pid ?? 0,
    rampedUp,
    count: () => request<ClientCount>({ type: 'count' }, 'count'),
    reset: async (firstSeq) => {
      await request({ type: 'reset', firstSeq }, 'reset-done');
    },
    report: (events) => request<WorkerReport>({ type: 'report', events }, 'report'),
    async stop(graceMs) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
