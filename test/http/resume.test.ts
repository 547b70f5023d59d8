import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventSource } from 'eventsource';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub } from '../support/test-hub.ts';
import { waitFor } from '../support/wait.ts';

const TOPIC = 'https://example.com/feed';

async function publishMany(
  hub: Awaited<ReturnType<typeof startTestHub>>,
  from: number,
  count: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = from; i < from + count; i++) {
    const result = await hub.publish({ topic: TOPIC, data: `event ${i}` });
    assert.equal(result.status, 200);
    ids.push(result.body);
  }
  return ids;
}

test('a client that reconnects with Last-Event-ID gets every missed update exactly once', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const first = await EventStream.open(t, hub.subscribeUrl([TOPIC]));
  const before = await publishMany(hub, 0, 3);
  const seen = await first.waitForEvents(3);
  first.close();
  await first.done;

  const missed = await publishMany(hub, 3, 5);
  const resumed = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
    'Last-Event-ID': seen.at(-1)?.id ?? '',
  });
  assert.equal(resumed.headers.get('last-event-id'), before.at(-1));
  const after = await publishMany(hub, 8, 2);
  const events = await resumed.waitForEvents(7);
  assert.deepEqual(
    events.map((event) => event.id),
    [...missed, ...after],
  );
  assert.deepEqual(
    events.map((event) => event.data),
    ['event 3', 'event 4', 'event 5', 'event 6', 'event 7', 'event 8', 'event 9'],
  );
  // Nothing more arrives: no duplicate trails the replay.
  await hub.publish({ topic: TOPIC, data: 'marker' });
  await resumed.waitForEvents(8);
  assert.equal(resumed.events.length, 8);
});

test('the lastEventID query parameter resumes too, and the header wins over it', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const ids = await publishMany(hub, 0, 4);
  const byQuery = await EventStream.open(
    t,
    hub.subscribeUrl([TOPIC], { lastEventID: ids[1] ?? '' }),
  );
  assert.deepEqual(
    (await byQuery.waitForEvents(2)).map((event) => event.id),
    ids.slice(2),
  );
  // draft-07 named the query parameter Last-Event-ID; it still works.
  const byDraft7Query = await EventStream.open(
    t,
    hub.subscribeUrl([TOPIC], { 'Last-Event-ID': ids[2] ?? '' }),
  );
  assert.deepEqual(
    (await byDraft7Query.waitForEvents(1)).map((event) => event.id),
    ids.slice(3),
  );
  const both = await EventStream.open(t, hub.subscribeUrl([TOPIC], { lastEventID: ids[0] ?? '' }), {
    'Last-Event-ID': ids[2] ?? '',
  });
  assert.equal(both.headers.get('last-event-id'), ids[2]);
  assert.deepEqual(
    (await both.waitForEvents(1)).map((event) => event.id),
    ids.slice(3),
  );
});

test('earliest replays all kept history, then goes live', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, historySize: 5 });
  const ids = await publishMany(hub, 0, 8);
  const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC], { lastEventID: 'earliest' }));
  assert.equal(stream.headers.get('last-event-id'), 'earliest');
  const live = await publishMany(hub, 8, 1);
  assert.deepEqual(
    (await stream.waitForEvents(6)).map((event) => event.id),
    [...ids.slice(3), ...live],
  );
});

test('an unknown Last-Event-ID replays nothing, answers "earliest", and the stream stays live', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, historySize: 2 });
  const ids = await publishMany(hub, 0, 4);
  for (const unknown of ['urn:uuid:never-issued', ids[0] ?? '']) {
    // ids[0] was trimmed from a history of two: as unknown as one never issued.
    const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
      'Last-Event-ID': unknown,
    });
    assert.equal(stream.status, 200);
    assert.equal(stream.headers.get('last-event-id'), 'earliest');
    const live = await publishMany(hub, 10, 1);
    assert.deepEqual(
      (await stream.waitForEvents(1)).map((event) => event.id),
      live,
    );
    stream.close();
  }
});

