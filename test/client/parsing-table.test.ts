import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Agent, EventSource } from 'undici';
import type { MessageEvent } from 'undici';
import type { HeraldClientError } from '../../src/client/index.ts';
import { subscribe } from '../../src/client/index.ts';
import { startRawServer, writeChunks } from './raw-server.ts';

/** What a client saw: each event as [type, data, last event id]. */
type Seen = [type: string, data: string, lastEventId: string][];

interface Case {
  readonly name: string;
  /** Written one by one, with a pause between them, then the response ends. */
  readonly chunks: readonly (string | Uint8Array)[];
  /** What both clients must see. */
  readonly expected: Seen;
  /** When undici's EventSource must see something else: what, and why. */
  readonly undici?: { readonly seen: Seen; readonly why: string };
  /** Our client's `serverRetry` at the end. */
  readonly retry?: number;
  /** Both clients stop for good (a limit was passed) instead of reconnecting. */
  readonly limit?: true;
}

/** Both clients run with this limit: ours as maxBufferSize, undici's as maxEventSize. */
const LIMIT = 64;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const E_ACUTE = Buffer.from('é');
const bytes = (...parts: (string | number[] | Buffer)[]) =>
  Buffer.concat(
    parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))),
  );
const x = (n: number) => 'x'.repeat(n);

const CASES: readonly Case[] = [
  {
    name: 'LF line endings',
    chunks: ['data: a\n\n', 'data: b\n\n'],
    expected: [
      ['message', 'a', ''],
      ['message', 'b', ''],
    ],
  },
  {
    name: 'CRLF line endings',
    chunks: ['data: a\r\n\r\ndata: b\r\n\r\n'],
    expected: [
      ['message', 'a', ''],
      ['message', 'b', ''],
    ],
  },
  {
    name: 'CR line endings',
    chunks: ['data: a\r\rdata: b\r\r'],
    expected: [
      ['message', 'a', ''],
      ['message', 'b', ''],
    ],
  },
  {
    name: 'CR, LF and CRLF mixed in one event',
    chunks: ['data: a\rdata: b\ndata: c\r\n\n'],
    expected: [['message', 'a\nb\nc', '']],
  },
  {
    name: 'a CRLF split across chunks is one line break',
    chunks: ['data: a\r', '\n\r', '\ndata: b\r', '\n', '\r\n'],
    expected: [
      ['message', 'a', ''],
      ['message', 'b', ''],
    ],
  },
  {
    name: 'a CRLF split across chunks, then a LF alone: the empty line that ends the event',
    chunks: ['data: a\r', '\n', '\n', 'data: b\r', '\n', '\r', '\n'],
    expected: [
      ['message', 'a', ''],
      ['message', 'b', ''],
    ],
  },
  {
    name: 'a CR ending a chunk, then a CR opening the next: an empty line',
    chunks: ['data: a\r', '\r', 'data: b\r\r'],
    expected: [
      ['message', 'a', ''],
      ['message', 'b', ''],
    ],
  },
  {
    name: 'the stream ends right after a CR that ends the event',
    chunks: ['data: a\r', '\r'],
    expected: [['message', 'a', '']],
  },
  {
    name: 'a leading BOM is removed',
    chunks: [bytes(BOM, 'data: a\n\n')],
    expected: [['message', 'a', '']],
  },
  {
    name: 'a leading BOM split across chunks',
    chunks: [BOM.subarray(0, 1), bytes(BOM.subarray(1), 'data: a\n\n')],
    expected: [['message', 'a', '']],
  },
  {
    name: 'only one BOM is removed: a second one is part of the first field name',
    chunks: [bytes(BOM, BOM, 'data: a\n\ndata: b\n\n')],
    expected: [['message', 'b', '']],
  },
  {
    name: 'the characters ï»¿ are text, not a BOM',
    chunks: ['ï»¿data: a\n\ndata: b\n\n'],
    expected: [['message', 'b', '']],
  },
  {
    name: 'an id holding NUL is ignored',
    chunks: ['id: good\ndata: a\n\nid: bad\0id\ndata: b\n\n'],
    expected: [
      ['message', 'a', 'good'],
      ['message', 'b', 'good'],
    ],
  },
  {
    name: 'the last event id persists, and an empty id resets it',
    chunks: ['id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 2\ndata: d\n\nid:\ndata: e\n\n'],
    expected: [
      ['message', 'a', '1'],
      ['message', 'b', '1'],
      ['message', 'c', ''],
      ['message', 'd', '2'],
      ['message', 'e', ''],
    ],
  },
  {
    name: 'bogus retry values are ignored',
    chunks: [
      'retry: 12x\ndata: a\n\nretry: -5\nretry: 1.5\nretry:\nretry\nretry: 1e3\ndata: b\n\n',
    ],
    expected: [
      ['message', 'a', ''],
      ['message', 'b', ''],
    ],
  },
  {
    name: 'a valid retry sets the reconnection time',
    chunks: ['retry: 7\ndata: a\n\n'],
    expected: [['message', 'a', '']],
    retry: 7,
  },
  {
    name: 'comments are ignored, between and inside events',
    chunks: [': hello\n\n:\ndata: a\n: middle\ndata: b\n\n:no space\n'],
    expected: [['message', 'a\nb', '']],
  },
  {
    name: 'an unterminated last event is dropped',
    chunks: ['data: a\n\ndata: b'],
    expected: [['message', 'a', '']],
  },
  {
    name: 'an event missing only its empty line is dropped',
    chunks: ['data: a\n\ndata: b\n'],
    expected: [['message', 'a', '']],
  },
  {
    name: 'data with and without a space after the colon (only one space is removed)',
    chunks: ['data:a\n\ndata: b\n\ndata:  c\n\n'],
    expected: [
      ['message', 'a', ''],
      ['message', 'b', ''],
      ['message', ' c', ''],
    ],
  },
  {
    name: 'empty data',
    chunks: ['data\n\ndata:\n\ndata: \n\ndata\ndata\n\n'],
    expected: [
      ['message', '', ''],
      ['message', '', ''],
      ['message', '', ''],
      ['message', '\n', ''],
    ],
  },
  {
    name: 'event types; an empty one means message',
    chunks: ['event: ping\ndata: a\n\nevent:\ndata: b\n\nevent:  spaced\ndata: c\n\ndata: d\n\n'],
    expected: [
      ['ping', 'a', ''],
      ['message', 'b', ''],
      [' spaced', 'c', ''],
      ['message', 'd', ''],
    ],
  },
  {
    name: 'an event without data is not dispatched, and its type does not leak',
    chunks: ['event: ping\n\ndata: a\n\n'],
    expected: [['message', 'a', '']],
  },
  {
    name: 'unknown fields, upper-case names and lines without a colon are ignored',
    chunks: ['foo: bar\nDATA: x\nfoo\ndata: a\n\n'],
    expected: [['message', 'a', '']],
  },
  {
    name: 'a multi-byte character split across chunks',
    chunks: [bytes('data: ', E_ACUTE.subarray(0, 1)), bytes(E_ACUTE.subarray(1), '\n\n')],
    expected: [['message', 'é', '']],
  },
  {
    name: 'invalid UTF-8 becomes U+FFFD',
    chunks: [bytes('data: ', [0xff, 0xfe], '\n\n')],
    expected: [['message', '\uFFFD\uFFFD', '']],
  },
  {
    name: 'an id in an event without data',
    chunks: ['id: 1\n\ndata: a\n\n'],
    // WHATWG sets the last event id when it reads the id field, even if the event has no data.
    expected: [['message', 'a', '1']],
  },
  {
    name: 'a line longer than the limit, in the same chunk as the events before it',
    chunks: [`data: a\n\ndata: ${x(200)}\n\ndata: never\n\n`],
    expected: [['message', 'a', '']],
    limit: true,
  },
  {
    name: 'a line longer than the limit, arriving in pieces',
    chunks: ['data: a\n\n', `data: ${x(40)}`, x(40), `${x(40)}\n\ndata: never\n\n`],
    expected: [['message', 'a', '']],
    limit: true,
  },
  {
    name: 'an event whose data passes the limit, in lines that each fit',
    chunks: [`data: a\n\ndata: ${x(40)}\ndata: ${x(40)}\ndata: ${x(40)}\n\ndata: never\n\n`],
    expected: [['message', 'a', '']],
    limit: true,
  },
];

