/**
 * Fan-out benchmark: the same load client against Herald, a raw node:http broadcast server and
 * nchan, in one run. Servers are pinned to CPU 0, the load client (workers and publisher) to
 * CPU 1. See BENCHMARKS.md for what each figure means.
 *
 *   npm run bench:fanout -- --subscribers 10000 --targets herald,node,nchan
 */
import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuSeconds, rssBytes } from '../support/proc.ts';
import { renderConnectionMarkdown, renderMarkdown, renderSvg } from './report.ts';
import type { Result } from './report.ts';
import type { RunningTarget, TargetName } from './targets.ts';
import { startTarget } from './targets.ts';
import type { ConnectTimes, WorkerConfig, WorkerReport } from './subscriber-worker.ts';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '10000' },
    targets: { type: 'string', default: 'herald,node,nchan' },
    workers: { type: 'string', default: '4' },
    paced: { type: 'string', default: '50' },
    // Unmeasured events before the paced phase: the first deliveries after connecting pay
    // one-time costs (JIT, first write on each socket). 0 keeps them in the figures.
    warmup: { type: 'string', default: '0' },
    burst: { type: 'string', default: '100' },
    // The reconnect storm: every subscriber cut, this many events published meanwhile, then
    // everyone back at once with Last-Event-ID. 0 skips it.
    storm: { type: 'string', default: '5' },
    out: { type: 'string', default: '.bench' },
  },
});
const SUBSCRIBER_COUNTS = values.subscribers.split(',').map(Number);
const TARGETS = values.targets.split(',') as TargetName[];
const WORKERS = Number(values.workers);
const PACED_EVENTS = Number(values.paced);
const WARMUP_EVENTS = Number(values.warmup);
const BURST_EVENTS = Number(values.burst);
const STORM_EVENTS = Number(values.storm);
const PAD = 'x'.repeat(80); // payloads of about 130 bytes
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let addressRotation = 0;

interface Worker {
  readonly child: ChildProcess;
  request<T>(message: object, reply: string): Promise<T>;
}

function startWorker(config: WorkerConfig): { worker: Worker; connected: Promise<ConnectTimes> } {
  const child = fork(
    fileURLToPath(new URL('subscriber-worker.ts', import.meta.url)),
    [JSON.stringify(config)],
    {
      execArgv: ['--import', 'tsx', '--max-old-space-size=2048'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const waiters = new Map<string, (value: unknown) => void>();
  let onConnected: (times: ConnectTimes) => void = () => undefined;
  const connected = new Promise<ConnectTimes>((resolve) => (onConnected = resolve));
  child.on('message', (message: { type: string; report?: WorkerReport } & ConnectTimes) => {
    if (message.type === 'connected') onConnected(message);
    const waiter = waiters.get(message.type);
    waiters.delete(message.type);
    waiter?.(message.report ?? message);
  });
  const worker: Worker = {
    child,
    request<T>(message: object, reply: string): Promise<T> {
      return new Promise((resolve) => {
        waiters.set(reply, resolve as (value: unknown) => void);
        child.send(message);
      });
    },
  };
  return { worker, connected };
}

async function reports(workers: Worker[], events: number): Promise<WorkerReport[]> {
  return Promise.all(
    workers.map((w) => w.request<WorkerReport>({ type: 'report', events }, 'report')),
  );
}

function payload(seq: number): string {
  return `{"seq":${seq},"t":${now().toFixed(3)},"pad":"${PAD}"}`;
}

function percentileOf(histogram: number[], q: number): number {
  const total = histogram.reduce((a, b) => a + b, 0);
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] ?? 0;
    if (seen >= q * total) return i * 0.1;
  }
  return Number.NaN;
}

function merge(list: WorkerReport[]) {
  const latency = new Array<number>(list[0]?.latency.length ?? 0).fill(0);
  const lastArrival = new Map<number, number>();
  let deliveries = 0;
  let complete = 0;
  for (const report of list) {
    report.latency.forEach((count, i) => (latency[i] = (latency[i] ?? 0) + count));
    for (const [seq, at] of Object.entries(report.lastArrival)) {
      lastArrival.set(Number(seq), Math.max(lastArrival.get(Number(seq)) ?? 0, at));
    }
    deliveries += report.deliveries;
    complete += report.complete;
  }
  return { latency, lastArrival, deliveries, complete };
}

/** Waits until every connection has `events` deliveries, or `timeoutMs` passed. */
async function settle(workers: Worker[], expected: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const counts = await Promise.all(
      workers.map((w) => w.request<{ deliveries: number }>({ type: 'count' }, 'count')),
    );
    if (counts.reduce((sum, c) => sum + c.deliveries, 0) >= expected) return;
    await sleep(200);
  }
}

