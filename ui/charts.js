// Time-series charts drawn with uPlot (loaded as the global `uPlot` from vendor/): one small
// canvas chart per figure, sized to its card, coloured from the page's CSS variables so that
// light and dark themes both read well.
/* global uPlot */

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/** Opacity appended to a #rrggbb colour, for area fills. */
const translucent = (hex, alpha) =>
  `${hex}${Math.round(alpha * 255)
    .toString(16)
    .padStart(2, '0')}`;

const HEIGHT = 170;

/**
 * A chart of `series` ([{ label, color: CSS variable, format }]) over time; `counts`: whole
 * numbers on the value axis. `setData(times,
 * columns)` takes seconds since the epoch and one array per series (null = no value).
 */
// Tick steps of an axis that counts things: never 0.5 of a connection.
const WHOLE_STEPS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6,
];

export function timeChart(container, series, { unit = '', counts = false } = {}) {
  let chart;
  let data = [[], ...series.map(() => [])];

  const options = () => {
    const axis = {
      stroke: css('--muted'),
      grid: { stroke: css('--grid'), width: 1 },
      ticks: { stroke: css('--grid'), width: 1 },
      font: `11px ${css('--sans')}`,
    };
    return {
      width: Math.max(container.clientWidth, 200),
      height: HEIGHT,
      // Room on the right for the last time label, which is centred on its tick.
      padding: [8, 28, 0, 0],
      cursor: { drag: { x: false, y: false } },
      // Labels only: the headline figures above say the latest values.
      legend: { live: false },
      scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(max * 1.15, 1)] } },
      axes: [
        { ...axis, space: 70, values: (_u, ticks) => ticks.map(clockLabel) },
        {
          ...axis,
          size: 52,
          ...(counts ? { incrs: WHOLE_STEPS } : {}),
          values: (_u, ticks) => ticks.map((tick) => compact(tick) + unit),
        },
      ],
      series: [
        {},
        ...series.map(({ label, color, format = compact }) => {
          const stroke = css(color);
          return {
            label,
            stroke,
            width: 1.75,
            fill: translucent(stroke, 0.12),
            points: { show: false },
            spanGaps: false,
            value: (_u, value) => (value === null || value === undefined ? '–' : format(value)),
          };
        }),
      ],
    };
  };

  const build = () => {
    chart?.destroy();
    chart = new uPlot(options(), data, container);
  };
  build();

  // Follows its card's width, and the theme when the system switches.
  new ResizeObserver(() => {
    const width = Math.max(container.clientWidth, 200);
    if (chart.width !== width) chart.setSize({ width, height: HEIGHT });
  }).observe(container);
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', build);

  return {
    get uplot() {
      return chart;
    },
    setData(times, columns) {
      data = [times, ...columns];
      chart.setData(data);
    },
  };
}

const clockFormat = new Intl.DateTimeFormat('en-GB', {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});

/** A time axis tick (seconds since the epoch) as 23:14:05. */
function clockLabel(seconds) {
  return clockFormat.format(new Date(seconds * 1000));
}

const compactFormat = new Intl.NumberFormat('en', {
  notation: 'compact',
  maximumFractionDigits: 1,
});

/** 1234 -> 1.2K; small values keep decimals. */
export function compact(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  if (Math.abs(value) < 10 && value !== Math.trunc(value)) return value.toFixed(2);
  return compactFormat.format(value);
}
