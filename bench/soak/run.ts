/**
 * Soak benchmark (not a CI test): a built Herald (SQLite store) holds 10,000 event streams under
 * continuous churn while updates are published, for 10 minutes.
 *
 *   npm run build && node --import tsx bench/soak/run.ts [--connections 10000] [--workers 5]
 *     [--duration 600] [--rate 50] [--burst-every 15]
 *
 * - Clients: `--workers` processes (bench/soak/client-worker.ts), each from its own 127.0.0.x
 *   addresses (four per process, so no address passes the hub's default 1,000 streams per
 *   client), each keeping its share of `--connections` open: connect, subscribe to 1-3 random
 *   topics (2% a URI template over all of them), read (60%), read slowly (25%: half a second
 *   on, one to five off) or never read (15%), leave after 10-120 s; a new one takes the place.
 * - Publishing: `--rate` updates per second of 200 B-2 KB on 100 topics, and every
 *   `--burst-every` seconds a JSON batch of 19 updates of 10 KB on one topic.
 * - Every second: the hub's RSS (/proc/PID/status). Every 100 ms: a `/healthz` request, timed
 *   by a probe process of its own (health-probe.ts). Every 30 s: the hub's event-loop delay
 *   (p99 and max over those 30 s, from /metrics), which tells a stalled hub from a busy machine.
 * - `--pin`: the hub (and the probe) on CPU 1, the orchestrator and the clients on CPU 0, so
 *   that the hub has a core of its own on a 2-core machine.
 * - Loss: every acknowledged publish goes to the clients, which check each reading session
 *   when it ends (see client-worker.ts); a dropped session resumes with Last-Event-ID.
 *
 * Prints a summary and writes the samples to .bench/soak-<time>.json.
 */
import type { ChildProcess, Serializable } from 'node:child_process';
import { fork, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { mintToken } from '../../src/auth/mint-token.ts';
import { cpuSeconds, rssBytes } from '../support/proc.ts';
import type { SoakWorkerConfig, SoakWorkerReport } from './client-worker.ts';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '10000' },
    workers: { type: 'string', default: '5' },
    duration: { type: 'string', default: '600' },
    rate: { type: 'string', default: '50' },
    'burst-every': { type: 'string', default: '15' },
    ramp: { type: 'string', default: '60' },
    pin: { type: 'boolean', default: false },
    out: { type: 'string', default: '.bench' },
  },
});
const CONNECTIONS = Number(values.connections);
const WORKERS = Number(values.workers);
const DURATION_S = Number(values.duration);
const RATE = Number(values.rate);
const BURST_EVERY_S = Number(values['burst-every']);
const RAMP_S = Number(values.ramp);
const KEY = 'soak-benchmark-key-that-is-long-enough-for-hs256-0123456789';
const TOPIC_BASE = 'https://soak.example/t';
const TOPICS = 100;
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

const PIN = values.pin;
const HUB_CPU = '1';
const LOAD_CPU = '0';
/** Moves a running process to one CPU (with --pin). */
function pinTo(cpu: string, pid: number | undefined): void {
  if (PIN && pid !== undefined)
    spawnSync('taskset', ['-cp', cpu, String(pid)], { stdio: 'ignore' });
}
pinTo(LOAD_CPU, process.pid);

