/** Latency quantiles in ms, and how many deliveries they were taken over. */
export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly deliveries: number;
}

/** One configuration (store × nodes) measured under the same load. */
export interface ClusterResult {
  readonly configuration: string;
  /** `redis`: the machine's Redis; `single`, `sentinel`, `cluster`: the benchmark's own. */
  readonly store: 'memory' | 'redis' | 'single' | 'sentinel' | 'cluster';
  readonly nodes: number;
  /** The machine's 1-minute load average when this configuration started (2 cores here). */
  readonly loadAverage: number;
  /** Subscribers connected and answered 200, spread evenly over the nodes. */
  readonly held: number;
  /** Paced phase: one publish at a time, all on node A. */
  readonly paced: {
    readonly events: number;
    /** Publish on A → received by a subscriber on A. */
    readonly sameNode: Latency;
    /** Publish on A → received by a subscriber on another node; absent with one node. */
    readonly crossNode: Latency | undefined;
    /** Share of subscribers that got every paced event, in order, once. */
    readonly complete: number;
  };
  /** Load phase: concurrent publishers, round-robin over the nodes, back to back. */
  readonly load: {
    readonly publishers: number;
    readonly seconds: number;
    readonly acked: number;
    readonly ackedPerSecond: number;
    /** Request sent → 200 read, ms. */
    readonly ackP50: number;
    readonly ackP99: number;
    /** Publish → receive per delivery under that load. */
    readonly delivery: Latency;
    /** Deliveries counted ÷ (acked × subscribers held). */
    readonly delivered: number;
    /** CPU seconds (user + system) per acknowledged publish, in µs, incl. delivery. */
    readonly heraldCpuMicrosPerPublish: number;
    /** The same for every redis-server of the deployment (replicas included; not Sentinels). */
    readonly redisCpuMicrosPerPublish: number | undefined;
  };
}

const f = (value: number | undefined, digits = 1) =>
  value !== undefined && Number.isFinite(value) ? value.toFixed(digits) : '–';
const q = (latency: Latency | undefined) =>
  latency === undefined ? '–' : `${f(latency.p50)} / ${f(latency.p99)} / ${f(latency.p999)}`;

/** One table; throughput ratios against the first configuration of the same round. */
export function renderMarkdown(results: readonly ClusterResult[]): string {
  const baseline = results[0]?.load.ackedPerSecond ?? Number.NaN;
  const rows = results.map((r) => {
    const cpu =
      r.load.redisCpuMicrosPerPublish === undefined
        ? f(r.load.heraldCpuMicrosPerPublish, 0)
        : `${f(r.load.heraldCpuMicrosPerPublish, 0)} + ${f(r.load.redisCpuMicrosPerPublish, 0)}`;
    return `| ${r.configuration} | ${r.held} | ${q(r.paced.sameNode)} | ${q(r.paced.crossNode)} | ${f(r.paced.complete * 100)}% | ${f(r.load.ackedPerSecond, 0)} | ${f(r.load.ackedPerSecond / baseline, 2)} | ${f(r.load.ackP50, 2)} / ${f(r.load.ackP99, 2)} | ${q(r.load.delivery)} | ${f(r.load.delivered * 100)}% | ${cpu} | ${f(r.loadAverage)} |`;
  });
  return [
    `| configuration | subscribers | paced same-node p50 / p99 / p999 ms | paced cross-node p50 / p99 / p999 ms | paced complete | acked publishes/s | ÷ ${results[0]?.configuration ?? ''} | ack p50 / p99 ms | under load p50 / p99 / p999 ms | delivered | CPU µs per publish (herald + redis) | load |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
