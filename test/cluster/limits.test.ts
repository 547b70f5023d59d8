import assert from 'node:assert/strict';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { request } from 'node:http';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { mintToken } from '../../src/auth/mint-token.ts';
import type { RunningCli } from '../support/cli.ts';
import { runCli } from '../support/cli.ts';
import { countKeys, deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { waitFor } from '../support/wait.ts';

/*
 * The stream limit and the publish rate hold for the whole cluster: two nodes of two workers
 * each (`herald serve --workers 2`, real processes), sharing one Redis under one prefix. Every
 * request below goes on a connection of its own, so that node:cluster hands each to the next
 * worker of its node (round-robin): consecutive attempts land on every process.
 */

const KEY = 'cluster-limits-test-key-long-enough-for-hs256';
const TOPIC = 'https://example.com/limits/1';
const LIMIT = 10;
const BURST = 6;

interface Node {
  readonly name: string;
  readonly cli: RunningCli;
  readonly hubUrl: string;
  readonly pids: number[];
}

async function startNode(t: TestContext, name: string, prefix: string): Promise<Node> {
  const cli = runCli(
    t,
    [
      ...['serve', '--workers', '2', '--port', '0', '--host', '127.0.0.1', '--anonymous'],
      ...['--store', REDIS_URL, '--redis-prefix', prefix],
      ...['--max-streams-per-client', String(LIMIT)],
      ...['--publish-rate', '1', '--publish-burst', String(BURST)],
    ],
    { HERALD_JWT_KEY: KEY, HERALD_LOG_LEVEL: 'warn' },
  );
  const hubUrl = await cli.ready;
  const line = /^Workers: 2 processes sharing the port \(pids ([\d, ]+)\)$/m.exec(cli.stdout);
  assert.ok(line?.[1] !== undefined, `the Workers line in:\n${cli.stdout}`);
  const pids = line[1].split(', ').map(Number);
  t.after(() => {
    kill(cli, pids);
  });
  return { name, cli, hubUrl, pids };
}

/** SIGKILL to the primary and each worker, by pid: nothing is released. */
function kill(cli: RunningCli, pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
}

interface Stream {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  /** The answer's body when refused; what arrived so far when open. */
  body: string;
  close(): void;
  readonly closed: Promise<void>;
}

/** GET on a connection of its own; an open stream is kept until `close()`. */
function openStream(t: TestContext, hubUrl: string): Promise<Stream> {
  const url = new URL(hubUrl);
  url.searchParams.set('topic', TOPIC);
  return new Promise((resolve, reject) => {
    const req: ClientRequest = request(url, { agent: false }, (res) => {
      res.setEncoding('utf8');
      const stream: Stream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: '',
        close: () => {
          req.destroy();
        },
        closed: new Promise((done) => {
          res.once('close', () => {
            done();
          });
        }),
      };
      res.on('data', (chunk: string) => {
        stream.body += chunk;
      });
      t.after(() => {
        stream.close();
      });
      if (stream.status === 200) resolve(stream);
      else
        res.once('end', () => {
          resolve(stream);
        });
    });
    req.on('error', reject);
    req.end();
  });
}

function expectTooMany(stream: Stream): void {
  assert.equal(stream.status, 429, stream.body);
  assert.equal(stream.headers['content-type'], 'application/problem+json');
  assert.equal(stream.headers['retry-after'], '10');
  const problem = JSON.parse(stream.body) as Record<string, unknown>;
  assert.equal(problem['code'], 'HERALD_ERR_TOO_MANY_STREAMS');
  assert.equal(problem['status'], 429);
  assert.match(String(problem['detail']), /already has 10 event streams open/);
}

