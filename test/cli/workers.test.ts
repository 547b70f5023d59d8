import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { Agent, fetch } from 'undici';
import { mintToken } from '../../src/auth/mint-token.ts';
import type { RunningCli } from '../support/cli.ts';
import { runCli } from '../support/cli.ts';
import { EventStream } from '../support/event-stream.ts';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

const KEY = 'a-configured-key-of-at-least-thirty-two-bytes';
const TOPIC = 'https://example.com/workers/1';

const REFUSALS: [string[], Record<string, string>, RegExp][] = [
  [
    ['--workers', '3'],
    {},
    /^herald: --workers is 3, which needs a store shared by the workers, but a SQLite file is locked by the one process that opens it: use --store redis:\/\/host:port \(or one worker\)\.$/m,
  ],
  [
    ['--workers', '2', '--store', 'sqlite:elsewhere.db'],
    {},
    /--workers is 2, which needs a store shared by the workers, but a SQLite file is locked/,
  ],
  [
    ['--workers', '2', '--store', 'memory'],
    {},
    /^herald: --workers is 2, which needs a store shared by the workers, but the memory store would split history between them: use --store redis:\/\/host:port \(or one worker\)\.$/m,
  ],
  [
    [],
    { HERALD_WORKERS: '4', HERALD_STORE: 'memory' },
    /HERALD_WORKERS is 4, which needs a store shared by the workers, but the memory store/,
  ],
  [['--workers', '0'], {}, /--workers must be auto or an integer from 1 to 1024; got "0"/],
  [['--workers', '1.5'], {}, /--workers must be auto or an integer from 1 to 1024; got "1.5"/],
  [[], { HERALD_WORKERS: 'many' }, /HERALD_WORKERS must be auto or an integer from 1 to 1024/],
];

for (const [args, env, message] of REFUSALS) {
  test(`serve ${[...args, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)].join(' ')} is refused`, async (t) => {
    const cli = runCli(t, ['serve', '--port', '0', ...args], { HERALD_JWT_KEY: KEY, ...env });
    assert.equal(await cli.exited, 2);
    assert.match(cli.stderr, message);
    assert.equal(cli.stderr.trim().split('\n').length, 1, 'one line');
    assert.doesNotMatch(cli.stdout, /listening|Workers:/);
  });
}

interface Workers {
  readonly cli: RunningCli;
  readonly hubUrl: string;
  readonly pids: number[];
}

async function startWorkers(
  t: TestContext,
  count: number,
  env: Record<string, string> = { HERALD_JWT_KEY: KEY },
): Promise<Workers> {
  const prefix = uniquePrefix('workers');
  const cli = runCli(
    t,
    [
      'serve',
      ...['--workers', String(count), '--port', '0', '--host', '127.0.0.1'],
      ...['--store', REDIS_URL, '--redis-prefix', prefix, '--anonymous'],
    ],
    env,
  );
  // Runs after runCli's own teardown (hooks run in the order they are registered).
  t.after(async () => {
    await stopped(cli);
    await deleteKeys(prefix);
  });
  const hubUrl = await cli.ready;
  const pids = workerPids(cli.stdout);
  assert.equal(pids.length, count);
  assert.equal(new Set(pids).size, count, 'distinct processes');
  for (const pid of pids) assert.equal(parentPid(pid), cli.child.pid, `${pid} is a worker`);
  return { cli, hubUrl, pids };
}

/** The pids of the "Workers: N processes sharing the port (pids …)" line. */
function workerPids(stdout: string): number[] {
  const line = /^Workers: (\d+) processes sharing the port \(pids ([\d, ]+)\)$/m.exec(stdout);
  assert.ok(line?.[2] !== undefined, `the Workers line in:\n${stdout}`);
  return line[2].split(', ').map(Number);
}

