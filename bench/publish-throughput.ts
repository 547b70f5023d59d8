/**
 * Publish throughput and acknowledged-publish latency, memory store vs SQLite store vs Redis store
 * (the machine's Redis at 127.0.0.1:6379, a fresh key prefix per run), with 1 and with 64
 * concurrent publishers. Each hub runs as its own `herald serve` process (pinned to CPU 0
 * when taskset exists); this load client runs on CPU 1. A benchmark, not a test: it reports
 * figures and ratios measured in the same run.
 *
 *   npm run bench:publish [-- --seconds 10 --rounds 3 --store memory --store redis]
 *
 * `--hub NAME=PATH` (repeatable) compares builds in the same run: each store is measured on each
 * hub's CLI in turn (PATH is another checkout's dist/cli/main.js), and the figures are labelled
 * `store/NAME`. Issue 13 compared the SQLite store on node:sqlite and on better-sqlite3 13 so.
 *
 * Besides throughput, each hub's CPU time (utime+stime) per acknowledged publish: on a loaded
 * machine the rates follow the neighbours' load, while CPU per publish stays comparable.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { mintToken } from '../src/auth/mint-token.ts';
import { cpuSeconds } from './support/proc.ts';
import { startProcess } from './support/process.ts';
import { percentile } from './support/stats.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
    concurrency: { type: 'string', multiple: true, default: ['1', '64'] },
    store: { type: 'string', multiple: true, default: ['memory', 'sqlite', 'redis'] },
    'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
    hub: { type: 'string', multiple: true, default: [] },
  },
});
/** The builds compared: `undefined` is this checkout's dist/. */
const HUBS: { name: string | undefined; cli: string | undefined }[] =
  values.hub.length === 0
    ? [{ name: undefined, cli: undefined }]
    : values.hub.map((entry) => {
        const [name = '', cli = ''] = entry.split('=', 2);
        if (name === '' || cli === '') throw new Error(`--hub ${entry}: expected NAME=PATH`);
        return { name, cli };
      });
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = values.concurrency.map(Number);
/** Each measured configuration: a store, on one hub build. */
const STORES = values.store.flatMap((store) =>
  HUBS.map((hub) => ({
    store,
    ...hub,
    label: hub.name === undefined ? store : `${store}/${hub.name}`,
  })),
);
const REDIS_URL = values['redis-url'];
const KEY = 'benchmark-key-that-is-at-least-32-bytes-long';
const TOPIC = 'https://example.com/bench';

interface Result {
  store: string;
  concurrency: number;
  round: number;
  publishes: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** `/healthz` answered during the load: how long the hub's event loop kept others waiting. */
  healthP99: number;
  healthMax: number;
  /** The hub's CPU time (user + system) per acknowledged publish, in microseconds. */
  cpuMicrosPerPublish: number;
}

