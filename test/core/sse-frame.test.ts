import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventSourceMessage } from 'eventsource-parser';
import { createParser } from 'eventsource-parser';
import { encodeFrame } from '../../src/core/sse-frame.ts';
import type { Update } from '../../src/core/update.ts';

/** Parses frames back with an independent SSE parser. */
function parse(frames: Uint8Array[]): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event) });
  const decoder = new TextDecoder();
  for (const frame of frames) parser.feed(decoder.decode(frame));
  return events;
}

const base: Update = { id: 'urn:uuid:1', topics: ['t'], data: '', private: false };

test('data is split on every line-break form and parses back joined by LF', () => {
  const cases: [string, string][] = [
    ['one', 'one'],
    ['a\nb', 'a\nb'],
    ['a\r\nb', 'a\nb'],
    ['a\rb', 'a\nb'],
    ['a\r\n\r\nb', 'a\n\nb'],
    ['trailing\n', 'trailing\n'],
    ['\nleading', '\nleading'],
    ['  spaced  ', '  spaced  '],
    [': not a comment', ': not a comment'],
    ['data: nested field', 'data: nested field'],
    ['id: not-an-id\nevent: not-a-type', 'id: not-an-id\nevent: not-a-type'],
    ['ünïcødé ✓ 🚀', 'ünïcødé ✓ 🚀'],
  ];
  const frames = cases.map(([data], i) => encodeFrame({ ...base, id: `id-${i}`, data }));
  const events = parse(frames);
  assert.deepEqual(
    events.map((event) => event.data),
    cases.map(([, expected]) => expected),
  );
  assert.deepEqual(
    events.map((event) => event.id),
    cases.map((_, i) => `id-${i}`),
  );
});

test('id, event and retry are written as fields', () => {
  const frame = encodeFrame({ ...base, id: 'urn:x', type: 'price', retry: 1500, data: 'v' });
  assert.equal(
    new TextDecoder().decode(frame),
    'id: urn:x\nevent: price\nretry: 1500\ndata: v\n\n',
  );
  assert.deepEqual(
    parse([frame]).map(({ id, event, data }) => ({ id, event, data })),
    [{ id: 'urn:x', event: 'price', data: 'v' }],
  );
});

test('empty data still carries its id', () => {
  assert.equal(new TextDecoder().decode(encodeFrame(base)), 'id: urn:uuid:1\ndata: \n\n');
});
