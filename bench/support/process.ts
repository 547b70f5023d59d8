import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return true;
  } catch {
    return false;
  }
}
const TASKSET = hasTaskset();

export interface HubProcess {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `herald <args>` (the built CLI, or another build's `cli`) pinned to `cpu` when taskset exists, and resolves
 * once it listens. `stop()` ends it by its own pid.
 */
export async function startProcess(
  args: string[],
  env: Record<string, string>,
  cpu: string,
  cli: string = CLI,
): Promise<HubProcess> {
  const command = TASKSET ? 'taskset' : process.execPath;
  const commandArgs = TASKSET ? ['-c', cpu, process.execPath, cli, ...args] : [cli, ...args];
  const child = spawn(command, commandArgs, {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Herald listening on (\S+)/.exec(output);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    void exited.then(() => {
      reject(new Error(`herald exited before listening:\n${output}`));
    });
  });
  return {
    url,
    pid: child.pid ?? 0,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
