import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { tempDir } from './cli.ts';

/** Debian's nginx; .ci/run installs it. */
export const NGINX = '/usr/sbin/nginx';

/** The nginx configuration users copy (docs/deployment.md shows it). */
export const CLUSTER_CONF = new URL('../../deploy/nginx/herald-cluster.conf', import.meta.url);

/**
 * Replaces `from` with `to` in a configuration, failing if `from` does not occur exactly once:
 * when the shipped file changes, the test must be told, not silently test something else.
 */
export function substitute(text: string, from: string, to: string): string {
  const count = text.split(from).length - 1;
  assert.equal(count, 1, `"${from}" occurs once in the nginx configuration (found ${count})`);
  return text.replace(from, to);
}

/** A port free on 127.0.0.1 right now (nginx binds it itself). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  server.close();
  await once(server, 'close');
  return address.port;
}

export interface RunningNginx {
  readonly child: ChildProcess;
  readonly dir: string;
  /** Stops nginx (SIGTERM to its master, by pid) and waits for it. */
  stop(): Promise<void>;
  /** nginx's error log so far, for failure messages. */
  errorLog(): string;
}

/**
 * Runs nginx in the foreground as this test's own process, with everything it writes (pid, logs,
 * temporary files) in a fresh directory, and `httpConf` as its only http-context file. Resolves
 * once it accepts connections on `port`; stopped by its pid when the test ends.
 */
export async function startNginx(
  t: TestContext,
  httpConf: string,
  port: number,
): Promise<RunningNginx> {
  const dir = tempDir(t);
  // nginx's workers run as an unprivileged user when the master is root: let them in.
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'herald.conf'), httpConf);
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      'worker_processes 1;',
      'events { worker_connections 1024; }',
      'http {',
      `  access_log ${join(dir, 'access.log')};`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
        (kind) => `  ${kind}_temp_path ${join(dir, kind)};`,
      ),
      `  include ${join(dir, 'herald.conf')};`,
      '}',
    ].join('\n'),
  );
  const errorLog = join(dir, 'error.log');
  const child = spawn(
    NGINX,
    [
      '-p',
      dir,
      '-c',
      join(dir, 'nginx.conf'),
      '-e',
      errorLog,
      '-g',
      `daemon off; pid ${join(dir, 'nginx.pid')}; error_log ${errorLog} info;`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  t.after(stop);
  const readLog = (): string => {
    try {
      return readFileSync(errorLog, 'utf8');
    } catch {
      return '';
    }
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`nginx exited with ${child.exitCode}:\n${stderr}\n${readLog()}`);
    }
    if (await accepts(port)) break;
    if (Date.now() > deadline) throw new Error(`nginx did not listen:\n${stderr}\n${readLog()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, dir, stop, errorLog: readLog };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}
