// Herald's web UI: plain modules, no framework. The dashboard reads the hub's own SSE feed
// (./stats: the last 15 minutes at once, then each second's sample) and draws it with uPlot;
// the debugger subscribes over fetch (every event type) and publishes with fetch.
import { compact, timeChart } from './charts.js';
import { readEvents } from './event-stream.js';

const HUB = new URL('/.well-known/mercure', location.href);
const $ = (id) => document.getElementById(id);
const lines = (text) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);

// ---------------------------------------------------------------- Dashboard

const WINDOW_SECONDS = 15 * 60;
const MiB = 1048576;
const milliseconds = (value) =>
  value < 1 ? `${(value * 1000).toFixed(0)} µs` : `${compact(value)} ms`;

const charts = {
  clients: timeChart(
    $('chart-clients'),
    [
      { label: 'Connections', color: '--series-1' },
      { label: 'Subscriptions', color: '--series-2' },
    ],
    { counts: true },
  ),
  traffic: timeChart($('chart-traffic'), [
    { label: 'Publishes/s', color: '--series-3' },
    { label: 'Deliveries/s', color: '--series-1' },
  ]),
  fanout: timeChart(
    $('chart-fanout'),
    [
      { label: 'p50', color: '--series-2', format: milliseconds },
      { label: 'p99', color: '--series-4', format: milliseconds },
    ],
    { unit: '' },
  ),
  memory: timeChart($('chart-memory'), [
    { label: 'RSS', color: '--series-1', format: (v) => `${compact(v)} MiB` },
    { label: 'Heap used', color: '--series-2', format: (v) => `${compact(v)} MiB` },
  ]),
  dropped: timeChart($('chart-dropped'), [{ label: 'Dropped', color: '--series-4' }], {
    counts: true,
  }),
};
// For people poking at the page, and for the UI test: the charts and the data they hold.
window.herald = { charts };

/** Every sample received, one array per series (times in seconds), the last 15 minutes. */
const history = {};

function append(series) {
  for (const [name, values] of Object.entries(series)) {
    const column = (history[name] ??= []);
    // JSON has no NaN: a missing value (no update this second) arrives as null.
    for (const value of values) column.push(value);
  }
  const times = history.time ?? [];
  const cutoff = Date.now() - WINDOW_SECONDS * 1000;
  let drop = 0;
  while (drop < times.length && times[drop] < cutoff) drop++;
  if (drop > 0) for (const column of Object.values(history)) column.splice(0, drop);
}

function render() {
  const seconds = (history.time ?? []).map((ms) => ms / 1000);
  const column = (name, scale = 1) =>
    (history[name] ?? []).map((v) => (v === null ? null : v / scale));
  charts.clients.setData(seconds, [column('connections'), column('subscriptions')]);
  charts.traffic.setData(seconds, [column('publishesPerSecond'), column('deliveriesPerSecond')]);
  charts.fanout.setData(seconds, [column('fanoutP50Ms'), column('fanoutP99Ms')]);
  charts.memory.setData(seconds, [column('rssBytes', MiB), column('heapUsedBytes', MiB)]);
  charts.dropped.setData(seconds, [column('slowConsumersDropped')]);

  const latest = (name) => history[name]?.at(-1);
  const whole = new Intl.NumberFormat('en');
  const set = (id, text) => {
    $(id).textContent = text;
  };
  set('stat-connections', whole.format(latest('connections') ?? 0));
  set('stat-subscriptions', whole.format(latest('subscriptions') ?? 0));
  set('stat-topics', whole.format(latest('topics') ?? 0));
  set('stat-publishes', compact(latest('publishesPerSecond') ?? 0));
  set('stat-deliveries', compact(latest('deliveriesPerSecond') ?? 0));
  // The last second with an update, not a dash each quiet second.
  const p99 = (history.fanoutP99Ms ?? []).findLast((v) => v !== null);
  set('stat-fanout', p99 === undefined ? '–' : milliseconds(p99));
  const dropped = (history.slowConsumersDropped ?? []).reduce((sum, v) => sum + (v ?? 0), 0);
  set('stat-dropped', whole.format(dropped));
  set('stat-memory', `${whole.format(Math.round((latest('rssBytes') ?? 0) / MiB))} MiB`);
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text; // textContent, never innerHTML: topics and ids come from clients.
  if (className) td.className = className;
  return td;
}

