import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventSource } from 'eventsource';
import { fetch } from 'undici';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub } from '../support/test-hub.ts';
import { waitFor } from '../support/wait.ts';

const TOPIC = 'https://example.com/books/1';

test('a third-party EventSource receives exactly what was published, in order', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const source = new EventSource(hub.subscribeUrl([TOPIC]));
  t.after(() => {
    source.close();
  });
  const received: { id: string; type: string; data: string }[] = [];
  const handler = (event: MessageEvent) => {
    received.push({ id: event.lastEventId, type: event.type, data: String(event.data) });
  };
  source.addEventListener('message', handler);
  source.addEventListener('status', handler);
  await new Promise<void>((resolve, reject) => {
    source.onopen = () => {
      resolve();
    };
    source.onerror = (error) => {
      reject(new Error(`EventSource failed: ${error.message ?? ''}`));
    };
  });

  const sent = [
    { data: 'plain' },
    { data: 'line one\r\nline two\rline three\nline four', type: 'status' },
    { data: '  leading spaces and unicode: ✓ 日本', id: 'urn:example:custom-id' },
    { data: '{"json":true,"nested":{"a":[1,2]}}' },
  ];
  const ids: string[] = [];
  for (const update of sent) {
    const result = await hub.publish({ topic: TOPIC, ...update });
    assert.equal(result.status, 200);
    assert.match(result.contentType ?? '', /^text\/plain/);
    ids.push(result.body);
  }
  assert.equal(ids[2], 'urn:example:custom-id');
  assert.match(
    ids[0] ?? '',
    /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );

  await waitFor(() => received.length >= sent.length, { message: 'every event' });
  assert.deepEqual(received, [
    { id: ids[0], type: 'message', data: 'plain' },
    { id: ids[1], type: 'status', data: 'line one\nline two\nline three\nline four' },
    { id: ids[2], type: 'message', data: '  leading spaces and unicode: ✓ 日本' },
    { id: ids[3], type: 'message', data: '{"json":true,"nested":{"a":[1,2]}}' },
  ]);
});

test('undici fetch sees the SSE headers and every frame, with alternates and templates', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const exact = await EventStream.open(t, hub.subscribeUrl([TOPIC]));
  const template = await EventStream.open(t, hub.subscribeUrl(['https://example.com/books/{id}']));
  const other = await EventStream.open(t, hub.subscribeUrl(['https://example.com/authors/{id}']));
  const everything = await EventStream.open(t, hub.subscribeUrl(['*']));

  assert.equal(exact.status, 200);
  assert.equal(exact.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  assert.match(exact.headers.get('cache-control') ?? '', /no-cache.*no-store/);
  assert.equal(exact.headers.get('x-accel-buffering'), 'no');
  assert.equal(exact.headers.get('last-event-id'), null, 'no resume was asked for');

  const first = await hub.publish({ topic: TOPIC, data: 'one', type: 'created', retry: '2500' });
  // The canonical topic is elsewhere; the alternate is the book: every book subscriber gets it.
  const second = await hub.publish({
    topic: ['https://example.com/reviews/9', TOPIC],
    data: 'two',
  });
  const third = await hub.publish({ topic: 'https://example.com/authors/7', data: 'three' });

  assert.deepEqual(await exact.waitForEvents(2), [
    { id: first.body, event: 'created', data: 'one' },
    { id: second.body, event: undefined, data: 'two' },
  ]);
  assert.deepEqual(
    (await template.waitForEvents(2)).map((event) => event.id),
    [first.body, second.body],
  );
  assert.deepEqual(await other.waitForEvents(1), [
    { id: third.body, event: undefined, data: 'three' },
  ]);
  assert.deepEqual(
    (await everything.waitForEvents(3)).map((event) => event.data),
    ['one', 'two', 'three'],
  );
  // Nothing beyond what matched: the author stream never saw a book.
  await hub.publish({ topic: 'https://example.com/authors/8', data: 'four' });
  await other.waitForEvents(2);
  assert.deepEqual(
    exact.events.map((event) => event.data),
    ['one', 'two'],
  );
  assert.deepEqual(hub.internalErrors, []);
});

test('the JSON extension publishes a batch in one request, answered with ids in order', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC]));
  const token = await hub.token({ publish: [TOPIC] });
  const response = await fetch(hub.hubUrl, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify([
      { topic: TOPIC, data: 'a' },
      { topic: [TOPIC], data: 'b', type: 'kind', id: 'urn:example:b', retry: 100 },
      { topic: TOPIC },
    ]),
  });
  assert.equal(response.status, 200);
  const ids = (await response.text()).split('\n');
  assert.equal(ids.length, 3);
  assert.equal(ids[1], 'urn:example:b');
  assert.deepEqual(await stream.waitForEvents(3), [
    { id: ids[0], event: undefined, data: 'a' },
    { id: 'urn:example:b', event: 'kind', data: 'b' },
    { id: ids[2], event: undefined, data: '' },
  ]);
});

test('heartbeat comments keep an idle stream alive', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, heartbeatMs: 50 });
  const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC]));
  await stream.until(() => stream.comments >= 3, 'two heartbeats after the opening comment');
  assert.equal(stream.events.length, 0);
});
