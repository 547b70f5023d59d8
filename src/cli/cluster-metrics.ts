import type { Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { MetricsSnapshot } from '../http/metrics.ts';
import type { ToWorker } from './worker-messages.ts';

/**
 * How long the primary waits for every worker's figures before the scrape fails: under
 * Prometheus's default scrape timeout (10 s), and long enough for workers that are busy (3 s
 * was not, for 28 workers holding 500,000 streams on two cores: BENCHMARKS.md).
 */
const GATHER_TIMEOUT_MS = 8_000;

interface Gathering {
  readonly requester: Worker;
  readonly requestId: number;
  readonly waiting: Set<Worker>;
  readonly snapshots: MetricsSnapshot[];
  readonly timer: NodeJS.Timeout;
}

/**
 * In the primary of `herald serve --workers N`: a scrape of /metrics reaches one worker (the port
 * is shared round-robin), which asks here; every worker sends its figures, and the requester gets
 * them combined by prom-client's AggregatorRegistry (counters and connections summed, the
 * history size shared by all taken once, event-loop lag averaged). Whichever worker a scrape
 * reaches, Prometheus sees the whole server, and counters never jump between workers' values.
 */
export class ClusterMetrics {
  #nextId = 0;
  readonly #gatherings = new Map<number, Gathering>();
  readonly #workers: () => readonly Worker[];
  readonly #timeoutMs: number;

  /** `workers`: the workers that serve now (listening), each of which must answer. */
  constructor(workers: () => readonly Worker[], timeoutMs = GATHER_TIMEOUT_MS) {
    this.#workers = workers;
    this.#timeoutMs = timeoutMs;
  }

  /** `requester` asked (its `metrics-request` number `requestId`). */
  gather(requester: Worker, requestId: number): void {
    const id = this.#nextId++;
    const workers = this.#workers();
    const gathering: Gathering = {
      requester,
      requestId,
      waiting: new Set(workers),
      snapshots: [],
      timer: setTimeout(() => {
        this.#finish(id, `${gathering.waiting.size} workers did not send their metrics in time`);
      }, this.#timeoutMs),
    };
    this.#gatherings.set(id, gathering);
    for (const worker of workers) send(worker, { type: 'collect-metrics', id });
    this.#finishIfComplete(id);
  }

  /** A worker's answer to `collect-metrics` number `id`. */
  received(worker: Worker, id: number, metrics: MetricsSnapshot): void {
    const gathering = this.#gatherings.get(id);
    if (gathering?.waiting.delete(worker) !== true) return;
    gathering.snapshots.push(metrics);
    this.#finishIfComplete(id);
  }

  /** A worker exited: nobody waits for it any more (its figures leave the totals with it). */
  gone(worker: Worker): void {
    for (const [id, gathering] of this.#gatherings) {
      if (gathering.waiting.delete(worker)) this.#finishIfComplete(id);
    }
  }

  #finishIfComplete(id: number): void {
    if (this.#gatherings.get(id)?.waiting.size === 0) this.#finish(id, undefined);
  }

  #finish(id: number, error: string | undefined): void {
    const gathering = this.#gatherings.get(id);
    if (gathering === undefined) return;
    this.#gatherings.delete(id);
    clearTimeout(gathering.timer);
    const { requester, requestId, snapshots } = gathering;
    if (error !== undefined) {
      send(requester, { type: 'metrics', id: requestId, error });
      return;
    }
    AggregatorRegistry.aggregate(snapshots)
      .metrics()
      .then(
        (text) => {
          send(requester, { type: 'metrics', id: requestId, text });
        },
        (failure: unknown) => {
          send(requester, { type: 'metrics', id: requestId, error: String(failure) });
        },
      );
  }
}

function send(worker: Worker, message: ToWorker): void {
  if (worker.isConnected()) worker.send(message);
}
