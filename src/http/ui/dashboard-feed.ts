import type { BusyTopic, Hub } from '../../core/hub.ts';
import type { Presence } from '../../core/presence.ts';
import { COMMENT_FRAME } from '../../core/sse-frame.ts';
import type { ConnectionRegistry } from '../streams/connection-registry.ts';
import type { HubRequest, HubResponse } from '../http-message.ts';
import type { LatencyWindow } from './latency-window.ts';
import { SampleRing } from './sample-ring.ts';
import type { StreamAdmission } from '../limits/stream-admission.ts';
import { admitStream } from '../limits/stream-admission.ts';
import { STREAM_HEADERS } from '../streams/stream-headers.ts';

/** The series the dashboard draws, one sample of each per interval. */
export const SERIES = [
  /** Milliseconds since the epoch. */
  'time',
  'connections',
  'subscriptions',
  'topics',
  'publishesPerSecond',
  'deliveriesPerSecond',
  /** Fan-out duration percentiles of the interval, in milliseconds; NaN (null) with no update. */
  'fanoutP50Ms',
  'fanoutP99Ms',
  /** Slow consumers dropped during the interval. */
  'slowConsumersDropped',
  'rssBytes',
  'heapUsedBytes',
] as const;

export type SeriesName = (typeof SERIES)[number];

/** What the `topics` event carries: the busiest topics and, with presence, who is connected. */
export interface DashboardActivity {
  readonly busiest: readonly BusyTopic[];
  /** With `--subscriptions` only: the active subscriptions, at most CONNECTED_SHOWN of them. */
  readonly connected: {
    readonly total: number;
    readonly shown: readonly { readonly subscriber: string; readonly topic: string }[];
  } | null;
}

export interface DashboardFeedOptions {
  /** Once per interval the hub is sampled and every reading dashboard sent what is new. */
  readonly intervalMs?: number;
  /** Samples kept for a dashboard that opens later: 15 minutes of seconds by default. */
  readonly historySamples?: number;
  /** Intervals a dashboard may go without reading before it is dropped. */
  readonly stallIntervals?: number;
  /** The fan-out durations of the current interval, observed by the hub. */
  readonly fanout?: LatencyWindow | undefined;
  /** Counts each dashboard under the client's stream limit. */
  readonly admission?: StreamAdmission | undefined;
  /** With `--subscriptions`: who is connected, listed in the `topics` event. */
  readonly presence?: Presence | undefined;
}

// Unsent bytes past which a dashboard is behind: it is skipped (sent nothing new) until it has
// read, then sent every sample it missed at once. A dashboard therefore costs at most about
// this much plus one catch-up frame, however long it stops reading.
const BEHIND_BYTES = 64 * 1024;
const BUSIEST_SHOWN = 10;
const CONNECTED_SHOWN = 50;

/** One open dashboard: where its feed stands. */
interface Dashboard {
  readonly res: HubResponse;
  /** Number of the last sample sent to it. */
  sent: number;
  /** Intervals in a row it was behind. */
  stalled: number;
  /** The client key its stream is counted under (streams per client). */
  readonly countedAs: string | undefined;
}

/**
 * The web UI's live view of the hub, over SSE. One timer samples the hub once an interval,
 * whether or not a dashboard is open, into a fixed ring of the last 15 minutes (a handful of
 * reads and one write per series: cheap enough to run always), so that a dashboard that opens
 * later draws the past at once. The busiest topics and the connected list are computed only
 * while a dashboard is open, from bounded bookkeeping, never by a pass over every topic.
 *
 * Each dashboard is counted under the client's stream limit, and one that stops reading costs
 * nothing more: it is skipped while it is behind, sent what it missed when it catches up, and
 * dropped after `stallIntervals` behind, like a slow event-stream consumer.
 */
export class DashboardFeed {
  readonly #hub: Hub;
  readonly #connections: ConnectionRegistry;
  readonly #intervalMs: number;
  readonly #stallIntervals: number;
  readonly #fanout: LatencyWindow | undefined;
  readonly #admission: StreamAdmission | undefined;
  readonly #presence: Presence | undefined;
  readonly #ring: SampleRing<SeriesName>;
  readonly #dashboards = new Set<Dashboard>();
  readonly #timer: NodeJS.Timeout;
  #last: { at: number; published: number; deliveries: number; dropped: number };
  /** Dashboards dropped for not reading. */
  droppedDashboards = 0;

