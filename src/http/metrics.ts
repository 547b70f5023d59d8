import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Backend } from '../core/backend.ts';
import type { Hub } from '../core/hub.ts';
import type { SharedLimits } from '../core/shared-limits.ts';
import type { ConnectionRegistry } from './streams/connection-registry.ts';

/** A hub's metrics as data, in the form prom-client's AggregatorRegistry.aggregate() combines. */
export type MetricsSnapshot = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/**
 * The hub's Prometheus metrics, on a registry of its own (several hubs may share a process).
 * Totals that grow on the delivery path are plain numbers kept by the Hub and the connection
 * registry and read here at scrape time; only per-request figures are observed directly.
 */
export class HeraldMetrics {
  readonly registry = new Registry();
  readonly #publishedUpdates: Counter;
  readonly #publishDuration: Histogram;
  readonly #fanoutDuration: Histogram;
  readonly #errors: Counter<'code'>;
  readonly #feedGaps: Counter;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'herald_' });
    this.#feedGaps = new Counter({
      name: 'herald_feed_gaps_total',
      help: "Times this node's live feed resumed past updates retention removed before it delivered them (its streams were ended).",
      registers,
    });
    this.#publishedUpdates = new Counter({
      name: 'herald_published_updates_total',
      help: 'Updates acknowledged to publishers by this node.',
      registers,
    });
    this.#publishDuration = new Histogram({
      name: 'herald_publish_duration_seconds',
      help: 'From a publish request arriving to its acknowledgement: parsing, authorization, durable storage and, for embedded stores, the write to local subscribers.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.#fanoutDuration = new Histogram({
      name: 'herald_fanout_duration_seconds',
      help: 'Time to hand one update to every matching subscriber of this node (HTTP/1.1 streams queue it; the flush queue writes it in the next event-loop turns).',
      buckets: [0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
      registers,
    });
    this.#errors = new Counter({
      name: 'herald_errors_total',
      help: 'Requests refused or failed, by error code (HERALD_ERR_BACKEND_UNAVAILABLE counts backend errors).',
      labelNames: ['code'],
      registers,
    });
  }

  /** Registers the figures read from the hub, its backend and the open streams when scraped. */
  watch(hub: Hub, connections: ConnectionRegistry, backend: Backend): void {
    const registers = [this.registry];
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    // prom-client counters cannot be set; reset-and-add at scrape time reports the running total.
    const total = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    gauge('herald_connections', 'Open event streams.', () => connections.size);
    gauge(
      'herald_unsent_bytes',
      'Bytes queued for event streams and not yet sent, all streams together (at most --max-unsent-bytes-total).',
      () => connections.unsent.measure(),
    );
    new Gauge({
      name: 'herald_history_updates',
      help: 'Updates history holds for resuming clients.',
      registers,
      // Workers sharing a store each read the same figure: combined, it is not a sum.
      aggregator: 'max',
      async collect() {
        // An unreachable backend is reported by /readyz and herald_errors_total, not here.
        this.set(await backend.historySize().catch(() => Number.NaN));
      },
    });
    total(
      'herald_expired_streams_total',
      'Streams ended because their token expired.',
      () => connections.expiredConnections,
    );
    gauge('herald_subscriptions', 'Subscribers in the topic index.', () => hub.subscriberCount);
    gauge(
      'herald_replays_running',
      'History replays holding a slot (--max-concurrent-replays).',
      () => hub.replays.active,
    );
    gauge(
      'herald_replays_waiting',
      'History replays waiting for a slot; their clients have no response head yet.',
      () => hub.replays.waiting,
    );
    total(
      'herald_dispatched_updates_total',
      'Live updates dispatched to local subscribers.',
      () => hub.stats.updatesDispatched,
    );
    total(
      'herald_deliveries_total',
      'Frames queued to subscribers, live and replayed.',
      () => hub.stats.deliveries,
    );
    total(
      'herald_delivered_bytes_total',
      'Bytes of frames queued to subscribers.',
      () => hub.stats.bytesDelivered,
    );
    total(
      'herald_slow_consumers_dropped_total',
      'Streams dropped because their unsent bytes passed the cap.',
      () => connections.droppedSlowConsumers,
    );
  }

  /** The cluster-wide limits' link to the shared store (Redis only). */
  watchSharedLimits(shared: SharedLimits): void {
    const registers = [this.registry];
    new Gauge({
      name: 'herald_shared_limits_degraded',
      help: 'Processes whose cluster-wide limits (streams per client, publish rate) are counted on their own because the shared store does not answer (0 or 1 per process).',
      registers,
      collect() {
        this.set(shared.degraded ? 1 : 0);
      },
    });
    new Counter({
      name: 'herald_shared_limits_fallbacks_total',
      help: 'Limit decisions (a stream admitted or refused, a publish charged) taken by one process alone because the shared store did not answer.',
      registers,
      collect() {
        this.reset();
        this.inc(shared.fallbacks);
      },
    });
  }

  /** This hub's figures as data, for a primary combining those of several workers. */
  snapshot(): Promise<MetricsSnapshot> {
    return this.registry.getMetricsAsJSON();
  }

  readonly observeFanout = (seconds: number): void => {
    this.#fanoutDuration.observe(seconds);
  };

  observePublish(updates: number, seconds: number): void {
    this.#publishedUpdates.inc(updates);
    this.#publishDuration.observe(seconds);
  }

  countError(code: string): void {
    this.#errors.inc({ code });
  }

  countFeedGap(): void {
    this.#feedGaps.inc();
  }
}
