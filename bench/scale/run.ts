/**
 * Scale benchmark: S concurrent subscribers (default 100,000) held by one `herald serve
 * --workers N` on the Redis store, every one of them receiving a few broadcasts.
 *
 * One process may hold at most `ulimit -n` descriptors (20,000 here), so the hub runs several
 * workers and the load comes from several client processes (bench/fanout/subscriber-worker.ts),
 * each connecting from its own 127.x.y.z source addresses: the ephemeral ports (32768-60999)
 * are per source address and destination, and a fresh set per run avoids the TIME_WAIT left by
 * the one before. Nothing is pinned: the hub and the clients share the machine's two cores.
 *
 *   npm run bench:scale -- --subscribers 100000 --workers 8 --clients 10
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { mintToken } from '../../src/auth/mint-token.ts';
import { rssBytes } from '../support/proc.ts';
import type { HubProcess } from '../support/process.ts';
import { startProcess } from '../support/process.ts';
import { percentile } from '../support/stats.ts';
import type { ClientCount, LoadClient } from './clients.ts';
import { startLoadClient } from './clients.ts';
import type { ScaleResult } from './report.ts';
import { renderMarkdown } from './report.ts';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '100000' },
    workers: { type: 'string', default: '8' },
    clients: { type: 'string', default: '10' },
    /** New connections per second, all clients together. */
    rate: { type: 'string', default: '2000' },
    broadcasts: { type: 'string', default: '5' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    out: { type: 'string', default: '.bench' },
  },
});
const SUBSCRIBERS = Number(values.subscribers);
const WORKERS = Number(values.workers);
const CLIENTS = Number(values.clients);
const RATE = Number(values.rate);
const BROADCASTS = Number(values.broadcasts);
const REDIS_URL = values.redis;

const KEY = 'scale-benchmark-key-at-least-32-bytes-long';
const PAD = 'x'.repeat(80); // payloads of about 130 bytes, as in the fan-out benchmark
const SUBSCRIBE_PATH = '/.well-known/mercure?topic=bench';
/** Connections per source address: well inside the 28,233 ephemeral ports of each. */
const PER_SOURCE_ADDRESS = 8_000;
/** Descriptors one process may hold, less some for its own files, pipes and Redis. */
const FD_BUDGET = 19_000;
const FIRST_SEQ = 1_000;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (text: string) => {
  console.error(`[scale ${new Date().toISOString().slice(11, 19)}] ${text}`);
};
const load1 = () => loadavg()[0] ?? Number.NaN;

function payload(seq: number): string {
  return `{"seq":${seq},"t":${now().toFixed(3)},"pad":"${PAD}"}`;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`${what}: no answer in ${ms} ms`));
      }, ms);
    }),
  ]).finally(() => {
    clearTimeout(timer);
  });
}

async function counts(clients: readonly LoadClient[]): Promise<ClientCount> {
  const all = await Promise.all(clients.map((c) => withTimeout(c.count(), 30_000, 'count')));
  return {
    connected: all.reduce((sum, c) => sum + c.connected, 0),
    closed: all.reduce((sum, c) => sum + c.closed, 0),
    deliveries: all.reduce((sum, c) => sum + c.deliveries, 0),
  };
}

/**
 * `herald_connections` from /metrics: the primary gathers every worker's figure. NaN when the
 * answer lacks it (on a saturated machine the primary's gathering can time out): the clients'
 * count still stands, and the run goes on.
 */
async function serverConnections(origin: string): Promise<number> {
  try {
    const response = await fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(20_000) });
    const text = await response.text();
    const match = /^herald_connections(?:\{[^}]*\})? (\d+)/m.exec(text);
    if (match?.[1] === undefined) {
      log(`/metrics answered ${response.status} without herald_connections`);
      return Number.NaN;
    }
    return Number(match[1]);
  } catch (error) {
    log(`/metrics: ${(error as Error).message}`);
    return Number.NaN;
  }
}

async function removeKeys(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  let removed = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) removed += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return removed;
}

function checkBudget(): void {
  const perWorker = Math.ceil(SUBSCRIBERS / WORKERS);
  const perClient = Math.ceil(SUBSCRIBERS / CLIENTS);
  if (perWorker > FD_BUDGET || perClient > FD_BUDGET) {
    throw new Error(
      `${perWorker} streams per worker and ${perClient} per client: each must stay under ${FD_BUDGET} (ulimit -n is 20000); add --workers or --clients`,
    );
  }
}

