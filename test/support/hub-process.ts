import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { HeraldOptions } from '../../src/config.ts';

const SCRIPT = fileURLToPath(new URL('./loop-delay-hub.ts', import.meta.url));

export interface HubProcess {
  readonly child: ChildProcess;
  readonly hubUrl: string;
  /**
   * The longest event-loop stall since the previous call, in milliseconds: wall clock, and CPU
   * time of the main thread (see loop-delay-hub.ts).
   */
  loopDelay(): Promise<{ maxMs: number; maxCpuMs: number }>;
  memory(): Promise<NodeJS.MemoryUsage>;
}

/** Starts a hub in a child process (loop-delay-hub.ts), killed by its pid when the test ends. */
export async function startHubProcess(
  t: TestContext,
  options: Partial<HeraldOptions>,
): Promise<HubProcess> {
  const child = fork(SCRIPT, [JSON.stringify(options)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const ask = async <T>(question: string): Promise<T> => {
    const answer = once(child, 'message');
    child.send(question);
    return (await answer)[0] as T;
  };
  const [ready] = (await Promise.race([
    once(child, 'message'),
    exited.then(() => {
      throw new Error('the hub process exited before listening');
    }),
  ])) as [{ hubUrl: string }];
  return {
    child,
    hubUrl: ready.hubUrl,
    loopDelay: () => ask<{ maxMs: number; maxCpuMs: number }>('loop-delay'),
    memory: () => ask<NodeJS.MemoryUsage>('memory'),
  };
}