async function measure(name: TargetName, subscribers: number): Promise<Result> {
  const target: RunningTarget = await startTarget(name, '0');
  const workers: Worker[] = [];
  try {
    await sleep(500);
    const rssBefore = rssBytes(target.pid);
    // Nothing else reaches the server while the subscribers connect: its CPU time meanwhile is
    // what accepting them cost, whatever else the (shared) machine was doing.
    const cpuBeforeConnect = cpuSeconds(target.pid);
    const perWorker = Math.ceil(subscribers / WORKERS);
    const started = [];
    for (let w = 0; w < WORKERS; w++) {
      // Fresh source addresses each run: TIME_WAIT from the previous one lingers for 60 s.
      const base = 2 + ((addressRotation++ * 4) % 240);
      const { worker, connected } = startWorker({
        host: '127.0.0.1',
        port: target.port,
        path: target.subscribePath,
        headers: target.subscribeHeaders,
        ...(target.subscriberTokenKey !== undefined && { tokenKey: target.subscriberTokenKey }),
        count: Math.min(perWorker, subscribers - w * perWorker),
        sourceAddresses: [0, 1, 2, 3].map(
          (k) => `127.0.${1 + ((base + k) >> 8)}.${(base + k) % 256 || 1}`,
        ),
      });
      workers.push(worker);
      started.push(connected);
    }
    const opened = await Promise.all(started);
    const cpuAfterConnect = cpuSeconds(target.pid);
    const held = opened.reduce((sum, times) => sum + times.connected, 0);
    const connectSeconds =
      (Math.max(...opened.map((t) => t.lastAt)) - Math.min(...opened.map((t) => t.firstAt))) / 1000;
    await sleep(2_000);
    const rssIdle = rssBytes(target.pid);

    let seq = 1_000;
    for (let i = 0; i < WARMUP_EVENTS; i++) {
      await target.publish(payload(seq++));
      await sleep(100);
    }
    if (WARMUP_EVENTS > 0) await sleep(1_000);

    // Paced: one event every 100 ms; fan-out time and latency.
    seq = 10_000;
    await Promise.all(
      workers.map((w) => w.request({ type: 'reset', firstSeq: seq }, 'reset-done')),
    );
    const publishedAt = new Map<number, number>();
    const pacedCpuBefore = cpuSeconds(target.pid);
    for (let i = 0; i < PACED_EVENTS; i++) {
      publishedAt.set(seq, now());
      await target.publish(payload(seq++));
      await sleep(100);
    }
    await settle(workers, held * PACED_EVENTS, 20_000);
    const pacedCpuAfter = cpuSeconds(target.pid);
    const paced = merge(await reports(workers, PACED_EVENTS));
    const inOrder = [...publishedAt].map(
      ([s, at]) => (paced.lastArrival.get(s) ?? Number.NaN) - at,
    );
    if (process.env['BENCH_VERBOSE'] !== undefined) {
      console.error(
        `fan-out ms, in publish order: ${inOrder.map((ms) => ms.toFixed(0)).join(' ')}`,
      );
    }
    const fanout = inOrder.sort((a, b) => a - b);

    // Burst: back-to-back publishes; throughput and server CPU per delivery.
    seq = 100_000;
    await Promise.all(
      workers.map((w) => w.request({ type: 'reset', firstSeq: seq }, 'reset-done')),
    );
    const cpuBefore = cpuSeconds(target.pid);
    const burstStart = now();
    for (let i = 0; i < BURST_EVENTS; i++) await target.publish(payload(seq++));
    await settle(workers, held * BURST_EVENTS, 60_000);
    const cpuAfter = cpuSeconds(target.pid);
    const burst = merge(await reports(workers, BURST_EVENTS));
    const lastDelivery = Math.max(...burst.lastArrival.values());

    const storm =
      STORM_EVENTS > 0 && target.resumes ? await reconnectStorm(target, workers, held) : undefined;

    const at = (q: number) =>
      fanout[Math.min(fanout.length - 1, Math.ceil(q * fanout.length) - 1)] ?? Number.NaN;
    return {
      target: name,
      subscribers,
      held,
      kbPerIdleSubscriber: (rssIdle - rssBefore) / Math.max(1, held) / 1024,
      connectSeconds,
      cpuMicrosPerSubscribe: ((cpuAfterConnect - cpuBeforeConnect) * 1e6) / Math.max(1, held),
      ...(storm !== undefined && { storm }),
      cpuMicrosPerDelivery: ((cpuAfter - cpuBefore) * 1e6) / Math.max(1, burst.deliveries),
      pacedCpuMicrosPerDelivery:
        ((pacedCpuAfter - pacedCpuBefore) * 1e6) / Math.max(1, paced.deliveries),
      deliveriesPerSecond: burst.deliveries / ((lastDelivery - burstStart) / 1000),
      fanoutP50: at(0.5),
      fanoutP99: at(0.99),
      latencyP50: percentileOf(paced.latency, 0.5),
      latencyP99: percentileOf(paced.latency, 0.99),
      latencyP999: percentileOf(paced.latency, 0.999),
      completeness: (paced.complete + burst.complete) / (2 * Math.max(1, held)),
    };
  } finally {
    for (const worker of workers) worker.child.send({ type: 'stop' });
    await Promise.all(workers.map((w) => new Promise((resolve) => w.child.once('exit', resolve))));
    await target.stop();
  }
}