async function run(): Promise<ScaleResult> {
  checkBudget();
  const prefix = `herald-scale-${randomBytes(4).toString('hex')}:`;
  // A fresh 127.A.x.y block per run: the previous run's sockets linger in TIME_WAIT for 60 s.
  const block = 10 + ((randomBytes(1)[0] ?? 0) % 240);
  const clients: LoadClient[] = [];
  let hub: HubProcess | undefined;
  const stopAll = async () => {
    await Promise.all(clients.map((c) => c.stop(15_000)));
    if (hub !== undefined) {
      const pid = hub.pid;
      // The primary stops its workers gracefully; SIGKILL by pid only if it hangs.
      const timer = setTimeout(() => process.kill(pid, 'SIGKILL'), 30_000);
      await hub.stop();
      clearTimeout(timer);
    }
    log(`removed ${await removeKeys(prefix)} Redis keys under ${prefix}`);
  };
  const onSignal = () => {
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const loadBefore = load1();
    hub = await startProcess(
      [
        'serve',
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--workers',
        String(WORKERS),
        '--store',
        REDIS_URL,
        '--redis-prefix',
        prefix,
        '--anonymous',
        // Every subscriber comes from a few loopback addresses, and the publishes from one
        // token: this measures how many the hub holds, not the abuse limits.
        '--max-streams-per-client',
        '0',
        '--publish-rate',
        '0',
      ],
      { HERALD_JWT_KEY: KEY, HERALD_LOG_LEVEL: 'warn' },
      '0-1',
    );
    const hubUrl = new URL(hub.url);
    log(`hub ${hub.url} (primary pid ${hub.pid}, ${WORKERS} workers, prefix ${prefix})`);
    await sleep(1_000);
    const rssBefore = rssBytes(hub.pid);

    // Ramp up: every client gets its share of the rate and its own source addresses.
    const rampStart = Date.now();
    for (let c = 0; c < CLIENTS; c++) {
      const count = Math.floor(SUBSCRIBERS / CLIENTS) + (c < SUBSCRIBERS % CLIENTS ? 1 : 0);
      const addresses = Math.max(1, Math.ceil(count / PER_SOURCE_ADDRESS));
      clients.push(
        startLoadClient({
          host: '127.0.0.1',
          port: Number(hubUrl.port),
          path: SUBSCRIBE_PATH,
          headers: {},
          count,
          sourceAddresses: Array.from(
            { length: addresses },
            (_, k) => `127.${block}.${c + 1}.${k + 1}`,
          ),
          connectsPerSecond: RATE / CLIENTS,
        }),
      );
    }
    const rampDeadline = rampStart + (SUBSCRIBERS / RATE) * 1_500 + 60_000;
    // An object, not a let: it changes in a callback the loop below cannot see.
    const ramp = { done: false };
    void Promise.all(clients.map((c) => c.rampedUp)).then(() => {
      ramp.done = true;
    });
    let lastProgress = 0;
    while (!ramp.done && Date.now() < rampDeadline) {
      await sleep(1_000);
      if (Date.now() - lastProgress >= 5_000) {
        lastProgress = Date.now();
        const seen = await counts(clients);
        log(
          `ramp: ${seen.connected} held, ${seen.closed} closed, load ${load1().toFixed(2)}, server RSS ${(rssBytes(hub.pid) / 2 ** 20).toFixed(0)} MB`,
        );
      }
    }
    const rampSeconds = (Date.now() - rampStart) / 1000;
    let shortfall: string | undefined = ramp.done
      ? undefined
      : `ramp-up not finished after ${rampSeconds.toFixed(0)} s`;

    // Held: from the clients, and from the server (all workers summed by the primary).
    await sleep(3_000);
    let held = await counts(clients);
    let heldByServer = await serverConnections(hubUrl.origin);
    for (
      let i = 0;
      i < 10 && !Number.isNaN(heldByServer) && heldByServer !== held.connected - held.closed;
      i++
    ) {
      await sleep(1_000);
      held = await counts(clients);
      heldByServer = await serverConnections(hubUrl.origin);
    }
    const heldByClients = held.connected - held.closed;
    const serverRssHeld = rssBytes(hub.pid);
    const clientRssHeld = clients.reduce((sum, c) => sum + rssBytes(c.pid), 0);
    const loadHeld = load1();
    log(
      `held: ${heldByClients} by the clients, ${heldByServer} by /metrics; server RSS ${(serverRssHeld / 2 ** 20).toFixed(0)} MB, load ${loadHeld.toFixed(2)}`,
    );
    if (heldByClients < SUBSCRIBERS) {
      shortfall ??= `${SUBSCRIBERS - heldByClients} subscribers not held`;
    }

    // Broadcasts, one at a time: each waits until everyone has it (or 60 s) before the next.
    await Promise.all(clients.map((c) => withTimeout(c.reset(FIRST_SEQ), 30_000, 'reset')));
    const token = await mintToken({ key: KEY, algorithm: 'HS256', publish: ['*'] });
    const publishedAt = new Map<number, number>();
    for (let i = 0; i < BROADCASTS; i++) {
      const seq = FIRST_SEQ + i;
      publishedAt.set(seq, now());
      const response = await fetch(hub.url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: `topic=bench&data=${encodeURIComponent(payload(seq))}`,
      });
      await response.text();
      if (response.status !== 200) throw new Error(`publish answered ${response.status}`);
      const deadline = Date.now() + 60_000;
      let seen = await counts(clients);
      while (seen.deliveries < heldByClients * (i + 1) && Date.now() < deadline) {
        await sleep(200);
        seen = await counts(clients);
      }
      log(`broadcast ${i + 1}: ${seen.deliveries} deliveries so far`);
      await sleep(1_000);
    }

    const reports = await Promise.all(
      clients.map((c) => withTimeout(c.report(BROADCASTS), 60_000, 'report')),
    );
    const lastArrival = new Map<number, number>();
    for (const report of reports) {
      for (const [seq, at] of Object.entries(report.lastArrival)) {
        lastArrival.set(Number(seq), Math.max(lastArrival.get(Number(seq)) ?? 0, at));
      }
    }
    const fanoutMs = [...publishedAt].map(([seq, at]) => (lastArrival.get(seq) ?? Number.NaN) - at);
    const sorted = [...fanoutMs].sort((a, b) => a - b);
    const deliveries = reports.reduce((sum, r) => sum + r.deliveries, 0);
    const completeSubscribers = reports.reduce((sum, r) => sum + r.complete, 0);
    const closedEarly = reports.reduce((sum, r) => sum + r.closed, 0);
    if (completeSubscribers < heldByClients) {
      shortfall ??= `${heldByClients - completeSubscribers} held subscribers missed a broadcast`;
    }
    return {
      subscribers: SUBSCRIBERS,
      serverWorkers: WORKERS,
      clientProcesses: CLIENTS,
      heldByClients,
      heldByServer,
      rampSeconds,
      serverRssMbBefore: rssBefore / 2 ** 20,
      serverRssMbHeld: serverRssHeld / 2 ** 20,
      kbPerHeldSubscriber: (serverRssHeld - rssBefore) / Math.max(1, heldByClients) / 1024,
      clientRssMbHeld: clientRssHeld / 2 ** 20,
      broadcasts: BROADCASTS,
      fanoutMs,
      fanoutP50: percentile(sorted, 0.5),
      fanoutMax: sorted.at(-1) ?? Number.NaN,
      deliveriesPerSecond: deliveries / (fanoutMs.reduce((a, b) => a + b, 0) / 1000),
      deliveries,
      completeSubscribers,
      completeness: completeSubscribers / Math.max(1, SUBSCRIBERS),
      closedEarly,
      loadAverage: { before: loadBefore, held: loadHeld, after: load1() },
      ...(shortfall !== undefined && { shortfall }),
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stopAll();
  }
}

const result = await run();
console.error(JSON.stringify(result));
mkdirSync(values.out, { recursive: true });
const stamp = new Date().toISOString().replaceAll(':', '-').slice(0, 19);
writeFileSync(`${values.out}/scale-${stamp}.json`, JSON.stringify(result, null, 2));
console.log(renderMarkdown([result]));
if (result.shortfall !== undefined) console.log(`\nShort of the target: ${result.shortfall}`);
console.log(`\nJSON in ${values.out}/scale-${stamp}.json`);