async function load(
  hubUrl: string,
  concurrency: number,
): Promise<Omit<Result, 'store' | 'round' | 'cpuMicrosPerPublish'>> {
  const token = await mintToken({ key: KEY, algorithm: 'HS256', publish: ['*'] });
  const url = new URL(hubUrl);
  const pool = new Pool(url.origin, { connections: concurrency, pipelining: 1 });
  const latencies: number[] = [];
  const body = `topic=${encodeURIComponent(TOPIC)}&data=${'x'.repeat(120)}`;
  const deadline = performance.now() + SECONDS * 1000;
  const workers = Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) {
      const started = performance.now();
      const response = await pool.request({
        path: url.pathname,
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body,
      });
      await response.body.text();
      if (response.statusCode !== 200) throw new Error(`publish answered ${response.statusCode}`);
      latencies.push(performance.now() - started);
    }
  });
  // Beside the publishers, one client asks /healthz over and over: an answer can only be as quick
  // as the hub's event loop is free, so a store that blocks the loop (a sync inside COMMIT) shows
  // here even when throughput does not.
  const probePool = new Pool(url.origin, { connections: 1 });
  const health: number[] = [];
  const probe = (async () => {
    while (performance.now() < deadline) {
      const started = performance.now();
      const response = await probePool.request({ path: '/healthz', method: 'GET' });
      await response.body.text();
      health.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  const began = performance.now();
  await Promise.all([...workers, probe]);
  const elapsed = (performance.now() - began) / 1000;
  await Promise.all([pool.close(), probePool.close()]);
  latencies.sort((a, b) => a - b);
  health.sort((a, b) => a - b);
  return {
    concurrency,
    publishes: latencies.length,
    perSecond: latencies.length / elapsed,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    healthP99: percentile(health, 0.99),
    healthMax: health.at(-1) ?? 0,
  };
}

async function main(): Promise<void> {
  const results: Result[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const { store, cli, label } of STORES) {
        for (const concurrency of CONCURRENCY) {
          const prefix = `herald-bench:${process.pid}:r${round}-c${concurrency}:`;
          const storeArgs =
            store === 'memory'
              ? ['--store', 'memory']
              : store === 'redis'
                ? ['--store', REDIS_URL, '--redis-prefix', prefix]
                : ['--store', `sqlite:${join(scratch, `r${round}-c${concurrency}.db`)}`];
          const hub = await startProcess(
            // One token publishes flat out: the per-publisher rate limit would cap the figure.
            ['serve', '--port', '0', '--host', '127.0.0.1', ...storeArgs, '--publish-rate', '0'],
            { HERALD_JWT_KEY: KEY },
            '0',
            cli,
          );
          try {
            const cpuBefore = cpuSeconds(hub.pid);
            const measured = await load(hub.url, concurrency);
            const cpuMicrosPerPublish =
              ((cpuSeconds(hub.pid) - cpuBefore) * 1e6) / Math.max(1, measured.publishes);
            const result = { ...measured, cpuMicrosPerPublish };
            results.push({ store: label, round, ...result });
            console.error(
              `round ${round} ${label} c=${concurrency}: ${result.perSecond.toFixed(0)}/s p50 ${result.p50.toFixed(2)} ms p99 ${result.p99.toFixed(2)} ms; /healthz p99 ${result.healthP99.toFixed(2)} ms max ${result.healthMax.toFixed(2)} ms; ${cpuMicrosPerPublish.toFixed(0)} µs CPU per publish`,
            );
          } finally {
            await hub.stop();
            if (store === 'redis') await deleteRedisKeys(prefix);
          }
        }
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(JSON.stringify(results, null, 2));
  const labels = STORES.map((entry) => entry.label);
  const [base = 'memory', ...others] = labels;
  console.log(
    `\n| round | concurrency | ${labels.map((store) => `${store} publishes/s`).join(' | ')} | ${others.map((store) => `${store} ÷ ${base}`).join(' | ')} | ${labels.map((store) => `${store} p50 / p99 ms`).join(' | ')} | ${labels.map((store) => `${store} /healthz p99 / max ms`).join(' | ')} | ${labels.map((store) => `${store} CPU µs per publish`).join(' | ')} |`,
  );
  console.log(`|${' --- |'.repeat(2 + labels.length * 4 + others.length)}`);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const concurrency of CONCURRENCY) {
      const row = labels.map((store) =>
        results.find(
          (r) => r.round === round && r.store === store && r.concurrency === concurrency,
        ),
      );
      if (row.some((result) => result === undefined)) continue;
      const [first] = row;
      console.log(
        `| ${round} | ${concurrency} | ${row.map((r) => (r?.perSecond ?? 0).toFixed(0)).join(' | ')} | ${row
          .slice(1)
          .map((r) => ((r?.perSecond ?? 0) / (first?.perSecond ?? 1)).toFixed(2))
          .join(
            ' | ',
          )} | ${row.map((r) => `${(r?.p50 ?? 0).toFixed(2)} / ${(r?.p99 ?? 0).toFixed(2)}`).join(' | ')} | ${row.map((r) => `${(r?.healthP99 ?? 0).toFixed(1)} / ${(r?.healthMax ?? 0).toFixed(1)}`).join(' | ')} | ${row.map((r) => (r?.cpuMicrosPerPublish ?? 0).toFixed(0)).join(' | ')} |`,
      );
    }
  }
}

/** Removes the keys one Redis run left (SCAN + UNLINK under its prefix). */
async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

await main();