function parentPid(pid: number): number | undefined {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after ")".
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopped(cli: RunningCli): Promise<void> {
  if (cli.child.exitCode === null && cli.child.signalCode === null) {
    cli.child.kill('SIGKILL');
    await cli.exited;
  }
}

/** One request on a connection of its own, so that node:cluster hands it to the next worker. */
async function onNewConnection(
  url: string | URL,
  init: Parameters<typeof fetch>[1] = {},
): Promise<{ status: number; body: string }> {
  const agent = new Agent();
  try {
    const response = await fetch(url, { ...init, dispatcher: agent });
    return { status: response.status, body: await response.text() };
  } finally {
    await agent.close();
  }
}

/** The pid of the process that logged the request with this X-Request-Id. */
function loggedBy(stdout: string, requestId: string): number | undefined {
  for (const line of stdout.split('\n')) {
    if (!line.includes(`"requestId":"${requestId}"`)) continue;
    const entry = JSON.parse(line) as { pid: number; msg: string };
    if (entry.msg === 'request') return entry.pid;
  }
  return undefined;
}

test('--workers 3 spreads streams over three processes; a publish on any reaches them all; SIGTERM stops them all', async (t) => {
  // Development mode: the primary generates the key and every worker must verify with it.
  const workers = await startWorkers(t, 3, {});
  const token = /Publisher token[^\n]*\n\s+(\S+)/.exec(workers.cli.stdout)?.[1] ?? '';
  assert.notEqual(token, '');

  const streams: EventStream[] = [];
  for (let i = 0; i < 9; i++) {
    streams.push(
      await EventStream.open(t, `${workers.hubUrl}?topic=${encodeURIComponent(TOPIC)}`, {
        'x-request-id': `stream-${i}`,
      }),
    );
  }
  for (let n = 1; n <= 3; n++) {
    const published = await onNewConnection(workers.hubUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'x-request-id': `publish-${n}` },
      body: new URLSearchParams({ topic: TOPIC, data: `update ${n}` }),
    });
    assert.equal(published.status, 200, `publish ${n} is accepted: ${published.body}`);
  }
  for (const stream of streams) {
    const events = await stream.waitForEvents(3);
    assert.deepEqual(
      events.map((event) => event.data),
      ['update 1', 'update 2', 'update 3'],
    );
  }

  // /metrics covers every worker, whichever one the scrape reaches.
  for (let scrape = 0; scrape < 3; scrape++) {
    const { status, body } = await onNewConnection(new URL('/metrics', workers.hubUrl));
    assert.equal(status, 200);
    assert.match(body, /^herald_connections 9$/m, 'the streams of all three workers');
    assert.match(body, /^herald_published_updates_total 3$/m);
    assert.match(body, /^herald_deliveries_total 27$/m);
    // Every worker reads the same shared history: it is counted once, not three times.
    assert.match(body, /^herald_history_updates 3$/m);
    assert.match(body, /^herald_metrics_stale_workers 0$/m, 'every worker answered in time');
  }

  // Every request is logged, with its X-Request-Id, by the process that served it: a stream
  // is logged when it ends, which SIGTERM brings about.
  workers.cli.child.kill('SIGTERM');
  for (const stream of streams) await stream.waitForEnd(10_000);
  assert.equal(await workers.cli.exited, 0);
  const streamPids = streams.map((_, i) => loggedBy(workers.cli.stdout, `stream-${i}`));
  const publishPids = [1, 2, 3].map((n) => loggedBy(workers.cli.stdout, `publish-${n}`));
  for (const pid of [...streamPids, ...publishPids]) {
    assert.ok(pid !== undefined && workers.pids.includes(pid), `served by a worker (${pid})`);
  }
  assert.equal(new Set(streamPids).size, 3, `streams on every worker: ${streamPids.join(' ')}`);
  assert.equal(new Set(publishPids).size, 3, `publishes on every worker: ${publishPids.join(' ')}`);
  assert.match(workers.cli.stdout, /SIGTERM received: stopping 3 workers\./);
  await waitFor(() => workers.pids.every((pid) => !alive(pid)), {
    message: 'every worker to be gone',
  });
});