const dataDir = mkdtempSync(join(tmpdir(), 'herald-soak-'));
const hubCommand = [
  CLI,
  'serve',
  '--host',
  '127.0.0.1',
  '--port',
  '0',
  '--anonymous',
  '--log-level',
  'warn',
];
const hub = spawn(
  PIN ? 'taskset' : process.execPath,
  PIN ? ['-c', HUB_CPU, process.execPath, ...hubCommand] : hubCommand,
  {
    env: {
      PATH: process.env['PATH'] ?? '',
      HERALD_JWT_KEY: KEY,
      HERALD_STORE: `sqlite:${join(dataDir, 'herald.db')}`,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const hubExited = once(hub, 'exit');
const hubUrl = await new Promise<string>((resolve, reject) => {
  let output = '';
  hub.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    const match = /Herald listening on (\S+)/.exec(output);
    if (match?.[1] !== undefined) resolve(match[1]);
  });
  void hubExited.then(() => {
    reject(new Error(`herald exited before listening:\n${output}`));
  });
});
const hubPid = hub.pid ?? 0;
const url = new URL(hubUrl);
const origin = url.origin;
console.log(`hub pid ${hubPid} at ${hubUrl}; ${CONNECTIONS} connections, ${DURATION_S} s`);

// Clients.
interface Worker {
  readonly child: ChildProcess;
  readonly exited: Promise<unknown>;
}
const workers: Worker[] = [];
/** The health probe, once started (a list, for abandon() to find it before then). */
const probes: ChildProcess[] = [];
for (let w = 0; w < WORKERS; w++) {
  const config: SoakWorkerConfig = {
    host: '127.0.0.1',
    port: Number(url.port),
    path: url.pathname,
    localAddresses: [0, 1, 2, 3].map((k) => `127.0.0.${10 + w * 4 + k}`),
    connections: Math.round(CONNECTIONS / WORKERS),
    rampSeconds: RAMP_S,
    minLifetimeSeconds: 10,
    maxLifetimeSeconds: 120,
    topics: TOPICS,
    topicBase: TOPIC_BASE,
    seed: 1234 + w,
  };
  const child = fork(
    fileURLToPath(new URL('./client-worker.ts', import.meta.url)),
    [JSON.stringify(config)],
    {
      execArgv: ['--import', 'tsx', '--max-old-space-size=2048'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  pinTo(LOAD_CPU, child.pid);
  workers.push({ child, exited: once(child, 'exit') });
}
// Interrupted (Ctrl-C, a timeout's SIGTERM, an exception): stop every process this run started,
// by its own pid, and remove the hub's data, rather than leave 10,000 connections behind.
function abandon(reason: string): never {
  console.error(`soak: ${reason}; stopping the hub and the client workers`);
  for (const worker of workers) worker.child.kill('SIGKILL');
  for (const probe of probes) probe.kill('SIGKILL');
  hub.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(1);
}
process.once('SIGINT', () => abandon('interrupted'));
process.once('SIGTERM', () => abandon('terminated'));
process.once('uncaughtException', (error) => abandon(String(error)));
process.once('unhandledRejection', (error) => abandon(String(error)));

function broadcast(message: Serializable): void {
  for (const worker of workers) {
    if (worker.child.connected) worker.child.send(message);
  }
}
function askAll(type: string, answer: string): Promise<SoakWorkerReport[]> {
  return Promise.all(
    workers.map(
      (worker) =>
        new Promise<SoakWorkerReport>((resolve) => {
          const listener = (message: { type: string; report: SoakWorkerReport }) => {
            if (message.type !== answer) return;
            worker.child.off('message', listener);
            resolve(message.report);
          };
          worker.child.on('message', listener);
          worker.child.send({ type });
        }),
    ),
  );
}

// Publishing.
const token = await mintToken({ key: KEY, algorithm: 'HS256', publish: ['*'] });
let published = 0;
let publishErrors = 0;
let seq = 0;
async function publish(body: unknown[]): Promise<void> {
  try {
    const response = await request(hubUrl, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.body.text();
    const at = Date.now();
    if (response.statusCode !== 200) {
      publishErrors++;
      return;
    }
    const ids = text.trim().split('\n');
    published += ids.length;
    broadcast({
      type: 'acked',
      updates: ids.map((id, index) => ({
        id,
        topic: (body[index] as { topic: string }).topic,
        at,
      })),
    });
  } catch {
    publishErrors++;
  }
}
const publishTimer = setInterval(() => {
  const body = [
    {
      topic: `${TOPIC_BASE}/${seq % TOPICS}`,
      data: `${seq} ${'p'.repeat(200 + ((seq * 7919) % 1800))}`,
    },
  ];
  seq++;
  void publish(body);
}, 1000 / RATE);
const burstTimer = setInterval(() => {
  const topic = `${TOPIC_BASE}/${seq % TOPICS}`;
  void publish(
    Array.from({ length: 19 }, (_, i) => ({ topic, data: `${seq}-${i} ${'b'.repeat(10_000)}` })),
  );
  seq++;
}, BURST_EVERY_S * 1000);

// Sampling.
const rss: { t: number; bytes: number }[] = [];
const started = Date.now();
// The machine's 1-minute load average beside each sample: a hub that got little CPU shows here.
const load: number[] = [];
const rssTimer = setInterval(() => {
  rss.push({ t: (Date.now() - started) / 1000, bytes: rssBytes(hubPid) });
  load.push(loadavg()[0] ?? 0);
}, 1000);
const probe = fork(fileURLToPath(new URL('./health-probe.ts', import.meta.url)), [origin], {
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
probes.push(probe);
pinTo(HUB_CPU, probe.pid);
// The hub's event-loop delay, per 30 s (prom-client resets its histogram at each scrape).
const loopDelay: { p99Ms: number; maxMs: number }[] = [];
const progress = setInterval(() => {
  const last = rss.at(-1);
  const at = `${Math.round((Date.now() - started) / 1000)} s: RSS ${((last?.bytes ?? 0) / 2 ** 20).toFixed(0)} MiB`;
  metricsOf([
    'herald_connections',
    'herald_slow_consumers_dropped_total',
    'herald_nodejs_eventloop_lag_p99_seconds',
    'herald_nodejs_eventloop_lag_max_seconds',
  ]).then(
    (m) => {
      const delay = {
        p99Ms: (m['herald_nodejs_eventloop_lag_p99_seconds'] ?? 0) * 1000,
        maxMs: (m['herald_nodejs_eventloop_lag_max_seconds'] ?? 0) * 1000,
      };
      loopDelay.push(delay);
      console.log(
        `${at}, ${m['herald_connections']} streams, ${published} published, ${m['herald_slow_consumers_dropped_total']} dropped, loop delay p99 ${delay.p99Ms.toFixed(1)} ms max ${delay.maxMs.toFixed(1)} ms`,
      );
    },
    // A progress line is not worth the run: a metrics request lost in a full accept queue is
    // reported, not thrown.
    (error: unknown) => {
      console.log(`${at}, metrics unavailable (${String(error)})`);
    },
  );
}, 30_000);

async function metricsOf(names: string[]): Promise<Record<string, number>> {
  const response = await request(`${origin}/metrics`);
  const text = await response.body.text();
  const found: Record<string, number> = {};
  for (const name of names) {
    const line = text.split('\n').find((entry) => entry.startsWith(`${name} `));
    found[name] = Number(line?.split(' ')[1]);
  }
  return found;
}

await new Promise((resolve) => setTimeout(resolve, DURATION_S * 1000));
clearInterval(publishTimer);
clearInterval(burstTimer);
clearInterval(progress);
// Let the last deliveries land before the sessions end and are checked.
await new Promise((resolve) => setTimeout(resolve, 3000));
const finalMetrics = await metricsOf([
  'herald_connections',
  'herald_slow_consumers_dropped_total',
  'herald_unsent_bytes',
  'herald_replays_running',
  'herald_replays_waiting',
]);
const reports = await askAll('stop', 'stopped');
const { timings: health, errors: healthErrors } = await new Promise<{
  timings: number[];
  errors: number;
}>((resolve) => {
  probe.once('message', resolve);
  probe.send({ type: 'stop' });
});
clearInterval(rssTimer);

const sum = (key: keyof SoakWorkerReport) =>
  reports.reduce((total, report) => total + Number(report[key]), 0);
const sorted = [...health].sort((a, b) => a - b);
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const afterRamp = rss.filter((sample) => sample.t >= RAMP_S + 30);
const mib = (bytes: number) => bytes / 2 ** 20;
const firstMinute = afterRamp.slice(0, 60).map((s) => s.bytes);
const lastMinute = afterRamp.slice(-60).map((s) => s.bytes);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const summary = {
  connections: CONNECTIONS,
  workers: WORKERS,
  durationSeconds: DURATION_S,
  published,
  publishErrors,
  sessions: sum('sessions'),
  checkedSessions: sum('checkedSessions'),
  expectedDeliveries: sum('expectedDeliveries'),
  missing: sum('missing'),
  late: sum('late'),
  duplicates: sum('duplicates'),
  resumes: sum('resumes'),
  refused: sum('refused'),
  connectErrors: sum('connectErrors'),
  missingSamples: reports.flatMap((report) => report.missingSamples).slice(0, 10),
  healthChecks: health.length,
  healthErrors,
  healthP50Ms: pct(0.5),
  healthP99Ms: pct(0.99),
  healthMaxMs: sorted.at(-1) ?? 0,
  loopDelayP99MaxMs: Math.max(0, ...loopDelay.map((d) => d.p99Ms)),
  loopDelayMaxMs: Math.max(0, ...loopDelay.map((d) => d.maxMs)),
  pinned: PIN,
  rssMaxMiB: mib(Math.max(...rss.map((s) => s.bytes))),
  rssFirstMinuteAfterRampMiB: mib(mean(firstMinute)),
  rssLastMinuteMiB: mib(mean(lastMinute)),
  hubCpuSeconds: cpuSeconds(hubPid),
  loadAverageMin: Math.min(...load),
  loadAverageMax: Math.max(...load),
  finalMetrics,
};
console.log(JSON.stringify(summary, null, 2));
mkdirSync(values.out, { recursive: true });
const file = join(values.out, `soak-${new Date().toISOString().replaceAll(':', '-')}.json`);
writeFileSync(file, JSON.stringify({ summary, rss, health, loopDelay }, null, 1));
console.log(`samples in ${file}`);

await Promise.race([
  Promise.all(workers.map((worker) => worker.exited)),
  new Promise((resolve) => setTimeout(resolve, 5000)),
]);
for (const worker of workers) {
  if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
}
hub.kill('SIGTERM');
await hubExited;
rmSync(dataDir, { recursive: true, force: true });