test('no gap and no duplicate while subscribers resume during a continuous publish', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const stop = new AbortController();
  const published: string[] = [];
  const publisher = (async () => {
    for (let i = 0; !stop.signal.aborted; i++) {
      const result = await hub.publish({ topic: TOPIC, data: `n${i}` });
      published.push(result.body);
    }
  })();
  await waitFor(() => published.length >= 10, { message: 'ten publishes' });

  // Each subscriber resumes from a different point while updates keep arriving.
  const resumers = [];
  for (let k = 0; k < 10; k++) {
    const after = published.at(-1 - k) ?? 'earliest';
    const start = after === 'earliest' ? 0 : published.indexOf(after) + 1;
    resumers.push({
      start,
      stream: await EventStream.open(t, hub.subscribeUrl([TOPIC]), { 'Last-Event-ID': after }),
    });
  }
  // Updates keep arriving after the last resume.
  const resumedAt = published.length;
  await waitFor(() => published.length >= resumedAt + 20, { message: '20 more publishes' });
  stop.abort();
  await publisher;
  for (const { start, stream } of resumers) {
    const expected = published.slice(start);
    const events = await stream.waitForEvents(expected.length);
    assert.deepEqual(
      events.map((event) => event.id),
      expected,
    );
  }
});

test('after a graceful shutdown, EventSource reconnects by itself to the hub that replaces it', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const source = new EventSource(hub.subscribeUrl([TOPIC]));
  t.after(() => {
    source.close();
  });
  const data: string[] = [];
  let opens = 0;
  source.onmessage = (event) => data.push(String(event.data));
  source.onopen = () => opens++;
  await waitFor(() => opens > 0, { message: 'EventSource to open' });
  await publishMany(hub, 0, 2);
  await waitFor(() => data.length >= 2, { message: 'two events' });

  assert.equal(hub.herald.hub.subscriberCount, 1);
  await hub.herald.close();
  const reborn = await startTestHub(t, { anonymous: true, port: hub.herald.port });
  // A new process has a new history: resuming from an id it does not know gives "earliest".
  await reborn.publish({ topic: TOPIC, data: 'after restart' });
  // Published again until the reconnected EventSource gets one (it may reconnect after any).
  await waitFor(
    async () => {
      if (data.includes('after restart')) return true;
      await reborn.publish({ topic: TOPIC, data: 'after restart' });
      return false;
    },
    { interval: 100, message: 'an update after the restart' },
  );
  assert.ok(opens >= 2, 'EventSource reopened');
  assert.deepEqual(data.slice(0, 2), ['event 0', 'event 1']);
  assert.ok(data.includes('after restart'));
});

test('ids beyond ASCII resume by header and by query, and are echoed as UTF-8', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const ids = ['urn:example:commande-été', 'urn:example:日本-1', 'urn:example:🚀'];
  for (const id of ids)
    assert.equal((await hub.publish({ topic: TOPIC, id, data: id })).status, 200);

  const byQuery = await EventStream.open(
    t,
    hub.subscribeUrl([TOPIC], { lastEventID: ids[0] ?? '' }),
  );
  assert.equal(byQuery.status, 200);
  assert.equal(
    Buffer.from(byQuery.headers.get('last-event-id') ?? '', 'latin1').toString('utf8'),
    ids[0],
  );
  assert.deepEqual(
    (await byQuery.waitForEvents(2)).map((event) => event.id),
    ids.slice(1),
  );

  // What EventSource does on reconnect: the last id, as UTF-8 bytes in the header.
  const byHeader = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
    'Last-Event-ID': Buffer.from(ids[1] ?? '', 'utf8').toString('latin1'),
  });
  assert.deepEqual(
    (await byHeader.waitForEvents(1)).map((event) => event.id),
    ids.slice(2),
  );
  assert.deepEqual(hub.internalErrors, []);
});
