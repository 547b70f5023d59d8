import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { fetch } from 'undici';
import {
  STREAM_COLLECTIONS_ABOVE,
  writeCollection,
} from '../../src/http/routes/collection-writer.ts';
import type { HubResponse } from '../../src/http/http-message.ts';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub } from '../support/test-hub.ts';
import { waitFor } from '../support/wait.ts';

const API = '/.well-known/mercure/subscriptions';
const STREAMS = 20;
const SELECTORS = 64;
const topic = (stream: number, selector: number) =>
  `https://example.com/rooms/${stream}/${selector}`;

test('a large subscription collection is streamed in slices, in both drafts, and reads exactly as one JSON document would', async (t) => {
  const hub = await startTestHub(t, {
    anonymous: true,
    subscriptions: true,
    // Every subscription below is announced: the test is about listing them, not about the rate.
    presenceRate: null,
    maxSelectorsPerSubscription: SELECTORS,
  });
  for (let s = 0; s < STREAMS; s++) {
    const topics = Array.from({ length: SELECTORS }, (_, i) => topic(s, i));
    const stream = await EventStream.open(t, hub.subscribeUrl(topics));
    assert.equal(stream.status, 200);
  }
  const total = STREAMS * SELECTORS;
  assert.ok(total > STREAM_COLLECTIONS_ABOVE, 'large enough to be streamed');
  const presence = hub.herald.presence?.subscriptions;
  assert.ok(presence !== undefined);
  await waitFor(() => presence.size === total, { message: `${total} subscriptions listed` });

  const draft07 = await hub.token({ subscribe: [`${API}{/topic}{/subscriber}`] });
  const response = await fetch(new URL(API, hub.hubUrl), {
    headers: { Authorization: `Bearer ${draft07}` },
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'application/ld+json');
  // Streamed: no length announced up front.
  assert.equal(response.headers.get('content-length'), null);
  const etag = response.headers.get('etag');
  assert.ok(etag !== null);
  const text = await response.text();
  const body = JSON.parse(text) as Record<string, unknown>;
  // Byte for byte what JSON.stringify(body, null, 2) writes: the format clients saw before.
  assert.equal(text, JSON.stringify(body, null, 2));
  assert.deepEqual(Object.keys(body), ['@context', 'id', 'type', 'lastEventID', 'subscriptions']);
  assert.equal(body['type'], 'Subscriptions');
  assert.equal(body['id'], API);
  const documents = body['subscriptions'] as Record<string, unknown>[];
  assert.equal(documents.length, total);
  assert.deepEqual(
    new Set(documents.map((d) => d['topic'])),
    new Set(
      Array.from({ length: total }, (_, i) => topic(Math.floor(i / SELECTORS), i % SELECTORS)),
    ),
  );
  for (const document of documents) {
    assert.equal(document['type'], 'Subscription');
    assert.equal(document['active'], true);
  }
  // The same state again: 304, nothing built.
  const again = await fetch(new URL(API, hub.hubUrl), {
    headers: { Authorization: `Bearer ${draft07}`, 'If-None-Match': etag },
  });
  assert.equal(again.status, 304);
  assert.equal(await again.text(), '');

  // Draft-08: plain JSON, the cursor on the Link header, the exact-topic subscriptions as
  // `exact` matchers.
  const draft08 = await hub.accessToken({ subscribe: ['*'] });
  const answer08 = await fetch(new URL(API, hub.hubUrl), {
    headers: { Authorization: `Bearer ${draft08}` },
  });
  assert.equal(answer08.status, 200);
  assert.equal(answer08.headers.get('content-type'), 'application/json');
  assert.match(answer08.headers.get('link') ?? '', /rel="mercure"; last-event-id="/);
  const text08 = await answer08.text();
  const body08 = JSON.parse(text08) as Record<string, unknown>;
  assert.equal(text08, JSON.stringify(body08, null, 2));
  assert.deepEqual(Object.keys(body08), ['id', 'type', 'subscriptions']);
  assert.equal(body08['type'], 'subscriptions');
  const documents08 = body08['subscriptions'] as Record<string, unknown>[];
  assert.equal(documents08.length, total);
  for (const document of documents08) {
    assert.equal(document['match_type'], 'exact');
    assert.equal(document['active'], true);
  }

  // A client that leaves mid-answer costs nothing more: the hub stops writing, logs no error.
  const abort = new AbortController();
  const leaving = await fetch(new URL(API, hub.hubUrl), {
    headers: { Authorization: `Bearer ${draft07}` },
    signal: abort.signal,
  });
  assert.equal(leaving.status, 200);
  abort.abort();
  // Still serving, and the next answer is whole.
  const after = await fetch(new URL(API, hub.hubUrl), {
    headers: { Authorization: `Bearer ${draft07}` },
  });
  assert.equal(
    ((JSON.parse(await after.text()) as Record<string, unknown>)['subscriptions'] as unknown[])
      .length,
    total,
  );
  assert.deepEqual(hub.internalErrors, []);
});

/** A response that records what is written, and how much other work ran meanwhile. */
class RecordingResponse extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  writableLength = 0;
  head: Record<string, unknown> | undefined;
  readonly chunks: string[] = [];
  ended = false;
  setHeader(): void {}
  removeHeader(): void {}
  writeHead(status: number, headers: Record<string, unknown>): void {
    this.statusCode = status;
    this.head = headers;
    this.headersSent = true;
  }
  write(chunk: string | Uint8Array): boolean {
    this.chunks.push(String(chunk));
    return true;
  }
  end(chunk?: string | Uint8Array): void {
    if (chunk !== undefined) this.chunks.push(String(chunk));
    this.ended = true;
  }
  destroy(): void {}
}

test('a large collection is written over several turns of the event loop, never as one string', async () => {
  const items = Array.from({ length: 5_000 }, (_, i) => ({
    id: `/.well-known/mercure/subscriptions/${i}`,
    padding: 'x'.repeat(100),
  }));
  const res = new RecordingResponse();
  // Queued when the writer starts: it runs before the end only if the writer yields.
  let chunksBeforeOtherWork: number | undefined;
  setImmediate(() => {
    chunksBeforeOtherWork = res.chunks.length;
  });
  await writeCollection(
    res as unknown as HubResponse,
    { ETag: '"x"' },
    'application/json',
    { id: 'c', type: 'subscriptions' },
    'subscriptions',
    items,
    (item) => item,
  );
  assert.ok(res.ended);
  assert.ok(chunksBeforeOtherWork !== undefined && chunksBeforeOtherWork < res.chunks.length);
  // Each chunk is bounded (64 KiB, plus the one item that passed it).
  for (const chunk of res.chunks) assert.ok(chunk.length < 64 * 1024 + 1024, `${chunk.length}`);
  const text = res.chunks.join('');
  assert.equal(
    text,
    JSON.stringify({ id: 'c', type: 'subscriptions', subscriptions: items }, null, 2),
  );
  assert.equal(res.head?.['Content-Length'], undefined);
});

test('a small collection, and an empty one, are answered in one piece with a Content-Length', async () => {
  for (const count of [0, 3]) {
    const res = new RecordingResponse();
    const items = Array.from({ length: count }, (_, i) => ({ n: i }));
    await writeCollection(
      res as unknown as HubResponse,
      {},
      'application/json',
      { id: 'c' },
      'subscriptions',
      items,
      (item) => item,
    );
    const text = res.chunks.join('');
    assert.equal(text, JSON.stringify({ id: 'c', subscriptions: items }, null, 2));
    assert.equal(res.head?.['Content-Length'], Buffer.byteLength(text));
  }
});
