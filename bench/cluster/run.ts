/**
 * Cluster benchmark: N `herald serve` nodes sharing Redis, against one node on the memory
 * store and one node on the Redis store, under the same load in the same run. Subscribers are
 * spread over the nodes; latency is measured with one clock (a timestamp in the payload, all
 * processes on this machine). All Herald nodes share CPU 0; this load client (publisher and
 * subscriber workers) runs on CPU 1 when started with taskset, as `npm run bench:cluster` does.
 *
 *   npm run bench:cluster -- --nodes 3 --subscribers 300 --seconds 4
 *
 * With `--topologies single,sentinel,cluster` it measures instead N nodes on each of those
 * Redis deployments, started by the benchmark for the configuration and stopped after it (see
 * redis-topologies.ts): one redis-server, a master + replica behind three Sentinels, a
 * three-master Redis Cluster. Ratios are against the first one listed. `--min-replicas N`
 * passes `--redis-min-replicas N` to the configurations that have replicas.
 *
 *   npm run bench:cluster -- --topologies single,sentinel,cluster --rounds 2
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { mintToken } from '../../src/auth/mint-token.ts';
import { cpuSeconds } from '../support/proc.ts';
import type { HubProcess } from '../support/process.ts';
import { startProcess } from '../support/process.ts';
import { percentile } from '../support/stats.ts';
import type { RunningTopology, Topology } from './redis-topologies.ts';
import { startTopology, TOPOLOGIES } from './redis-topologies.ts';
import type { ClusterResult, Latency } from './report.ts';
import { renderMarkdown } from './report.ts';
import type { SubscriberWorker } from './subscribers.ts';
import { histogramPercentile, mergeHistograms, startSubscriberWorker } from './subscribers.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    subscribers: { type: 'string', default: '300' },
    paced: { type: 'string', default: '200' },
    'interval-ms': { type: 'string', default: '10' },
    seconds: { type: 'string', default: '4' },
    publishers: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '1' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    topologies: { type: 'string', default: '' },
    'min-replicas': { type: 'string', default: '0' },
    out: { type: 'string', default: '.bench' },
  },
});
const NODES = Number(values.nodes);
const SUBSCRIBERS = Number(values.subscribers);
const PACED = Number(values.paced);
const INTERVAL_MS = Number(values['interval-ms']);
const SECONDS = Number(values.seconds);
const PUBLISHERS = Number(values.publishers);
const ROUNDS = Number(values.rounds);
const REDIS_URL = values.redis;
const MIN_REPLICAS = Number(values['min-replicas']);
const CHOSEN = values.topologies === '' ? [] : values.topologies.split(',');
for (const name of CHOSEN) {
  if (!(TOPOLOGIES as readonly string[]).includes(name)) {
    throw new Error(`--topologies takes ${TOPOLOGIES.join(', ')}; got "${name}"`);
  }
}

const KEY = 'cluster-benchmark-key-at-least-32-bytes-long';
const PAD = 'x'.repeat(80); // payloads of about 130 bytes, as in the fan-out benchmark
const SUBSCRIBE_PATH = '/.well-known/mercure?topic=bench';
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Configuration {
  readonly name: string;
  /** `redis`: the machine's Redis at --redis; a topology: one of the benchmark's own. */
  readonly store: 'memory' | 'redis' | Topology;
  readonly nodes: number;
}

const replicasNote = MIN_REPLICAS > 0 ? `, --redis-min-replicas ${MIN_REPLICAS}` : '';
const CONFIGURATIONS: readonly Configuration[] =
  CHOSEN.length === 0
    ? [
        { name: 'memory, 1 node', store: 'memory', nodes: 1 },
        { name: 'redis, 1 node', store: 'redis', nodes: 1 },
        { name: `redis, ${NODES} nodes`, store: 'redis', nodes: NODES },
      ]
    : (CHOSEN as Topology[]).map((topology) => ({
        name: `${topology}, ${NODES} nodes${topology === 'single' ? '' : replicasNote}`,
        store: topology,
        nodes: NODES,
      }));

function payload(seq: number): string {
  return `{"seq":${seq},"t":${now().toFixed(3)},"pad":"${PAD}"}`;
}

