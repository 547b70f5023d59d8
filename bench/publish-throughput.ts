/**
 * Publish throughput and acknowledged-publish latency, memory store vs SQLite store, with 1 and
 * with 64 concurrent publishers. Each hub runs as its own `herald serve` process (pinned to CPU 0
 * when taskset exists); this load client runs on CPU 1. A benchmark, not a test: it reports
 * figures and ratios measured in the same run.
 *
 *   npm run bench:publish [-- --seconds 10 --rounds 3]
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { mintToken } from '../src/auth/mint-token.ts';
import { startProcess } from './support/process.ts';
import { percentile } from './support/stats.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
    concurrency: { type: 'string', multiple: true, default: ['1', '64'] },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = values.concurrency.map(Number);
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
}

async function load(hubUrl: string, concurrency: number): Promise<Omit<Result, 'store' | 'round'>> {
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
  const began = performance.now();
  await Promise.all(workers);
  const elapsed = (performance.now() - began) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    publishes: latencies.length,
    perSecond: latencies.length / elapsed,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
}

async function main(): Promise<void> {
  const results: Result[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const store of ['memory', 'sqlite']) {
        for (const concurrency of CONCURRENCY) {
          const storeArg =
            store === 'memory'
              ? 'memory'
              : `sqlite:${join(scratch, `r${round}-c${concurrency}.db`)}`;
          const hub = await startProcess(
            ['serve', '--port', '0', '--host', '127.0.0.1', '--store', storeArg],
            { HERALD_JWT_KEY: KEY },
            '0',
          );
          try {
            const result = await load(hub.url, concurrency);
            results.push({ store, round, ...result });
            console.error(
              `round ${round} ${store} c=${concurrency}: ${result.perSecond.toFixed(0)}/s p50 ${result.p50.toFixed(2)} ms p99 ${result.p99.toFixed(2)} ms`,
            );
          } finally {
            await hub.stop();
          }
        }
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(JSON.stringify(results, null, 2));
  console.log(
    '\n| round | concurrency | memory publishes/s | SQLite publishes/s | SQLite ÷ memory | memory p50 / p99 ms | SQLite p50 / p99 ms |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (let round = 1; round <= ROUNDS; round++) {
    for (const concurrency of CONCURRENCY) {
      const memory = results.find(
        (r) => r.round === round && r.store === 'memory' && r.concurrency === concurrency,
      );
      const sqlite = results.find(
        (r) => r.round === round && r.store === 'sqlite' && r.concurrency === concurrency,
      );
      if (memory === undefined || sqlite === undefined) continue;
      console.log(
        `| ${round} | ${concurrency} | ${memory.perSecond.toFixed(0)} | ${sqlite.perSecond.toFixed(0)} | ${(sqlite.perSecond / memory.perSecond).toFixed(2)} | ${memory.p50.toFixed(2)} / ${memory.p99.toFixed(2)} | ${sqlite.p50.toFixed(2)} / ${sqlite.p99.toFixed(2)} |`,
      );
    }
  }
}

await main();
