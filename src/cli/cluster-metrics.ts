import type { Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { MetricsSnapshot } from '../http/metrics.ts';
import type { ToWorker } from './worker-messages.ts';

/**
 * How long the primary waits for every worker's figures: under Prometheus's default scrape
 * timeout (10 s), and long enough for workers that are busy (3 s was not, for 28 workers
 * holding 500,000 streams on two cores: BENCHMARKS.md).
 */
const GATHER_TIMEOUT_MS = 8_000;

interface Gathering {
  readonly requester: Worker;
  readonly requestId: number;
  readonly waiting: Set<Worker>;
  readonly snapshots: Map<Worker, MetricsSnapshot>;
  readonly timer: NodeJS.Timeout;
}

/**
 * In the primary of `herald serve --workers N`: a scrape of /metrics reaches one worker (the port
 * is shared round-robin), which asks here; every worker sends its figures, and the requester gets
 * them combined by prom-client's AggregatorRegistry (counters and connections summed, the
 * history size shared by all taken once, event-loop lag averaged). Whichever worker a scrape
 * reaches, Prometheus sees the whole server, and counters never jump between workers' values.
 *
 * A worker too busy to answer in time is counted with the figures it sent last, and
 * `herald_metrics_stale_workers` says how many were: the scrape still succeeds when the server
 * is loaded, which is when it is needed most, and no counter goes back (leaving a worker out
 * would look like a counter reset). Only a worker that never answered fails the scrape.
 */
export class ClusterMetrics {
  #nextId = 0;
  readonly #gatherings = new Map<number, Gathering>();
  /** Each worker's newest figures, for a scrape it is too late for. */
  readonly #latest = new Map<Worker, MetricsSnapshot>();
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
      snapshots: new Map(),
      timer: setTimeout(() => {
        this.#finish(id);
      }, this.#timeoutMs),
    };
    this.#gatherings.set(id, gathering);
    for (const worker of workers) send(worker, { type: 'collect-metrics', id });
    this.#finishIfComplete(id);
  }

  /** A worker's answer to `collect-metrics` number `id`. */
  received(worker: Worker, id: number, metrics: MetricsSnapshot): void {
    const gathering = this.#gatherings.get(id);
    // A late answer still refreshes the worker's figures for the next scrape.
    this.#latest.set(worker, metrics);
    if (gathering?.waiting.delete(worker) !== true) return;
    gathering.snapshots.set(worker, metrics);
    this.#finishIfComplete(id);
  }

  /** A worker exited: nobody waits for it any more (its figures leave the totals with it). */
  gone(worker: Worker): void {
    this.#latest.delete(worker);
    for (const [id, gathering] of this.#gatherings) {
      if (gathering.waiting.delete(worker)) this.#finishIfComplete(id);
    }
  }

  #finishIfComplete(id: number): void {
    if (this.#gatherings.get(id)?.waiting.size === 0) this.#finish(id);
  }

  /** Answers the requester: every answer in, or the time is up and the late ones' last figures. */
  #finish(id: number): void {
    const gathering = this.#gatherings.get(id);
    if (gathering === undefined) return;
    this.#gatherings.delete(id);
    clearTimeout(gathering.timer);
    const { requester, requestId, snapshots, waiting } = gathering;
    const figures = [...snapshots.values()];
    const unheard = [...waiting].filter((worker) => !this.#latest.has(worker)).length;
    if (unheard > 0) {
      const error = `${unheard} workers have not sent their metrics yet`;
      send(requester, { type: 'metrics', id: requestId, error });
      return;
    }
    for (const worker of waiting) figures.push(this.#latest.get(worker) ?? []);
    AggregatorRegistry.aggregate(figures)
      .metrics()
      .then(
        (text) => {
          send(requester, {
            type: 'metrics',
            id: requestId,
            text: text + staleWorkers(waiting.size),
          });
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

/** The gauge that tells a scrape how many workers' figures were their last ones, not fresh. */
function staleWorkers(count: number): string {
  return (
    '# HELP herald_metrics_stale_workers Workers too busy to answer this scrape in time: their last figures are counted.\n' +
    '# TYPE herald_metrics_stale_workers gauge\n' +
    `herald_metrics_stale_workers ${count}\n`
  );
}
