/**
 * What the cluster-wide limits cost on the Redis store: two `herald serve` processes on the
 * same Redis, one with the stream limit and the publish rate on (each publish and each stream
 * admission/release is one more script in Redis), one with both off, measured alternately in
 * the same run. Reports each hub's CPU time (utime+stime) per acknowledged publish and per
 * stream opened and closed: on a loaded machine the rates follow the neighbours' load, while
 * CPU per operation stays comparable. A benchmark, not a test.
 *
 *   npm run build && node --import tsx bench/shared-limits-cost.ts
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { mintToken } from '../src/auth/mint-token.ts';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const REDIS_URL = process.env['HERALD_BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const KEY = 'benchmark-key-that-is-at-least-32-bytes-long';
const PUBLISHERS = 16;
const ROUND_SECONDS = 5;
const ROUNDS = 3;
const STREAMS_PER_ROUND = 1000;
const PREFIX = `herald-bench:limits:${randomBytes(4).toString('hex')}:`;

interface Hub {
  readonly name: string;
  readonly child: ChildProcess;
  readonly url: string;
}

/** The process's CPU time so far, in ms (utime + stime, in clock ticks of 10 ms). */
function cpuMs(pid: number | undefined): number {
  const stat = readFileSync(`/proc/${pid ?? 0}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function start(name: string, limits: string[]): Promise<Hub> {
  const child = spawn(
    process.execPath,
    [
      ...[CLI, 'serve', '--port', '0', '--host', '127.0.0.1', '--history-size', '1000'],
      ...['--store', REDIS_URL, '--redis-prefix', `${PREFIX}${name}:`, ...limits],
    ],
    {
      env: { PATH: process.env['PATH'] ?? '', HERALD_JWT_KEY: KEY, HERALD_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  const url = await new Promise<string>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Herald listening on (\S+)/.exec(out);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
  });
  return { name, child, url };
}

const token = await mintToken({ key: KEY, algorithm: 'HS256', publish: ['*'] });
const agent = new Agent({ connections: PUBLISHERS });

async function publishRound(hub: Hub): Promise<{ acks: number; cpu: number }> {
  const before = cpuMs(hub.child.pid);
  const end = Date.now() + ROUND_SECONDS * 1000;
  let acks = 0;
  await Promise.all(
    Array.from({ length: PUBLISHERS }, async () => {
      while (Date.now() < end) {
        const response = await request(hub.url, {
          method: 'POST',
          dispatcher: agent,
          headers: {
            Authorization: `Bearer ${token}`,
            'Content-Type': 'application/x-www-form-urlencoded',
          },
          body: 'topic=https%3A%2F%2Fexample.com%2Fa&data=x',
        });
        await response.body.text();
        if (response.statusCode === 200) acks++;
      }
    }),
  );
  return { acks, cpu: cpuMs(hub.child.pid) - before };
}

async function streamRound(hub: Hub): Promise<{ streams: number; cpu: number }> {
  const before = cpuMs(hub.child.pid);
  const url = new URL(hub.url);
  url.searchParams.set('topic', 'https://example.com/a');
  for (let i = 0; i < STREAMS_PER_ROUND; i++) {
    const abort = new AbortController();
    const response = await request(url, {
      dispatcher: agent,
      signal: abort.signal,
      headers: { Authorization: `Bearer ${token}` },
    });
    if (response.statusCode !== 200) throw new Error(`subscribe answered ${response.statusCode}`);
    response.body.on('error', () => undefined);
    abort.abort();
  }
  return { streams: STREAMS_PER_ROUND, cpu: cpuMs(hub.child.pid) - before };
}

const hubs = [
  await start('limits-on', [
    ...['--publish-rate', '1000000', '--publish-burst', '10000000'],
    ...['--max-streams-per-client', '1000000'],
  ]),
  await start('limits-off', ['--publish-rate', '0', '--max-streams-per-client', '0']),
];
const totals = new Map(hubs.map((hub) => [hub.name, { acks: 0, pcpu: 0, streams: 0, scpu: 0 }]));
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const hub of round % 2 === 0 ? hubs : [...hubs].reverse()) {
      const { acks, cpu } = await publishRound(hub);
      const total = totals.get(hub.name);
      if (total !== undefined) [total.acks, total.pcpu] = [total.acks + acks, total.pcpu + cpu];
    }
  }
  for (let round = 0; round < 2; round++) {
    for (const hub of round % 2 === 0 ? hubs : [...hubs].reverse()) {
      const { streams, cpu } = await streamRound(hub);
      const total = totals.get(hub.name);
      if (total !== undefined) {
        [total.streams, total.scpu] = [total.streams + streams, total.scpu + cpu];
      }
    }
  }
  const seconds = ROUNDS * ROUND_SECONDS;
  for (const [name, t] of totals) {
    console.log(
      `${name}: ${Math.round(t.acks / seconds)} publishes/s, ${((1000 * t.pcpu) / t.acks).toFixed(0)} µs CPU per publish; ` +
        `${((1000 * t.scpu) / t.streams).toFixed(0)} µs CPU per stream opened and closed (${t.streams})`,
    );
  }
} finally {
  for (const hub of hubs) hub.child.kill('SIGKILL');
  await agent.close();
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}
