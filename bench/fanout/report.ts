/** One target measured at one subscriber count. */
export interface Result {
  readonly target: string;
  readonly subscribers: number;
  /** Subscribers connected and answered 200. */
  readonly held: number;
  readonly kbPerIdleSubscriber: number;
  /** First connect → last response head, all client processes (wall clock: load-sensitive). */
  readonly connectSeconds: number;
  /** Server CPU (utime + stime) while the subscribers connected, per subscriber held. */
  readonly cpuMicrosPerSubscribe: number;
  /** The reconnect storm (run.ts `--storm`), when run. */
  readonly storm?: {
    /** Subscribers answered 200 again. */
    readonly resumed: number;
    /** Storm start → the last response head. */
    readonly headsSeconds: number;
    /** Storm start → the last subscriber has every event it missed. */
    readonly allLiveSeconds: number;
    /** Server CPU per resumed subscriber: accept, history lookup, replay. */
    readonly cpuMicrosPerResume: number;
    /** Share of subscribers that got every missed event, in order, once. */
    readonly complete: number;
  };
  /** Server CPU per delivery in the back-to-back phase. */
  readonly cpuMicrosPerDelivery: number;
  /** Server CPU per delivery in the paced phase: one update at a time, nothing to coalesce. */
  readonly pacedCpuMicrosPerDelivery: number;
  readonly deliveriesPerSecond: number;
  /** Publish → last subscriber received, ms, one event every 100 ms. */
  readonly fanoutP50: number;
  readonly fanoutP99: number;
  /** Publish → receive per delivery, ms. */
  readonly latencyP50: number;
  readonly latencyP99: number;
  readonly latencyP999: number;
  /** Share of subscribers that got every event of both phases, in order, once. */
  readonly completeness: number;
}

const f = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

export function renderMarkdown(results: readonly Result[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.target} | ${r.subscribers} | ${r.held} | ${f(r.kbPerIdleSubscriber)} | ${f(r.cpuMicrosPerDelivery)} | ${f(r.pacedCpuMicrosPerDelivery)} | ${f(r.deliveriesPerSecond / 1000)}k | ${f(r.fanoutP50)} / ${f(r.fanoutP99)} | ${f(r.latencyP50)} / ${f(r.latencyP99)} / ${f(r.latencyP999)} | ${f(r.completeness * 100)}% |`,
  );
  return [
    '| target | subscribers | held | KB per idle subscriber | server CPU µs per delivery | paced CPU µs per delivery | deliveries/s | fan-out p50 / p99 ms | latency p50 / p99 / p999 ms | complete |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** The cost of connections: subscribing, holding idle, and resuming all at once. */
export function renderConnectionMarkdown(results: readonly Result[]): string {
  const rows = results.map((r) => {
    const s = r.storm;
    const storm =
      s === undefined
        ? '– | – | – | –'
        : `${s.resumed} | ${f(s.headsSeconds, 2)} / ${f(s.allLiveSeconds, 2)} | ${f(s.cpuMicrosPerResume, 0)} | ${f(s.complete * 100)}%`;
    return `| ${r.target} | ${r.held} | ${f(r.connectSeconds, 2)} | ${f(r.cpuMicrosPerSubscribe, 0)} | ${f(r.kbPerIdleSubscriber)} | ${storm} |`;
  });
  return [
    '| target | held | connect s | server CPU µs per subscribe | KB per idle subscriber | storm: resumed | storm: heads / all live s | storm: server CPU µs per resume | storm: complete |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** Latency p50 and p99 against subscribers, one line pair per target, as a small SVG chart. */
export function renderSvg(results: readonly Result[]): string {
  const width = 640;
  const height = 360;
  const margin = 50;
  const targets = [...new Set(results.map((r) => r.target))];
  const xs = [...new Set(results.map((r) => r.subscribers))].sort((a, b) => a - b);
  const yMax = Math.max(1, ...results.map((r) => r.latencyP99).filter(Number.isFinite));
  const x = (n: number) =>
    margin + (xs.length === 1 ? 0.5 : xs.indexOf(n) / (xs.length - 1)) * (width - 2 * margin);
  const y = (ms: number) => height - margin - (ms / yMax) * (height - 2 * margin);
  const colors = ['#3a5ccc', '#d97706', '#16a34a', '#dc2626'];
  const lines = targets.flatMap((target, i) => {
    const points = results
      .filter((r) => r.target === target)
      .sort((a, b) => a.subscribers - b.subscribers);
    const color = colors[i % colors.length] ?? '#000';
    return (['latencyP50', 'latencyP99'] as const).map((key) => {
      const path = points
        .map((p) => `${x(p.subscribers).toFixed(1)},${y(p[key]).toFixed(1)}`)
        .join(' ');
      const dash = key === 'latencyP99' ? ' stroke-dasharray="6 4"' : '';
      return `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${path}"/>`;
    });
  });
  const legend = targets.map(
    (target, i) =>
      `<text x="${width - margin - 120}" y="${margin + i * 18}" fill="${colors[i % colors.length] ?? '#000'}">${target} (p50 solid, p99 dashed)</text>`,
  );
  const ticks = xs.map(
    (n) => `<text x="${x(n)}" y="${height - margin + 18}" text-anchor="middle">${n}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<line x1="${margin}" y1="${height - margin}" x2="${width - margin}" y2="${height - margin}" stroke="#999"/>
<line x1="${margin}" y1="${margin}" x2="${margin}" y2="${height - margin}" stroke="#999"/>
<text x="${width / 2}" y="${height - 10}" text-anchor="middle">subscribers</text>
<text x="14" y="${height / 2}" transform="rotate(-90 14 ${height / 2})" text-anchor="middle">latency ms (max ${yMax.toFixed(0)})</text>
${ticks.join('\n')}
${lines.join('\n')}
${legend.join('\n')}
</svg>
`;
}