async function publish(
  hubUrl: string,
  token: string,
  data: string,
): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  const body = new URLSearchParams({ topic: TOPIC, data }).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      hubUrl,
      {
        method: 'POST',
        agent: false,
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/x-www-form-urlencoded',
          'Content-Length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test("2 nodes x 2 workers on Redis: the 11th stream of one address is refused wherever it lands, a closed one frees a place, a killed node's places come back within the lease; the publish rate holds across nodes", async (t) => {
  const prefix = uniquePrefix('cluster-limits');
  t.after(async () => {
    await deleteKeys(prefix);
  });
  const a = await startNode(t, 'A', prefix);
  const b = await startNode(t, 'B', prefix);
  const nodes = [a, b];
  const publisher = await mintToken({ key: KEY, algorithm: 'HS256', publish: ['*'] });

  // --- The publish rate: one bucket of 6 (refilled at 1/s) for the publisher, on 4 processes.
  // A watcher stream (1 of the 10 places) sees what was stored.
  const watcher = await openStream(t, a.hubUrl);
  assert.equal(watcher.status, 200);
  const attempts = 20;
  const started = performance.now();
  const outcomes = [];
  for (let i = 0; i < attempts; i++) {
    outcomes.push(await publish(nodes[i % 2]?.hubUrl ?? '', publisher, `p-${i}`));
  }
  const elapsedSeconds = (performance.now() - started) / 1000;
  const acked = outcomes.flatMap((o, i) => (o.status === 200 ? [`p-${i}`] : []));
  const refused = outcomes.filter((o) => o.status === 429);
  assert.equal(acked.length + refused.length, attempts, 'every publish acknowledged or refused');
  // Per process, the 4 processes would have admitted all 20 (4 x 6). The cluster admits the
  // burst and what refilled meanwhile (1 a second, and one more for a refill in progress).
  assert.ok(acked.length >= BURST, `the burst is admitted (${acked.length})`);
  const allowance = BURST + Math.ceil(elapsedSeconds) + 1;
  assert.ok(allowance < attempts, `the run was too slow to tell (${elapsedSeconds} s)`);
  assert.ok(acked.length <= allowance, `${acked.length} admitted, at most ${allowance}`);
  for (const answer of refused) {
    assert.equal(answer.headers['content-type'], 'application/problem+json');
    assert.match(answer.headers['retry-after'] ?? '', /^[1-9][0-9]*$/);
    assert.equal((JSON.parse(answer.body) as { code?: string }).code, 'HERALD_ERR_RATE_LIMITED');
  }
  // Every acknowledged update is delivered and no refused one was stored: a marker published
  // after them all (once the bucket refilled) arrives after exactly the acknowledged ones.
  await waitFor(async () => (await publish(b.hubUrl, publisher, 'marker')).status === 200, {
    message: 'the bucket to refill',
  });
  await waitFor(() => watcher.body.includes('data: marker'), { message: 'the marker' });
  const delivered = [...watcher.body.matchAll(/^data: (p-\d+)$/gm)].map((m) => m[1]);
  assert.deepEqual(delivered, acked);
  watcher.close();
  await watcher.closed;

  // --- Streams: 10 places for 127.0.0.1 across the 4 processes.
  const open: { node: Node; stream: Stream }[] = [];
  // The watcher's place is released in the background: take all 10 once it is back.
  await waitFor(
    async () => {
      const node = nodes[open.length % 2] ?? a;
      const stream = await openStream(t, node.hubUrl);
      if (stream.status === 200) open.push({ node, stream });
      else expectTooMany(stream);
      return open.length === LIMIT;
    },
    { message: '10 streams admitted' },
  );
  for (const node of nodes) {
    // Four tries per node: both of its workers, twice.
    for (let i = 0; i < 4; i++) expectTooMany(await openStream(t, node.hubUrl));
  }
  // The open ones still deliver: a marker reaches all 10 (once the publish bucket has a token).
  await waitFor(async () => (await publish(a.hubUrl, publisher, 'while-full')).status === 200, {
    message: 'the bucket to refill',
  });
  for (const { stream } of open) {
    await waitFor(() => stream.body.includes('data: while-full'), {
      message: 'the marker on every stream',
    });
  }

  // Closing one on A frees one place, taken on B; then none again, anywhere.
  const closed = open.find(({ node }) => node === a);
  assert.ok(closed !== undefined);
  closed.stream.close();
  open.splice(open.indexOf(closed), 1);
  await waitFor(
    async () => {
      const stream = await openStream(t, b.hubUrl);
      if (stream.status === 200) open.push({ node: b, stream });
      return stream.status === 200;
    },
    { message: 'the freed place' },
  );
  for (const node of nodes) {
    for (let i = 0; i < 4; i++) expectTooMany(await openStream(t, node.hubUrl));
  }

  // Node B is killed (primary and workers, SIGKILL): its streams are never released, and its
  // places come back once its processes' leases ran out (15 s), on A, and no more than those.
  const onB = open.filter(({ node }) => node === b).length;
  assert.ok(onB > 0);
  kill(b.cli, b.pids);
  await b.cli.exited;
  let reopened = 0;
  await waitFor(
    async () => {
      const stream = await openStream(t, a.hubUrl);
      if (stream.status === 200) reopened++;
      else expectTooMany(stream);
      return reopened === onB;
    },
    { message: `${onB} places of the killed node`, timeout: 60_000 },
  );
  for (let i = 0; i < 4; i++) expectTooMany(await openStream(t, a.hubUrl));

  kill(a.cli, a.pids);
  await a.cli.exited;
  // Once the leases of A's processes ran out too, their keys expire: nothing leaks.
  await waitFor(async () => (await countKeys(`${prefix}limits:streams:`)) === 0, {
    message: 'keys to expire',
  });
});