function showActivity({ busiest, connected }) {
  const rows = busiest.map((topic) => {
    const row = document.createElement('tr');
    row.append(
      cell(topic.topic, 'topic'),
      cell(compact(topic.subscribers), 'num'),
      cell(compact(topic.updatesPerSecond), 'num'),
      cell(compact(topic.deliveriesPerSecond), 'num'),
    );
    return row;
  });
  $('busiest').replaceChildren(...rows);
  $('busiest-empty').hidden = rows.length > 0;

  $('connected-card').hidden = connected === null;
  if (connected === null) return;
  $('connected-count').textContent =
    connected.total > connected.shown.length
      ? `${connected.shown.length} of ${connected.total}`
      : String(connected.total);
  $('connected').replaceChildren(
    ...connected.shown.map(({ subscriber, topic }) => {
      const row = document.createElement('tr');
      row.append(cell(subscriber, 'id'), cell(topic, 'topic'));
      return row;
    }),
  );
}

function feedStatus(state, text) {
  $('feed-status').className = `pill ${state}`;
  $('feed-status-text').textContent = text;
}

const feed = new EventSource('stats');
feed.onopen = () => feedStatus('live', 'Live');
feed.onerror = () => feedStatus('connecting', 'Reconnecting…');
feed.addEventListener('samples', (event) => {
  const { series } = JSON.parse(event.data);
  // A reconnect starts again from the hub's whole history: forget ours.
  if (series.time.length > 0 && series.time[0] <= (history.time?.at(-1) ?? 0)) {
    for (const column of Object.values(history)) column.length = 0;
  }
  append(series);
  render();
});
feed.addEventListener('topics', (event) => showActivity(JSON.parse(event.data)));

// ---------------------------------------------------------------- Debugger: subscribe

// Development mode hands the page the token it printed (only to a browser on the same machine).
const developmentToken = document.querySelector('meta[name="herald-development-publisher-token"]');
if (developmentToken?.content) {
  $('publish-token').value = developmentToken.content;
  $('token-note').textContent = "(development mode's token, pre-filled)";
}

let closeSubscription;
function stop(message) {
  closeSubscription?.();
  closeSubscription = undefined;
  $('subscribe').disabled = false;
  $('unsubscribe').disabled = true;
  $('subscription-status').textContent = message;
  $('subscription-status').dataset.state = 'idle';
}

const clock = new Intl.DateTimeFormat('en-GB', {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  fractionalSecondDigits: 3,
  hour12: false,
});

function show(event) {
  const row = document.createElement('tr');
  row.append(
    cell(clock.format(new Date()), 'time'),
    cell(event.id, 'id'),
    cell(event.type, event.type === 'message' ? 'type' : 'type typed'),
    cell(event.data, 'data'),
  );
  $('events').prepend(row);
  $('events-empty').hidden = true;
}

$('subscribe-form').addEventListener('submit', (submit) => {
  submit.preventDefault();
  stop('Connecting…');
  const url = new URL(HUB);
  const selectors = lines($('selectors').value);
  // One kind per subscription: a hub refuses topic= and match= together.
  const kind = $('selector-kind').value;
  for (const selector of selectors) url.searchParams.append(kind, selector);
  const status = $('subscription-status');
  closeSubscription = readEvents(url, {
    token: $('subscribe-token').value.trim(),
    lastEventId: $('last-event-id').value.trim(),
    onEvent: show,
    onState(state, detail) {
      status.dataset.state = state;
      if (state === 'connecting') status.textContent = 'Connecting…';
      if (state === 'open') status.textContent = `Subscribed to ${selectors.join(', ')}.`;
      if (state === 'retrying') status.textContent = 'Connection lost; reconnecting…';
      if (state === 'refused') stop(`Refused (${detail})`);
    },
  });
  $('subscribe').disabled = true;
  $('unsubscribe').disabled = false;
});
$('unsubscribe').addEventListener('click', () => stop('Not subscribed.'));
$('clear-events').addEventListener('click', () => {
  $('events').replaceChildren();
  $('events-empty').hidden = false;
});

// ---------------------------------------------------------------- Debugger: publish

$('publish-form').addEventListener('submit', async (submit) => {
  submit.preventDefault();
  const form = new URLSearchParams();
  for (const topic of lines($('publish-topics').value)) form.append('topic', topic);
  form.set('data', $('publish-data').value);
  for (const [field, id] of [
    ['type', 'publish-type'],
    ['id', 'publish-id'],
  ]) {
    const value = $(id).value.trim();
    if (value) form.set(field, value);
  }
  if ($('publish-private').checked) form.set('private', 'on');
  $('publish-status').textContent = 'Publishing…';
  try {
    const response = await fetch(HUB, {
      method: 'POST',
      headers: { Authorization: `Bearer ${$('publish-token').value.trim()}` },
      body: form,
    });
    const text = await response.text();
    let detail = text;
    try {
      detail = JSON.parse(text).detail ?? text;
    } catch {
      // Not a problem document.
    }
    $('publish-status').textContent = response.ok
      ? `Published ${text}`
      : `Refused (${response.status}): ${detail}`;
  } catch (error) {
    $('publish-status').textContent = `Failed: ${error.message}`;
  }
});