test('a worker that dies is replaced, and the hub keeps serving', async (t) => {
  const workers = await startWorkers(t, 2);
  const [victim = 0, survivor = 0] = workers.pids;
  process.kill(victim, 'SIGKILL');
  const restarted = (): number | undefined => {
    const pattern = /"msg":"worker listening"/;
    const pids = workers.cli.stdout
      .split('\n')
      .filter((line) => pattern.test(line))
      .map((line) => (JSON.parse(line) as { workerPid: number }).workerPid);
    return pids.find((pid) => !workers.pids.includes(pid));
  };
  await waitFor(() => restarted() !== undefined, { message: 'a new worker' });
  assert.match(workers.cli.stdout, /"signal":"SIGKILL".*"restartInMs":250,"msg":"worker died"/);
  const replacement = restarted() ?? 0;
  assert.equal(parentPid(replacement), workers.cli.child.pid);

  // Both processes serve: streams over fresh connections alternate between them.
  const streams: EventStream[] = [];
  for (let i = 0; i < 4; i++) {
    streams.push(
      await EventStream.open(t, `${workers.hubUrl}?topic=${encodeURIComponent(TOPIC)}`, {
        'x-request-id': `stream-${i}`,
      }),
    );
  }
  const token = await mintPublisherToken();
  const published = await onNewConnection(workers.hubUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: new URLSearchParams({ topic: TOPIC, data: 'after the restart' }),
  });
  assert.equal(published.status, 200);
  for (const stream of streams) {
    assert.equal((await stream.waitForEvents(1))[0]?.data, 'after the restart');
  }

  workers.cli.child.kill('SIGTERM');
  assert.equal(await workers.cli.exited, 0);
  const servedBy = new Set(streams.map((_, i) => loggedBy(workers.cli.stdout, `stream-${i}`)));
  assert.deepEqual([...servedBy].sort(), [replacement, survivor].sort(), 'both served streams');
  await waitFor(() => !alive(survivor) && !alive(replacement), {
    message: 'every worker to be gone',
  });
});

/** Runs `serve --workers 2 …args` expected to fail at start-up; returns what it printed. */
async function failingWorkers(t: TestContext, args: string[], exitCode: number, cause: RegExp) {
  const cli = runCli(t, ['serve', '--workers', '2', '--host', '127.0.0.1', ...args], {
    HERALD_JWT_KEY: KEY,
  });
  assert.equal(await cli.exited, exitCode);
  const said = new RegExp(
    `^herald: workers keep failing at start-up \\(5 times in a row\\); the last one said: .*${cause.source}`,
    'm',
  );
  assert.match(cli.stderr, said);
  assert.doesNotMatch(cli.stdout, /Herald listening/);
  const failed = cli.stdout
    .split('\n')
    .filter((line) => line.includes('"msg":"worker failed to start"'))
    .map(
      (line) =>
        JSON.parse(line) as {
          worker: number;
          workerPid: number;
          error: string;
          restartInMs: number;
        },
    );
  assert.ok(failed.length >= 4, 'each failure is logged');
  for (const entry of failed) assert.match(entry.error, cause);
  // Each slot backs off on its own: 250 ms, then 500 ms, then 1 s…
  for (const slot of [1, 2]) {
    const delays = failed
      .filter((entry) => entry.worker === slot)
      .map((entry) => entry.restartInMs);
    assert.deepEqual(delays, [250, 500, 1000, 2000].slice(0, delays.length), `slot ${slot}`);
  }
  await waitFor(() => failed.every((entry) => !alive(entry.workerPid)), {
    message: 'no worker left',
  });
}

test('workers that cannot bind the port stop the primary with their message', async (t) => {
  const busy = createServer();
  busy.listen(0, '127.0.0.1');
  await once(busy, 'listening');
  t.after(() => {
    busy.close();
  });
  const address = busy.address();
  assert.ok(address !== null && typeof address === 'object');
  const prefix = uniquePrefix('workers');
  t.after(() => deleteKeys(prefix));
  const store = ['--store', REDIS_URL, '--redis-prefix', prefix];
  await failingWorkers(
    t,
    ['--port', String(address.port), ...store],
    1,
    /cannot listen: .*EADDRINUSE/,
  );
});

test('workers that cannot reach Redis stop the primary with their message (exit 2)', async (t) => {
  // Nothing listens on port 1: the store cannot be opened, a configuration to fix.
  const store = ['--store', 'redis://127.0.0.1:1'];
  await failingWorkers(
    t,
    ['--port', '0', ...store],
    2,
    /Cannot use the Redis store redis:\/\/127\.0\.0\.1:1: connect ECONNREFUSED/,
  );
});

function mintPublisherToken(): Promise<string> {
  return mintToken({ key: KEY, algorithm: 'HS256', publish: ['*'] });
}