/** Every node's publish connection pool, with the publisher token. */
function publishers(nodes: readonly HubProcess[], token: string, connections: number) {
  const pools = nodes.map((node) => {
    const url = new URL(node.url);
    return { pool: new Pool(url.origin, { connections }), path: url.pathname };
  });
  return {
    async publish(node: number, seq: number): Promise<void> {
      const target = pools[node % pools.length];
      if (target === undefined) throw new Error('no node');
      const response = await target.pool.request({
        method: 'POST',
        path: target.path,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: `topic=bench&data=${encodeURIComponent(payload(seq))}`,
      });
      await response.body.text();
      if (response.statusCode !== 200) throw new Error(`publish answered ${response.statusCode}`);
    },
    close: () => Promise.all(pools.map(({ pool }) => pool.close())),
  };
}

/** Waits until the workers counted `expected` deliveries, or `timeoutMs` passed. */
async function settle(workers: readonly SubscriberWorker[], expected: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let total = 0;
  while (Date.now() < deadline) {
    total = (await Promise.all(workers.map((w) => w.deliveries()))).reduce((a, b) => a + b, 0);
    if (total >= expected) break;
    await sleep(100);
  }
  return total;
}

function latencyOf(histogram: readonly number[]): Latency {
  return {
    p50: histogramPercentile(histogram, 0.5),
    p99: histogramPercentile(histogram, 0.99),
    p999: histogramPercentile(histogram, 0.999),
    deliveries: histogram.reduce((a, b) => a + b, 0),
  };
}

async function scanPrefix(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  return keys;
}

