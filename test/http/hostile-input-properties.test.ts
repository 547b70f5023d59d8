import assert from 'node:assert/strict';
import { validateHeaderValue } from 'node:http';
import { test } from 'node:test';
import { createParser } from 'eventsource-parser';
import fc from 'fast-check';
import { fetch } from 'undici';
import { isHeraldError } from '../../src/core/errors.ts';
import { encodeFrame } from '../../src/core/sse-frame.ts';
import { validateNewUpdate } from '../../src/core/update.ts';
import { headerToUtf8, utf8ToHeader } from '../../src/http/request/header-value.ts';
import { parsePublishBody } from '../../src/http/routes/publish-body.ts';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub } from '../support/test-hub.ts';

// Property tests of what untrusted clients send: publish bodies (form and JSON), ids,
// Last-Event-ID values and query strings. Seeded, so a failure replays; each case is either
// refused with a HeraldError (a 4xx) or accepted whole, never a 500, never a lost or leaked update.

const SEED = 1_217_2026;
const LIMITS = { maxTopicsPerUpdate: 64 };

// Characters that matter: controls (C0, DEL, C1), whitespace, line breaks, surrogate halves,
// percent signs, separators, non-ASCII, and plain letters.
const TRICKY = [
  ...Array.from('\u0000\u0001\u0009\n\r\u001f\u007f\u0080\u0085\u009f \u00a0\u2028\ufeff'),
  '\ud800',
  '\udfff',
  '😀',
  ...Array.from('%&=+#?/:;,é'),
  ...Array.from('abcXYZ0129-_.~'),
];
const trickyString = fc
  .array(fc.oneof(fc.constantFrom(...TRICKY), fc.string({ maxLength: 3 })), { maxLength: 12 })
  .map((parts) => parts.join(''));
const FIELD_NAMES = ['topic', 'data', 'id', 'type', 'retry', 'private', 'other'];

/** Accepted: updates that passed every check; refused: a HeraldError. Anything else fails. */
function parseAndValidate(contentType: string, body: Buffer): 'accepted' | 'refused' {
  try {
    for (const update of parsePublishBody(contentType, body)) validateNewUpdate(update, LIMITS);
    return 'accepted';
  } catch (error) {
    assert.ok(isHeraldError(error), `not a HeraldError: ${String(error)}`);
    assert.ok(error.status >= 400 && error.status < 500, `status ${error.status}`);
    return 'refused';
  }
}

test('form publish bodies: any bytes are parsed into valid updates or refused with a 4xx', () => {
  const form = fc.array(fc.tuple(fc.constantFrom(...FIELD_NAMES), trickyString), {
    maxLength: 8,
  });
  const raw = fc.oneof(
    form.map((pairs) => new URLSearchParams(pairs).toString()),
    // Hand-made encodings too: broken escapes, raw controls, lone surrogates written as UTF-16.
    form.map((pairs) => pairs.map(([name, value]) => `${name}=${value}`).join('&')),
  );
  fc.assert(
    fc.property(raw, (body) => {
      parseAndValidate('application/x-www-form-urlencoded', Buffer.from(body, 'utf8'));
    }),
    { seed: SEED, numRuns: 3000 },
  );
});

