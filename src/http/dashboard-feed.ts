import type { Hub } from '../core/hub.ts';
import { COMMENT_FRAME } from '../core/sse-frame.ts';
import type { ConnectionRegistry } from './connection-registry.ts';
import type { HubResponse } from './http-message.ts';
import { STREAM_HEADERS } from './stream-headers.ts';

/** What the dashboard shows, once a second. */
export interface DashboardStats {
  readonly connections: number;
  readonly subscriptions: number;
  readonly topics: number;
  readonly publishesPerSecond: number;
  readonly deliveriesPerSecond: number;
  readonly droppedSlowConsumers: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
}

/**
 * The web UI's live view of the hub, over SSE: one timer samples the hub's running totals once
 * a second, only while a dashboard is open, and writes the same frame to every dashboard.
 */
export class DashboardFeed {
  readonly #hub: Hub;
  readonly #connections: ConnectionRegistry;
  readonly #intervalMs: number;
  readonly #clients = new Set<HubResponse>();
  #timer: NodeJS.Timeout | undefined;
  #last = { at: 0, published: 0, deliveries: 0 };

  constructor(hub: Hub, connections: ConnectionRegistry, intervalMs = 1_000) {
    this.#hub = hub;
    this.#connections = connections;
    this.#intervalMs = intervalMs;
  }

  open(res: HubResponse): void {
    res.writeHead(200, STREAM_HEADERS);
    this.#clients.add(res);
    res.once('close', () => {
      this.#clients.delete(res);
      if (this.#clients.size === 0) this.#stop();
    });
    if (this.#timer === undefined) {
      this.#last = this.#totals();
      this.#timer = setInterval(() => {
        this.#broadcast();
      }, this.#intervalMs);
    }
    // A comment flushes the headers, then a first sample at once: no dashboard waits a second.
    res.write(COMMENT_FRAME);
    res.write(frame(this.sample(0)));
  }

  /** The figures now; rates over the `elapsedMs` since the previous sample. */
  sample(elapsedMs: number): DashboardStats {
    const totals = this.#totals();
    const rate = (now: number, before: number) =>
      elapsedMs === 0 ? 0 : ((now - before) * 1000) / elapsedMs;
    const memory = process.memoryUsage();
    return {
      connections: this.#connections.size,
      subscriptions: this.#hub.subscriberCount,
      topics: this.#hub.topicCount,
      publishesPerSecond: rate(totals.published, this.#last.published),
      deliveriesPerSecond: rate(totals.deliveries, this.#last.deliveries),
      droppedSlowConsumers: this.#connections.droppedSlowConsumers,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
    };
  }

  closeAll(): void {
    this.#stop();
    for (const res of this.#clients) res.end();
    this.#clients.clear();
  }

  #broadcast(): void {
    const totals = this.#totals();
    const bytes = frame(this.sample(totals.at - this.#last.at));
    this.#last = totals;
    for (const res of this.#clients) res.write(bytes);
  }

  #totals() {
    const { published, deliveries } = this.#hub.stats;
    return { at: performance.now(), published, deliveries };
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

function frame(stats: DashboardStats): string {
  return `data: ${JSON.stringify(stats)}\n\n`;
}