/** The types any case uses: EventSource needs a listener per type. */
const TYPES = ['message', 'ping', ' spaced'];

/** Serves the case once; every later request gets 204, which stops both clients for good. */
async function serveCase(t: import('node:test').TestContext, chunks: Case['chunks']) {
  return startRawServer(t, async (_req, res, index) => {
    if (index > 0) {
      res.writeHead(204).end();
      return;
    }
    await writeChunks(res, chunks);
  });
}

async function runOurs(
  url: string,
): Promise<{ seen: Seen; retry?: number; error?: HeraldClientError }> {
  const subscription = subscribe(url, 'topic', { initialRetryDelay: 5, maxBufferSize: LIMIT });
  const seen: Seen = [];
  for (const type of TYPES) {
    subscription.on(type, (event) => seen.push([event.type, event.data, event.id]));
  }
  await subscription.closed;
  return {
    seen,
    ...(subscription.serverRetry === undefined ? {} : { retry: subscription.serverRetry }),
    ...(subscription.error === undefined ? {} : { error: subscription.error }),
  };
}

async function runUndici(url: string, dispatcher: Agent): Promise<Seen> {
  const source = new EventSource(url, { dispatcher, node: { reconnectionTime: 5 } });
  const seen: Seen = [];
  for (const type of TYPES) {
    source.addEventListener(type, (event) => {
      const message = event as MessageEvent;
      seen.push([message.type, String(message.data), message.lastEventId]);
    });
  }
  await new Promise<void>((resolve) => {
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CLOSED) resolve();
    });
  });
  source.close();
  return seen;
}

test('the parsing table: our client and undici’s EventSource see the same events', async (t) => {
  const dispatcher = new Agent({ eventSource: { maxEventSize: LIMIT } });
  t.after(() => dispatcher.close());
  for (const entry of CASES) {
    await t.test(entry.name, async (t) => {
      const [ours, theirs] = await Promise.all([
        serveCase(t, entry.chunks).then((server) => runOurs(server.url)),
        serveCase(t, entry.chunks).then((server) => runUndici(server.url, dispatcher)),
      ]);
      assert.deepEqual(ours.seen, entry.expected, 'our client');
      assert.deepEqual(theirs, entry.undici?.seen ?? entry.expected, 'undici EventSource');
      assert.equal(ours.retry, entry.retry);
      // Ours stops with the limit error; otherwise it reconnected and got the 204.
      assert.equal(
        ours.error?.code,
        entry.limit === true ? 'HERALD_CLIENT_ERR_BUFFER_LIMIT' : 'HERALD_CLIENT_ERR_NO_CONTENT',
      );
    });
  }
});