test('JSON publish bodies: any value is parsed into valid updates or refused with a 4xx', () => {
  const field = fc.oneof(
    trickyString,
    fc.array(trickyString, { maxLength: 3 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
  );
  const update = fc.dictionary(fc.constantFrom(...FIELD_NAMES), field, { maxKeys: 6 });
  const value = fc.oneof(update, fc.array(update, { maxLength: 3 }), fc.jsonValue());
  fc.assert(
    fc.property(value, fc.boolean(), (json, mangle) => {
      let text = (JSON.stringify(json) as string | undefined) ?? 'null';
      // Escapes of lone surrogates, and truncated text, as a client could send them.
      if (mangle) text = text.replace(/"(\w)/, '"\\ud800$1').slice(0, Math.max(1, text.length - 1));
      parseAndValidate('application/json', Buffer.from(text, 'utf8'));
    }),
    { seed: SEED, numRuns: 3000 },
  );
});

test('every id accepted at publish survives an SSE id line and a Last-Event-ID header unchanged', () => {
  fc.assert(
    fc.property(trickyString, (id) => {
      try {
        validateNewUpdate({ topics: ['t'], data: '', private: false, id }, LIMITS);
      } catch (error) {
        assert.ok(isHeraldError(error));
        return;
      }
      // The header a client sends back, as Node hands it over, and the one the hub echoes.
      const header = utf8ToHeader(id);
      validateHeaderValue('Last-Event-ID', header);
      assert.equal(header.trim(), header, 'HTTP would trim it');
      assert.equal(headerToUtf8(header), id);
      // The SSE id field, through an independent parser.
      let parsed: string | undefined;
      const parser = createParser({
        onEvent: (event) => {
          parsed = event.id;
        },
      });
      parser.feed(
        new TextDecoder().decode(encodeFrame({ topics: ['t'], data: '', private: false, id })),
      );
      assert.equal(parsed, id);
    }),
    { seed: SEED, numRuns: 5000 },
  );
});

test('through HTTP: random publishes, Last-Event-ID values and query strings never give a 500, and nothing accepted is lost or leaked', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const publicTopic = 'https://example.com/p';
  const token = await hub.token({ publish: ['*'] });
  const accepted: { id: string; private: boolean }[] = [];

  const publish = fc.record({
    id: fc.option(trickyString, { nil: undefined }),
    type: fc.option(trickyString, { nil: undefined }),
    data: trickyString,
    private: fc.boolean(),
    json: fc.boolean(),
  });
  await fc.assert(
    fc.asyncProperty(publish, async (update) => {
      const fields = {
        topic: publicTopic,
        data: update.data,
        ...(update.id === undefined ? {} : { id: update.id }),
        ...(update.type === undefined ? {} : { type: update.type }),
      };
      const response = await fetch(hub.hubUrl, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': update.json ? 'application/json' : 'application/x-www-form-urlencoded',
        },
        body: update.json
          ? JSON.stringify({ ...fields, private: update.private })
          : new URLSearchParams({ ...fields, ...(update.private ? { private: 'on' } : {}) }),
      });
      const body = await response.text();
      assert.ok(response.status === 200 || response.status === 400, `${response.status} ${body}`);
      if (response.status === 200) accepted.push({ id: body, private: update.private });
    }),
    { seed: SEED, numRuns: 400 },
  );

  // Resuming with any Last-Event-ID value: a stream or a 4xx, never a 500.
  const lastEventId = fc.oneof(
    trickyString,
    fc.constantFrom(...accepted.map((update) => update.id)),
  );
  await fc.assert(
    fc.asyncProperty(lastEventId, async (value) => {
      const header = Buffer.from(value, 'utf8').toString('latin1');
      try {
        validateHeaderValue('Last-Event-ID', header);
      } catch {
        return; // Not a header any client can send.
      }
      const abort = new AbortController();
      const response = await fetch(hub.subscribeUrl([publicTopic]), {
        headers: { 'Last-Event-ID': header },
        signal: abort.signal,
      });
      const { status } = response;
      abort.abort();
      assert.ok(status < 500, `Last-Event-ID ${JSON.stringify(value)}: ${status}`);
    }),
    { seed: SEED, numRuns: 300 },
  );

  // Any query string: never a 500.
  const query = fc.array(
    fc.tuple(
      fc.constantFrom(
        'topic',
        'lastEventID',
        'Last-Event-ID',
        'match',
        'match_urlpattern',
        'authorization',
        'x',
      ),
      trickyString,
    ),
    { maxLength: 5 },
  );
  await fc.assert(
    fc.asyncProperty(query, async (pairs) => {
      const abort = new AbortController();
      const response = await fetch(`${hub.hubUrl}?${new URLSearchParams(pairs).toString()}`, {
        signal: abort.signal,
      });
      abort.abort();
      assert.ok(response.status < 500, `${JSON.stringify(pairs)}: ${response.status}`);
    }),
    { seed: SEED, numRuns: 300 },
  );

  // Nothing lost, nothing leaked: from the start of history an anonymous subscriber gets every
  // accepted public update, in order, and no private one; a marker ends it.
  const marker = await hub.publish({ topic: publicTopic, data: 'marker' });
  const expected = [...accepted.filter((update) => !update.private).map((u) => u.id), marker.body];
  const stream = await EventStream.open(
    t,
    hub.subscribeUrl([publicTopic], { lastEventID: 'earliest' }),
  );
  const events = await stream.waitForEvents(expected.length);
  assert.deepEqual(
    events.map((event) => event.id),
    expected,
  );
  assert.deepEqual(hub.internalErrors, []);
});
