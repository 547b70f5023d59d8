import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { NODE_INTERNALS, checkNodeHttp1 } from '../../src/http/node-http1.ts';
import { startTestHub } from '../support/test-hub.ts';
import type { TestHub } from '../support/test-hub.ts';
import { waitFor } from '../support/wait.ts';

/*
 * The stream door (src/http/direct/stream-door.ts) serves plain subscribe GETs on the socket and
 * gives every other connection to Node's parser. What a client sees tells the two apart: a
 * direct stream says `Connection: close` (one response per connection), Node's keeps the
 * connection alive.
 */

const TOPIC = 'https://example.com/door';

interface RawExchange {
  readonly socket: Socket;
  /** Everything received so far, as latin1. */
  received(): string;
  /** Resolves once the server has closed the connection. */
  readonly closed: Promise<void>;
}

/** Sends `pieces` on one connection, each in its own write, `gapMs` apart. */
function rawExchange(port: number, pieces: readonly string[], gapMs = 30): RawExchange {
  const socket = connect({ host: '127.0.0.1', port });
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => {
    socket.once('close', () => {
      resolve();
    });
  });
  void (async () => {
    for (const [index, piece] of pieces.entries()) {
      if (index > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
      if (!socket.destroyed) socket.write(Buffer.from(piece, 'latin1'));
    }
  })();
  return { socket, received: () => received, closed };
}

function subscribeHead(hub: TestHub, extraLines = '', version = 'HTTP/1.1'): string {
  const url = new URL(hub.subscribeUrl([TOPIC]));
  return `GET ${url.pathname}${url.search} ${version}\r\nHost: ${url.host}\r\n${extraLines}\r\n`;
}

function headOf(response: string): { status: number; headers: Map<string, string> } {
  const [statusLine = '', ...lines] = response.slice(0, response.indexOf('\r\n\r\n')).split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(statusLine.split(' ')[1]), headers };
}

async function headReceived(exchange: RawExchange): Promise<ReturnType<typeof headOf>> {
  await waitFor(() => exchange.received().includes('\r\n\r\n'), { message: 'a response head' });
  return headOf(exchange.received());
}

test('a plain subscribe is served on the socket: chunked, one response per connection', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const port = hub.herald.port;
  const stream = rawExchange(port, [subscribeHead(hub, 'Accept: text/event-stream\r\n')]);
  t.after(() => stream.socket.destroy());
  const { status, headers } = await headReceived(stream);
  assert.equal(status, 200);
  assert.equal(headers.get('connection'), 'close');
  assert.equal(headers.get('transfer-encoding'), 'chunked');
  assert.equal(headers.get('content-type'), 'text/event-stream; charset=utf-8');
  assert.equal(headers.get('x-accel-buffering'), 'no');
  assert.match(headers.get('date') ?? '', /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  assert.match(headers.get('x-request-id') ?? '', /^[\w-]{36}$/);

  await waitFor(() => hub.herald.hub.subscriberCount === 1, { message: 'the subscription' });
  const published = await hub.publish({ topic: TOPIC, data: 'through the door' });
  assert.equal(published.status, 200);
  await waitFor(() => stream.received().includes('data: through the door\n\n'), {
    message: 'the update',
  });
  assert.ok(
    stream.received().includes(`id: ${published.body}\ndata: through the door\n\n\r\n`),
    'framed as one chunk',
  );

  // A graceful shutdown ends the body (the last chunk) and closes the connection.
  await hub.herald.close();
  await stream.closed;
  assert.ok(stream.received().endsWith('\r\n0\r\n\r\n'), 'the body was ended, not cut');
  assert.equal(hub.herald.hub.subscriberCount, 0);
  assert.deepEqual(hub.internalErrors, []);
});

test('a client that leaves ends its direct stream and its subscription', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const stream = rawExchange(hub.herald.port, [subscribeHead(hub)]);
  await headReceived(stream);
  await waitFor(() => hub.herald.hub.subscriberCount === 1, { message: 'the subscription' });
  // A FIN (the client closed its side), as EventSource.close() sends.
  stream.socket.end();
  await waitFor(() => hub.herald.hub.subscriberCount === 0, { message: 'the unsubscribe' });
  await stream.closed;
  assert.deepEqual(hub.internalErrors, []);
});

