/** One run of the scale benchmark: S subscribers held over the workers of one `herald serve`. */
export interface ScaleResult {
  readonly subscribers: number;
  readonly serverWorkers: number;
  readonly clientProcesses: number;
  /** Connections answered 200, as the load clients count them. */
  readonly heldByClients: number;
  /** `herald_connections` from /metrics (the primary sums every worker). */
  readonly heldByServer: number;
  readonly rampSeconds: number;
  /** Resident memory of the primary and every worker, idle and with everyone held. */
  readonly serverRssMbBefore: number;
  readonly serverRssMbHeld: number;
  readonly kbPerHeldSubscriber: number;
  readonly clientRssMbHeld: number;
  readonly broadcasts: number;
  /** Publish → last subscriber received, ms, per broadcast. */
  readonly fanoutMs: readonly number[];
  readonly fanoutP50: number;
  readonly fanoutMax: number;
  /** Deliveries over the sum of the fan-out times. */
  readonly deliveriesPerSecond: number;
  readonly deliveries: number;
  /** Held subscribers that received every broadcast, in order, once. */
  readonly completeSubscribers: number;
  readonly completeness: number;
  /** Connections the clients saw closed before the end. */
  readonly closedEarly: number;
  readonly loadAverage: { readonly before: number; readonly held: number; readonly after: number };
  /** Why the run stopped short of the target, when it did. */
  readonly shortfall?: string;
}

const f = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

export function renderMarkdown(results: readonly ScaleResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.subscribers} | ${r.serverWorkers} × ${r.clientProcesses} | ${r.heldByClients} / ${r.heldByServer} | ${f(r.rampSeconds)} | ${f(r.serverRssMbHeld, 0)} | ${f(r.kbPerHeldSubscriber)} | ${f(r.fanoutP50, 0)} / ${f(r.fanoutMax, 0)} | ${f(r.deliveriesPerSecond / 1000)}k | ${r.completeSubscribers} (${f(r.completeness * 100, 2)}%) | ${f(r.loadAverage.held, 2)} |`,
  );
  return [
    '| subscribers | server workers × client processes | held (clients / server metrics) | ramp s | server RSS MB (primary + workers) | KB per held subscriber | fan-out p50 / max ms | deliveries/s | got every broadcast | load avg (1 min) when held |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