async function measure(configuration: Configuration, redis: Redis): Promise<ClusterResult> {
  const prefix = `herald-bench:cluster:${process.pid}:${randomBytes(6).toString('hex')}:`;
  let topology: RunningTopology | undefined;
  let storeArgs: string[];
  if (configuration.store === 'memory') {
    storeArgs = ['--store', 'memory'];
  } else if (configuration.store === 'redis') {
    storeArgs = ['--store', REDIS_URL, '--redis-prefix', prefix];
  } else {
    topology = await startTopology(configuration.store);
    const replicas =
      configuration.store !== 'single' && MIN_REPLICAS > 0
        ? ['--redis-min-replicas', String(MIN_REPLICAS)]
        : [];
    storeArgs = ['--store', topology.url, '--redis-prefix', prefix, ...replicas];
  }
  // Taken once the Redis processes are up, as the Herald nodes start.
  const loadAverage = loadavg()[0] ?? Number.NaN;
  const nodes: HubProcess[] = [];
  const workers: SubscriberWorker[] = [];
  const token = await mintToken({ key: KEY, algorithm: 'HS256', publish: ['bench'] });
  let pub: ReturnType<typeof publishers> | undefined;
  try {
    for (let i = 0; i < configuration.nodes; i++) {
      nodes.push(
        await startProcess(
          [
            'serve',
            '--port',
            '0',
            '--host',
            '127.0.0.1',
            ...storeArgs,
            '--anonymous',
            '--history-size',
            '10000',
            '--max-unsent-bytes',
            '4194304',
            // Thousands of streams from 127.0.0.1, publishers flat out: the benchmark measures
            // delivery, not the abuse limits.
            '--max-streams-per-client',
            '0',
            '--publish-rate',
            '0',
          ],
          // Request logs at info would log every publish; a benchmark measures delivery.
          { HERALD_JWT_KEY: KEY, HERALD_LOG_LEVEL: 'warn' },
          '0',
        ),
      );
    }
    const publisher = (pub = publishers(nodes, token, PUBLISHERS));
    // As many worker processes in every configuration (one per node of the largest), so that
    // the client side costs the same; worker i subscribes on node i mod nodes.
    const perWorker = Math.ceil(SUBSCRIBERS / NODES);
    for (let w = 0; w < NODES; w++) {
      const node = w % configuration.nodes;
      const port = Number(new URL(nodes[node]?.url ?? '').port);
      workers.push(
        await startSubscriberWorker(node, {
          host: '127.0.0.1',
          port,
          path: SUBSCRIBE_PATH,
          headers: {},
          count: Math.min(perWorker, SUBSCRIBERS - w * perWorker),
          sourceAddresses: ['127.0.0.1'],
        }),
      );
    }
    const held = workers.reduce((sum, w) => sum + w.held, 0);
    await sleep(500);

    // Paced: one publish at a time on node A, each after the previous was acknowledged.
    let seq = 1_000;
    await Promise.all(workers.map((w) => w.reset(seq)));
    for (let i = 0; i < PACED; i++) {
      await publisher.publish(0, seq++);
      await sleep(INTERVAL_MS);
    }
    await settle(workers, held * PACED, 20_000);
    const pacedReports = await Promise.all(workers.map((w) => w.report(PACED)));
    const onA = pacedReports.filter((_, i) => workers[i]?.node === 0);
    const elsewhere = pacedReports.filter((_, i) => workers[i]?.node !== 0);

    // Load: concurrent publishers, each sending to the nodes in turn, back to back.
    seq = 1_000_000;
    await Promise.all(workers.map((w) => w.reset(seq)));
    const pids = nodes.map((node) => node.pid);
    const redisPids =
      topology !== undefined
        ? topology.serverPids()
        : configuration.store === 'redis'
          ? [await redisProcessId(redis)].filter((pid) => pid !== undefined)
          : [];
    const redisCpu = () => redisPids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    const cpuBefore = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    const redisBefore = redisCpu();
    const acks: number[] = [];
    const started = performance.now();
    const deadline = started + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: PUBLISHERS }, async (_, p) => {
        for (let k = p; performance.now() < deadline; k++) {
          const sent = performance.now();
          await publisher.publish(k, seq++);
          acks.push(performance.now() - sent);
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const counted = await settle(workers, held * acks.length, 30_000);
    const cpuAfter = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    const redisAfter = redisCpu();
    const loadReports = await Promise.all(workers.map((w) => w.report(0)));
    acks.sort((x, y) => x - y);

    return {
      configuration: configuration.name,
      store: configuration.store,
      nodes: configuration.nodes,
      loadAverage,
      held,
      paced: {
        events: PACED,
        sameNode: latencyOf(mergeHistograms(onA)),
        crossNode: elsewhere.length === 0 ? undefined : latencyOf(mergeHistograms(elsewhere)),
        complete: pacedReports.reduce((sum, r) => sum + r.complete, 0) / Math.max(1, held),
      },
      load: {
        publishers: PUBLISHERS,
        seconds: elapsed,
        acked: acks.length,
        ackedPerSecond: acks.length / elapsed,
        ackP50: percentile(acks, 0.5),
        ackP99: percentile(acks, 0.99),
        delivery: latencyOf(mergeHistograms(loadReports)),
        delivered: counted / Math.max(1, held * acks.length),
        heraldCpuMicrosPerPublish: ((cpuAfter - cpuBefore) * 1e6) / Math.max(1, acks.length),
        redisCpuMicrosPerPublish:
          redisPids.length === 0
            ? undefined
            : ((redisAfter - redisBefore) * 1e6) / Math.max(1, acks.length),
      },
    };
  } finally {
    await pub?.close();
    await Promise.all(workers.map((w) => w.stop()));
    await Promise.all(nodes.map((node) => node.stop()));
    await topology?.stop();
    if (configuration.store === 'redis') {
      const keys = await scanPrefix(redis, prefix);
      if (keys.length > 0) await redis.unlink(...keys);
    }
  }
}

async function redisProcessId(redis: Redis): Promise<number | undefined> {
  const info = await redis.info('server');
  const pid = /process_id:(\d+)/.exec(info)?.[1];
  return pid === undefined ? undefined : Number(pid);
}

const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
await redis.connect();
const results: ClusterResult[] = [];
const tables: string[] = [];
try {
  for (let round = 1; round <= ROUNDS; round++) {
    const roundResults: ClusterResult[] = [];
    for (const configuration of CONFIGURATIONS) {
      console.error(`round ${round}: ${configuration.name}…`);
      const result = await measure(configuration, redis);
      console.error(JSON.stringify(result));
      roundResults.push(result);
    }
    results.push(...roundResults);
    tables.push(`Round ${round}\n\n${renderMarkdown(roundResults)}`);
  }
} finally {
  redis.disconnect();
}
mkdirSync(values.out, { recursive: true });
const stamp = new Date().toISOString().replaceAll(':', '-').slice(0, 19);
writeFileSync(`${values.out}/cluster-${stamp}.json`, JSON.stringify(results, null, 2));
console.log(tables.join('\n\n'));
console.log(`\nJSON in ${values.out}/cluster-${stamp}.json`);