  constructor(hub: Hub, connections: ConnectionRegistry, options: DashboardFeedOptions = {}) {
    this.#hub = hub;
    this.#connections = connections;
    this.#intervalMs = options.intervalMs ?? 1_000;
    this.#stallIntervals = options.stallIntervals ?? 30;
    this.#fanout = options.fanout;
    this.#admission = options.admission;
    this.#presence = options.presence;
    this.#ring = new SampleRing(SERIES, options.historySamples ?? 900);
    this.#last = this.#totals();
    this.#timer = setInterval(() => {
      this.#tick();
    }, this.#intervalMs);
    // Sampling alone must not keep the process alive.
    this.#timer.unref();
  }

  /** Samples taken since start-up (the ring keeps the newest `historySamples`). */
  get samplesTaken(): number {
    return this.#ring.newest;
  }

  /** Dashboards open now. */
  get size(): number {
    return this.#dashboards.size;
  }

  /**
   * Serves `GET /ui/stats`: counts the stream under the client's limit (throws
   * HERALD_ERR_TOO_MANY_STREAMS past it), then sends the kept history and the activity at once.
   */
  async open(req: HubRequest, res: HubResponse): Promise<void> {
    // An object, so that the check after the await is not narrowed away.
    const client = { left: false };
    const onLeft = () => {
      client.left = true;
    };
    res.once('close', onLeft);
    const countedAs =
      this.#admission === undefined ? undefined : await admitStream(this.#admission, req);
    res.off('close', onLeft);
    if (client.left) {
      // The client left while the cluster's count was asked.
      if (countedAs !== undefined) this.#admission?.streamsPerClient?.release(countedAs);
      return;
    }
    const dashboard: Dashboard = { res, sent: 0, stalled: 0, countedAs };
    this.#dashboards.add(dashboard);
    res.once('close', () => {
      this.#dashboards.delete(dashboard);
      if (countedAs !== undefined) this.#admission?.streamsPerClient?.release(countedAs);
    });
    res.writeHead(200, STREAM_HEADERS);
    // A comment flushes the headers; then the past 15 minutes, so no dashboard starts empty.
    res.write(COMMENT_FRAME);
    this.#send(dashboard, frame('topics', this.#activity()));
  }

  closeAll(): void {
    clearInterval(this.#timer);
    for (const { res } of this.#dashboards) res.end();
    this.#dashboards.clear();
  }

  #tick(): void {
    const totals = this.#totals();
    const elapsedMs = totals.at - this.#last.at;
    const rate = (now: number, before: number) =>
      elapsedMs <= 0 ? 0 : ((now - before) * 1000) / elapsedMs;
    const memory = process.memoryUsage();
    const fanout = this.#fanout;
    this.#ring.push({
      time: Date.now(),
      connections: this.#connections.size,
      subscriptions: this.#hub.subscriberCount,
      topics: this.#hub.topicCount,
      publishesPerSecond: rate(totals.published, this.#last.published),
      deliveriesPerSecond: rate(totals.deliveries, this.#last.deliveries),
      fanoutP50Ms: (fanout?.quantile(0.5) ?? Number.NaN) * 1000,
      fanoutP99Ms: (fanout?.quantile(0.99) ?? Number.NaN) * 1000,
      slowConsumersDropped: totals.dropped - this.#last.dropped,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
    });
    fanout?.reset();
    this.#hub.topicRates?.tick(elapsedMs);
    this.#last = totals;
    if (this.#dashboards.size === 0) return;
    const activity = frame('topics', this.#activity());
    for (const dashboard of this.#dashboards) this.#send(dashboard, activity);
  }

  /** Sends a dashboard the samples it has not had and the activity, unless it is behind. */
  #send(dashboard: Dashboard, activity: string): void {
    const { res } = dashboard;
    if (res.writableLength > BEHIND_BYTES) {
      dashboard.stalled++;
      if (dashboard.stalled >= this.#stallIntervals) {
        this.droppedDashboards++;
        res.destroy();
      }
      return;
    }
    dashboard.stalled = 0;
    const newest = this.#ring.newest;
    if (dashboard.sent < newest) {
      const samples = { intervalMs: this.#intervalMs, series: this.#ring.after(dashboard.sent) };
      res.write(frame('samples', samples));
      dashboard.sent = newest;
    }
    res.write(activity);
  }

  #activity(): DashboardActivity {
    const presence = this.#presence;
    return {
      busiest: this.#hub.busiestTopics(BUSIEST_SHOWN),
      connected:
        presence === undefined
          ? null
          : {
              total: presence.size,
              // Selectors and subscriber ids only: token payloads stay with the subscription API.
              shown: presence
                .first(CONNECTED_SHOWN)
                .map(({ subscriber, topic }) => ({ subscriber, topic })),
            },
    };
  }

  #totals() {
    const { published, deliveries } = this.#hub.stats;
    return {
      at: performance.now(),
      published,
      deliveries,
      dropped: this.#connections.droppedSlowConsumers,
    };
  }
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
