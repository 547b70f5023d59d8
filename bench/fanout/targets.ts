import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { mintToken } from '../../src/auth/mint-token.ts';

/** A server under test, started pinned to one CPU, and how to subscribe to and publish on it. */
export interface RunningTarget {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly subscribePath: string;
  readonly subscribeHeaders: Record<string, string>;
  /** Whether it keeps history and resumes after `Last-Event-ID` (the reconnect storm needs it). */
  readonly resumes: boolean;
  /** Set when each subscriber presents its own token, signed with this key (see the worker). */
  readonly subscriberTokenKey?: string;
  publish(payload: string): Promise<void>;
  stop(): Promise<void>;
}

/** `herald-token`: the same hub, each subscriber presenting its own token (verified per subscribe). */
export type TargetName = 'herald' | 'herald-token' | 'node' | 'nchan';

const ROOT = new URL('../../', import.meta.url);
const KEY = 'fanout-benchmark-key-at-least-32-bytes-long';

function pinned(
  cpu: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): ChildProcess {
  return spawn('taskset', ['-c', cpu, command, ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

async function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      // BENCH_VERBOSE shows what the server prints (e.g. --trace-gc), after its ready line.
      if (process.env['BENCH_VERBOSE'] !== undefined) process.stderr.write(chunk);
      output += chunk.toString();
      const match = pattern.exec(output);
      if (match !== null) resolve(match);
    });
    child.once('exit', (code) => {
      reject(new Error(`exited with ${code} before ready:\n${output}`));
    });
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

function publisher(
  origin: string,
  path: string,
  headers: Record<string, string>,
  body: (payload: string) => string,
) {
  const pool = new Pool(origin, { connections: 1 });
  return {
    publish: async (payload: string): Promise<void> => {
      const response = await pool.request({ method: 'POST', path, headers, body: body(payload) });
      await response.body.text();
      if (
        response.statusCode !== 200 &&
        response.statusCode !== 201 &&
        response.statusCode !== 202
      ) {
        throw new Error(`publish answered ${response.statusCode}`);
      }
    },
    close: () => pool.close(),
  };
}

/** Starts a target on CPU `cpu`. */
export async function startTarget(name: TargetName, cpu: string): Promise<RunningTarget> {
  switch (name) {
    case 'herald':
    case 'herald-token': {
      // BENCH_HERALD_CLI measures another build (e.g. main's, for a before/after in one run).
      const cli =
        process.env['BENCH_HERALD_CLI'] ?? fileURLToPath(new URL('dist/cli/main.js', ROOT));
      const child = pinned(
        cpu,
        process.execPath,
        [
          // BENCH_HERALD_NODE_ARGS profiles the hub, e.g. "--cpu-prof --cpu-prof-dir=.bench".
          ...(process.env['BENCH_HERALD_NODE_ARGS'] ?? '').split(' ').filter(Boolean),
          cli,
          'serve',
          '--port',
          '0',
          '--host',
          '127.0.0.1',
          '--store',
          'memory',
          '--anonymous',
          '--history-size',
          '1000',
          '--max-unsent-bytes',
          '4194304',
          // Thousands of streams come from a few loopback addresses, and publishes back to back
          // from one token: the benchmark measures delivery, not the abuse limits.
          '--max-streams-per-client',
          '0',
          '--publish-rate',
          '0',
        ],
        // Request logs at info would log every publish; a benchmark measures delivery.
        { HERALD_JWT_KEY: KEY, HERALD_LOG_LEVEL: 'warn' },
      );
      const match = await waitForLine(child, /Herald listening on http:\/\/[^:]+:(\d+)/);
      const port = Number(match[1]);
      const token = await mintToken({ key: KEY, algorithm: 'HS256', publish: ['*'] });
      const pub = publisher(
        `http://127.0.0.1:${port}`,
        '/.well-known/mercure',
        { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
        (payload) => `topic=bench&data=${encodeURIComponent(payload)}`,
      );
      return {
        name,
        pid: child.pid ?? 0,
        port,
        subscribePath: '/.well-known/mercure?topic=bench',
        subscribeHeaders: {},
        resumes: true,
        ...(name === 'herald-token' && { subscriberTokenKey: KEY }),
        publish: pub.publish,
        async stop() {
          await pub.close();
          await stopChild(child);
        },
      };
    }
    case 'node': {
      const server = fileURLToPath(new URL('bench/fanout/raw-node-server.mjs', ROOT));
      const child = pinned(cpu, process.execPath, [server, '0']);
      const port = Number((await waitForLine(child, /listening on (\d+)/))[1]);
      const pub = publisher(`http://127.0.0.1:${port}`, '/pub', {}, (payload) => payload);
      return {
        name,
        pid: child.pid ?? 0,
        port,
        subscribePath: '/sub',
        subscribeHeaders: {},
        // No ids, no history: nothing to resume.
        resumes: false,
        publish: pub.publish,
        async stop() {
          await pub.close();
          await stopChild(child);
        },
      };
    }
    case 'nchan': {
      const dir = join(tmpdir(), `herald-bench-nchan-${process.pid}`);
      mkdirSync(join(dir, 'tmp'), { recursive: true });
      const port = await freePort();
      // The shared peers folder sits beside the main repository, one level further up from a
      // worktree under /work/wt.
      const conf = [
        new URL('../shared/peers/nchan.conf', ROOT),
        new URL('../../shared/peers/nchan.conf', ROOT),
      ].find((candidate) => existsSync(candidate));
      if (conf === undefined)
        throw new Error('no ../shared/peers/nchan.conf beside the repository');
      const template = readFileSync(conf, 'utf8');
      writeFileSync(
        join(dir, 'nginx.conf'),
        template.replaceAll('__DIR__', dir).replaceAll('__PORT__', String(port)),
      );
      const child = pinned(cpu, 'nginx', [
        '-p',
        dir,
        '-c',
        join(dir, 'nginx.conf'),
        '-e',
        join(dir, 'error.log'),
      ]);
      // nginx prints nothing when ready: wait until it accepts.
      const pub = publisher(`http://127.0.0.1:${port}`, '/pub/room1', {}, (payload) => payload);
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          await pub.publish('{"seq":-1,"t":0}');
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      return {
        name,
        pid: child.pid ?? 0,
        port,
        subscribePath: '/sub/room1',
        subscribeHeaders: { Accept: 'text/event-stream' },
        resumes: true,
        publish: pub.publish,
        async stop() {
          await pub.close();
          // nginx stops gracefully on QUIT.
          await stopChild(child, 'SIGQUIT');
          // Its configuration, logs and temp files: nothing is left behind.
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
  }
}
