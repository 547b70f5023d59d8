import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

/** The built CLI, exactly what `npm start` and the `herald` bin run. */
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface RunningCli {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the hub URL once the CLI prints that it listens. */
  readonly ready: Promise<string>;
  readonly exited: Promise<number | null>;
}

/** A fresh folder removed when the test ends. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-test-'));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/**
 * Starts `herald <args>` as a child process in a fresh working directory (where the default
 * SQLite store lands), killed by its own pid when the test ends.
 */
export function runCli(
  t: TestContext,
  args: string[],
  env: Record<string, string> = {},
  cwd: string = tempDir(t),
): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const running: RunningCli = {
    child,
    stdout: '',
    stderr: '',
    exited,
    ready: new Promise((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        running.stdout += chunk.toString();
        const match = /Herald listening on (\S+)/.exec(running.stdout);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        running.stderr += chunk.toString();
      });
      void exited.then((code) => {
        reject(new Error(`herald exited with ${code} before listening:\n${running.stderr}`));
      });
    }),
  };
  // A CLI expected to fail never becomes ready; that rejection is not an error of the test.
  running.ready.catch(() => undefined);
  return running;
}