/**
 * Every subscriber cut at once; STORM_EVENTS published while they are away; then all back at
 * once, each with `Last-Event-ID` set to the last id it received. "All live again" is when the
 * last subscriber has every missed event (each resume does its history lookup and replay).
 */
async function reconnectStorm(
  target: RunningTarget,
  workers: Worker[],
  held: number,
): Promise<NonNullable<Result['storm']>> {
  await Promise.all(workers.map((w) => w.request({ type: 'disconnect' }, 'disconnected')));
  await sleep(1_000);
  const firstSeq = 200_000;
  for (let i = 0; i < STORM_EVENTS; i++) await target.publish(payload(firstSeq + i));
  await Promise.all(workers.map((w) => w.request({ type: 'reset', firstSeq }, 'reset-done')));
  const cpuBefore = cpuSeconds(target.pid);
  const began = now();
  const heads = await Promise.all(
    workers.map((w) => w.request<ConnectTimes>({ type: 'reconnect' }, 'reconnected')),
  );
  await settle(workers, held * STORM_EVENTS, 60_000);
  const cpuAfter = cpuSeconds(target.pid);
  const replay = merge(await reports(workers, STORM_EVENTS));
  const resumed = heads.reduce((sum, h) => sum + h.connected, 0);
  return {
    resumed,
    headsSeconds: (Math.max(...heads.map((h) => h.lastAt)) - began) / 1000,
    allLiveSeconds: (Math.max(0, ...replay.lastArrival.values()) - began) / 1000,
    cpuMicrosPerResume: ((cpuAfter - cpuBefore) * 1e6) / Math.max(1, resumed),
    complete: replay.complete / Math.max(1, held),
  };
}

const results: Result[] = [];
for (const subscribers of SUBSCRIBER_COUNTS) {
  for (const name of TARGETS) {
    console.error(`${name}: ${subscribers} subscribers…`);
    const result = await measure(name, subscribers);
    console.error(JSON.stringify(result));
    results.push(result);
  }
}
mkdirSync(values.out, { recursive: true });
const stamp = new Date().toISOString().replaceAll(':', '-').slice(0, 19);
writeFileSync(`${values.out}/fanout-${stamp}.json`, JSON.stringify(results, null, 2));
writeFileSync(`${values.out}/fanout-${stamp}.svg`, renderSvg(results));
console.log(renderMarkdown(results));
console.log(`\n${renderConnectionMarkdown(results)}`);
console.log(`\nJSON and SVG plot in ${values.out}/fanout-${stamp}.{json,svg}`);
