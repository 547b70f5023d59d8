// Herald's web UI: plain modules, no framework. The dashboard reads the hub's own SSE feed
// (./stats); the debugger subscribes with EventSource and publishes with fetch.
const HUB = new URL('/.well-known/mercure', location.href);
const $ = (id) => document.getElementById(id);
const lines = (text) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);

// Dashboard
const numbers = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
const feed = new EventSource('stats');
feed.onopen = () => {
  $('feed-status').textContent = 'live';
  $('feed-status').classList.add('live');
};
feed.onerror = () => {
  $('feed-status').textContent = 'reconnecting…';
  $('feed-status').classList.remove('live');
};
feed.onmessage = (event) => {
  const stats = JSON.parse(event.data);
  $('stat-connections').textContent = numbers.format(stats.connections);
  $('stat-subscriptions').textContent = numbers.format(stats.subscriptions);
  $('stat-topics').textContent = numbers.format(stats.topics);
  $('stat-publishes').textContent = numbers.format(stats.publishesPerSecond);
  $('stat-deliveries').textContent = numbers.format(stats.deliveriesPerSecond);
  $('stat-dropped').textContent = numbers.format(stats.droppedSlowConsumers);
  $('stat-memory').textContent = `${numbers.format(stats.rssBytes / 1048576)} MiB`;
};

// Debugger: subscribe
let subscription;
function stop(message) {
  subscription?.close();
  subscription = undefined;
  $('subscribe').disabled = false;
  $('unsubscribe').disabled = true;
  $('subscription-status').textContent = message;
}
function show(event) {
  const row = document.createElement('tr');
  const cells = [
    [
      'time',
      new Date().toLocaleTimeString('en-GB', {
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        fractionalSecondDigits: 3,
        hour12: false,
      }),
    ],
    ['id', event.lastEventId],
    ['type', event.type],
    ['data', event.data],
  ];
  for (const [name, text] of cells) {
    const cell = document.createElement('td');
    cell.className = name;
    cell.textContent = text; // textContent, never innerHTML: event data is untrusted.
    row.append(cell);
  }
  $('events').prepend(row);
}
$('subscribe-form').addEventListener('submit', (submit) => {
  submit.preventDefault();
  stop('Connecting…');
  const url = new URL(HUB);
  for (const selector of lines($('selectors').value)) url.searchParams.append('topic', selector);
  const token = $('subscribe-token').value.trim();
  if (token) url.searchParams.set('authorization', token);
  const lastEventId = $('last-event-id').value.trim();
  if (lastEventId) url.searchParams.set('lastEventID', lastEventId);
  subscription = new EventSource(url);
  subscription.onmessage = show;
  for (const type of $('event-types')
    .value.split(',')
    .map((t) => t.trim())
    .filter(Boolean)) {
    subscription.addEventListener(type, show);
  }
  subscription.onopen = () => {
    $('subscription-status').textContent =
      `Subscribed to ${url.searchParams.getAll('topic').join(', ')}.`;
  };
  subscription.onerror = () => {
    // EventSource retries by itself after a drop; it gives up (CLOSED) on a refusal.
    if (subscription?.readyState === EventSource.CLOSED) {
      stop('Refused by the hub (check the selectors and the token).');
    } else {
      $('subscription-status').textContent = 'Connection lost; reconnecting…';
    }
  };
  $('subscribe').disabled = true;
  $('unsubscribe').disabled = false;
});
$('unsubscribe').addEventListener('click', () => stop('Not subscribed.'));

// Debugger: publish
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
    $('publish-status').textContent = response.ok
      ? `Published ${text}`
      : `Refused (${response.status}): ${JSON.parse(text).detail}`;
  } catch (error) {
    $('publish-status').textContent = `Failed: ${error.message}`;
  }
});