test('a request the door refuses on the direct path gets a problem document, then the connection closes', async (t) => {
  const hub = await startTestHub(t, {});
  const refused = rawExchange(hub.herald.port, [
    subscribeHead(hub, 'Authorization: Bearer not.a.token\r\n'),
  ]);
  await refused.closed;
  const { status, headers } = headOf(refused.received());
  assert.equal(status, 401);
  assert.equal(headers.get('connection'), 'close');
  assert.equal(headers.get('content-type'), 'application/problem+json');
  assert.match(headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
  const body = refused.received().slice(refused.received().indexOf('\r\n\r\n') + 4);
  assert.equal(Number(headers.get('content-length')), Buffer.byteLength(body, 'latin1'));
  const problem = JSON.parse(body) as Record<string, unknown>;
  assert.equal(problem['status'], 401);
  assert.equal(problem['code'], 'HERALD_ERR_INVALID_TOKEN');
  assert.equal(hub.herald.hub.subscriberCount, 0);

  // And nothing was subscribed or leaked: a public update reaches a stream opened after.
  const missing = rawExchange(hub.herald.port, [subscribeHead(hub)]);
  await missing.closed;
  assert.equal(headOf(missing.received()).status, 401);
  assert.deepEqual(hub.internalErrors, []);
});

/*
 * Each of these is a subscribe the door does not serve: it goes to Node's parser with its bytes
 * put back, and is answered exactly as node:http answers it (a keep-alive stream, or Node's own
 * refusal).
 */
const TO_NODE: readonly {
  name: string;
  pieces: (hub: TestHub) => string[];
  status: number;
  http10?: boolean;
}[] = [
  {
    name: 'a head split over two packets',
    pieces: (hub) => {
      const head = subscribeHead(hub);
      return [head.slice(0, 20), head.slice(20)];
    },
    status: 200,
  },
  {
    name: 'HTTP/1.0',
    pieces: (hub) => [subscribeHead(hub, '', 'HTTP/1.0')],
    status: 200,
    // Node closes an HTTP/1.0 stream's connection too, but sends its body unframed.
    http10: true,
  },
  {
    name: 'a header sent twice',
    pieces: (hub) => [subscribeHead(hub, 'Accept: text/event-stream\r\nAccept: */*\r\n')],
    status: 200,
  },
  {
    name: 'a header value with a byte beyond ASCII',
    pieces: (hub) => [subscribeHead(hub, 'X-Note: caf\xe9\r\n')],
    status: 200,
  },
  {
    name: 'a body declared with Content-Length',
    pieces: (hub) => [subscribeHead(hub, 'Content-Length: 0\r\n')],
    status: 200,
  },
  {
    name: 'a header with whitespace before its colon (request smuggling)',
    pieces: (hub) => [subscribeHead(hub, 'Authorization : Bearer x\r\n')],
    status: 400,
  },
  {
    name: 'a folded header line (obsolete line folding)',
    pieces: (hub) => [subscribeHead(hub, 'X-Note: one\r\n two\r\n')],
    status: 400,
  },
  {
    name: 'a bare LF between lines',
    pieces: (hub) => [subscribeHead(hub, 'X-Note: one\n')],
    status: 400,
  },
  {
    name: 'both Transfer-Encoding and Content-Length',
    pieces: (hub) => [
      subscribeHead(hub, 'Transfer-Encoding: chunked\r\nContent-Length: 3\r\n') + '0\r\n\r\n',
    ],
    status: 400,
  },
  {
    name: 'no Host',
    pieces: () => ['GET /.well-known/mercure?topic=x HTTP/1.1\r\n\r\n'],
    status: 400,
  },
];

for (const variant of TO_NODE) {
  test(`the door leaves to Node's parser: ${variant.name}`, async (t) => {
    const hub = await startTestHub(t, { anonymous: true });
    const exchange = rawExchange(hub.herald.port, variant.pieces(hub));
    t.after(() => exchange.socket.destroy());
    const { status, headers } = await headReceived(exchange);
    assert.equal(status, variant.status, exchange.received());
    if (status === 200) {
      if (variant.http10 === true) assert.equal(headers.get('transfer-encoding'), undefined);
      // Node's stream: the connection stays reusable.
      else assert.equal(headers.get('connection'), 'keep-alive');
      await waitFor(() => hub.herald.hub.subscriberCount === 1, { message: 'the subscription' });
    } else {
      await exchange.closed;
      assert.equal(hub.herald.hub.subscriberCount, 0);
    }
    assert.deepEqual(hub.internalErrors, []);
  });
}

test('a request pipelined behind a subscribe goes to Node with it, in order', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const url = new URL(hub.hubUrl);
  const exchange = rawExchange(hub.herald.port, [
    `GET /healthz HTTP/1.1\r\nHost: ${url.host}\r\n\r\n${subscribeHead(hub)}`,
  ]);
  t.after(() => exchange.socket.destroy());
  await waitFor(() => hub.herald.hub.subscriberCount === 1, { message: 'the subscription' });
  const received = exchange.received();
  assert.match(received, /^HTTP\/1\.1 200 OK\r\n/);
  assert.equal(received.split('HTTP/1.1 200 OK').length, 3, 'two responses on one connection');
  assert.deepEqual(hub.internalErrors, []);
});

test('a connection that sends nothing is handed to Node, whose header timeout cuts it', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, headersTimeoutMs: 400 });
  const silent = rawExchange(hub.herald.port, []);
  // Node answers an expired header timeout with 408 (or closes the connection).
  await silent.closed;
  assert.match(silent.received(), /^(HTTP\/1\.1 408 |$)/);
  assert.deepEqual(hub.internalErrors, []);
});

test('connections reset before, while and after sending a subscribe cost the hub nothing', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const port = hub.herald.port;
  const resets: Promise<void>[] = [];
  for (const bytes of ['', subscribeHead(hub).slice(0, 12), subscribeHead(hub)]) {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    resets.push(
      new Promise<void>((resolve) => {
        socket.once('connect', () => {
          if (bytes !== '') socket.write(bytes);
          setImmediate(() => {
            socket.resetAndDestroy();
            resolve();
          });
        });
      }),
    );
  }
  await Promise.all(resets);
  // The hub is still up, and keeps nothing of them.
  const stream = rawExchange(port, [subscribeHead(hub)]);
  t.after(() => stream.socket.destroy());
  assert.equal((await headReceived(stream)).status, 200);
  await waitFor(() => hub.herald.hub.subscriberCount === 1, { message: 'only the last stream' });
  assert.deepEqual(hub.internalErrors, []);
});

test('publishing on a keep-alive connection, body in pieces, is parsed by Node as sent', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const token = await hub.token({ publish: ['*'] });
  const body = `topic=${encodeURIComponent(TOPIC)}&data=in+pieces`;
  const head =
    `POST /.well-known/mercure HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
    `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`;
  const exchange = rawExchange(hub.herald.port, [
    head.slice(0, 30),
    head.slice(30) + body.slice(0, 10),
    body.slice(10),
    'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  ]);
  await exchange.closed;
  const responses = exchange.received().split(/(?=HTTP\/1\.1 )/);
  assert.equal(responses.length, 2, exchange.received());
  assert.match(responses[0] ?? '', /^HTTP\/1\.1 200 /);
  assert.match(responses[0] ?? '', /urn:uuid:/);
  assert.match(responses[1] ?? '', /^HTTP\/1\.1 200 /);
  assert.deepEqual(hub.internalErrors, []);
});

test('--node-http-only: every stream through node:http, the door off', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, nodeHttpOnly: true });
  const stream = rawExchange(hub.herald.port, [subscribeHead(hub)]);
  t.after(() => stream.socket.destroy());
  const { status, headers } = await headReceived(stream);
  assert.equal(status, 200);
  assert.equal(headers.get('connection'), 'keep-alive');
  await waitFor(() => hub.herald.hub.subscriberCount === 1, { message: 'the subscription' });
  assert.deepEqual(hub.internalErrors, []);
});

test('a Node whose server cannot hand connections over serves every stream through node:http', async (t) => {
  const http1 = await checkNodeHttp1({
    internals: { ...NODE_INTERNALS, connectionListener: () => undefined },
  });
  const hub = await startTestHub(t, { anonymous: true }, { http1 });
  const stream = rawExchange(hub.herald.port, [subscribeHead(hub)]);
  t.after(() => stream.socket.destroy());
  const { status, headers } = await headReceived(stream);
  assert.equal(status, 200);
  assert.equal(headers.get('connection'), 'keep-alive');
  assert.ok(
    hub.logs.some((line) => JSON.stringify(line['fallbacks']).includes('node:http')),
    'the start-up warning says why',
  );
});
