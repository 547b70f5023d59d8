import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { Agent, fetch, setGlobalDispatcher } from 'undici';
import { mintToken } from '../../src/auth/mint-token.ts';
import type { FetchFunction, Subscription } from '../../src/client/index.ts';
import { subscribe } from '../../src/client/index.ts';
import type { RunningCli } from '../support/cli.ts';
import { runCli } from '../support/cli.ts';
import { EventStream } from '../support/event-stream.ts';
import { CLUSTER_CONF, freePort, startNginx, substitute } from '../support/nginx.ts';
import type { RunningNginx } from '../support/nginx.ts';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { selfSignedCertificate } from '../support/tls-certificate.ts';
import { waitFor } from '../support/wait.ts';

// deploy/nginx/herald-cluster.conf, exactly as users copy it, in front of two `herald serve`
// processes sharing Redis. Only addresses, the certificate and (for one test) the read timeout
// are substituted.

const KEY = 'the-cluster-key-every-node-shares-0123456789';
const TOPICS = 'https://example.com/orders/{id}';
const topic = (n: number): string => `https://example.com/orders/${n}`;

interface Node {
  readonly cli: RunningCli;
  readonly hubUrl: string;
}

interface Cluster {
  readonly nodes: readonly [Node, Node];
  readonly nginx: RunningNginx;
  /** The hub as clients see it: through nginx, over TLS. */
  readonly hubUrl: string;
}

const publisherToken = mintToken({ key: KEY, algorithm: 'HS256', publish: ['*'] });

/** Trust the test certificate in this process (undici's fetch, which every client here uses). */
let trusted: string | undefined;
function trust(pem: string): void {
  if (trusted === pem) return;
  trusted = pem;
  setGlobalDispatcher(new Agent({ connect: { ca: pem } }));
}

async function startCluster(
  t: TestContext,
  { heartbeat = '1s', readTimeout }: { heartbeat?: string; readTimeout?: string } = {},
): Promise<Cluster> {
  const prefix = uniquePrefix('nginx');
  const startNode = async (): Promise<Node> => {
    const cli = runCli(
      t,
      [
        'serve',
        ...['--port', '0', '--host', '127.0.0.1', '--anonymous', '--log-level', 'warn'],
        ...['--store', REDIS_URL, '--redis-prefix', prefix, '--heartbeat', heartbeat],
        // Retries below rely on a stored id answering 409 rather than being stored again.
        '--refuse-duplicate-ids',
      ],
      { HERALD_JWT_KEY: KEY },
    );
    return { cli, hubUrl: await cli.ready };
  };
  const nodes = [await startNode(), await startNode()] as const;
  // Registered after the nodes' own teardown, so it runs once they are stopped.
  t.after(() => deleteKeys(prefix));

  const port = await freePort();
  const tls = selfSignedCertificate();
  t.after(() => {
    tls.remove();
  });
  trust(tls.cert);
  let conf = readFileSync(CLUSTER_CONF, 'utf8');
  conf = substitute(conf, 'server 10.0.0.11:3000', `server ${new URL(nodes[0].hubUrl).host}`);
  conf = substitute(conf, 'server 10.0.0.12:3000', `server ${new URL(nodes[1].hubUrl).host}`);
  conf = substitute(conf, 'listen 443 ssl http2;', `listen 127.0.0.1:${port} ssl http2;`);
  conf = substitute(conf, '/etc/ssl/certs/events.example.com.pem', tls.certPath);
  conf = substitute(conf, '/etc/ssl/private/events.example.com.key', tls.keyPath);
  if (readTimeout !== undefined) {
    conf = substitute(conf, 'proxy_read_timeout 1h;', `proxy_read_timeout ${readTimeout};`);
  }
  const nginx = await startNginx(t, conf, port);
  return { nodes, nginx, hubUrl: `https://127.0.0.1:${port}/.well-known/mercure` };
}

/** Publishes one update with an explicit id; a retry after an unanswered attempt is safe. */
async function publish(hubUrl: string, n: number): Promise<number> {
  const response = await fetch(hubUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${await publisherToken}` },
    body: new URLSearchParams({ topic: topic(n), data: `update ${n}`, id: `urn:test:${n}` }),
  });
  await response.text();
  return response.status;
}

/** Open event streams on a node, read from its own /metrics. */
async function connectionsOn(node: Node): Promise<number> {
  const text = await (await fetch(new URL('/metrics', node.hubUrl))).text();
  const match = /^herald_connections (\d+)$/m.exec(text);
  assert.ok(match?.[1] !== undefined, 'herald_connections is exported');
  return Number(match[1]);
}

test('the documented nginx configuration is the file the tests run', () => {
  const docs = readFileSync(new URL('../../docs/deployment.md', import.meta.url), 'utf8');
  const conf = readFileSync(CLUSTER_CONF, 'utf8');
  assert.ok(docs.includes('```nginx\n' + conf + '```'), 'docs/deployment.md shows the file as is');
});

test('through nginx, streams spread over both nodes and receive updates published anywhere', async (t) => {
  const cluster = await startCluster(t);
  const streams: EventStream[] = [];
  for (let i = 0; i < 6; i++)
    streams.push(
      await EventStream.open(t, `${cluster.hubUrl}?topic=${encodeURIComponent(TOPICS)}`),
    );
  for (const stream of streams) {
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
    // nginx's $request_id reached Herald, which echoed it: one id in both logs.
    assert.match(stream.headers.get('x-request-id') ?? '', /^[0-9a-f]{32}$/);
  }
  const [a, b] = cluster.nodes;
  const onA = await connectionsOn(a);
  const onB = await connectionsOn(b);
  assert.equal(onA + onB, 6);
  assert.ok(onA >= 1 && onB >= 1, `both nodes hold streams: ${onA} + ${onB}`);

  assert.equal(await publish(cluster.hubUrl, 1), 200);
  assert.equal(await publish(a.hubUrl, 2), 200);
  assert.equal(await publish(b.hubUrl, 3), 200);
  for (const stream of streams) {
    const events = await stream.waitForEvents(3);
    assert.deepEqual(
      events.map((event) => [event.id, event.data]),
      [1, 2, 3].map((n) => [`urn:test:${n}`, `update ${n}`]),
    );
  }
});

for (const heartbeat of ['500ms', '0']) {
  test(`an idle stream through nginx ${heartbeat === '0' ? 'is cut by proxy_read_timeout without heartbeats' : 'stays open past proxy_read_timeout thanks to the heartbeat'}`, async (t) => {
    // Production runs a 20 s heartbeat under a 1 h proxy_read_timeout; the same relation, shrunk.
    const cluster = await startCluster(t, { heartbeat, readTimeout: '2s' });
    const stream = await EventStream.open(
      t,
      `${cluster.hubUrl}?topic=${encodeURIComponent(TOPICS)}`,
    );
    assert.equal(stream.status, 200);
    const idle = new Promise((resolve) => setTimeout(resolve, 5_000));
    if (heartbeat === '0') {
      // The control: nothing comes from the node, so nginx ends the stream after 2 s.
      await stream.waitForEnd(8_000);
      return;
    }
    await idle;
    assert.ok(!stream.ended, 'the stream outlived 2.5 read timeouts');
    // Heartbeats crossed nginx as they were sent, not buffered: one every 500 ms for 5 s.
    assert.ok(stream.comments >= 5, `heartbeats came through (${stream.comments} comments)`);
    assert.equal(await publish(cluster.hubUrl, 7), 200);
    assert.deepEqual(
      (await stream.waitForEvents(1)).map((event) => event.data),
      ['update 7'],
    );
  });
}

test('when a node stops, its clients resume through nginx on the other node and miss nothing', async (t) => {
  const cluster = await startCluster(t);
  const [a, b] = cluster.nodes;
  const received: string[][] = [];
  const reconnections: number[] = [];
  const subscriptions: Subscription[] = [];
  for (let i = 0; i < 6; i++) {
    const events: string[] = [];
    received.push(events);
    reconnections.push(0);
    const subscription = subscribe(cluster.hubUrl, TOPICS, {
      fetch: fetch as unknown as FetchFunction,
      initialRetryDelay: 100,
      maxRetryDelay: 500,
    });
    t.after(() => {
      subscription.close();
    });
    subscription.on('message', (event) => events.push(event.id));
    subscription.onState(({ to }) => {
      if (to === 'reconnecting') reconnections[i] = (reconnections[i] ?? 0) + 1;
    });
    subscriptions.push(subscription);
  }
  await waitFor(() => subscriptions.every((s) => s.state === 'open'), {
    message: 'every subscription open',
  });
  const onA = await connectionsOn(a);
  assert.ok(onA >= 1 && (await connectionsOn(b)) >= 1, 'both nodes hold streams');

  const expected: string[] = [];
  const publishAll = async (from: number, to: number): Promise<void> => {
    for (let n = from; n <= to; n++) {
      // While node A stops, a publish that nginx sent to it may fail (never acknowledged):
      // publish again. The explicit id makes a retry of a stored update a 409, not a copy.
      let status = await publish(cluster.hubUrl, n);
      for (let attempt = 0; status !== 200 && attempt < 20; attempt++) {
        assert.ok([502, 503, 409].includes(status), `publish ${n} answered ${status}`);
        if (status === 409) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = await publish(cluster.hubUrl, n);
      }
      assert.ok(status === 200 || status === 409, `publish ${n} was stored`);
      expected.push(`urn:test:${n}`);
    }
  };
  await publishAll(1, 5);
  await waitFor(() => received.every((ids) => ids.length >= 5), {
    message: 'the first five updates everywhere',
  });

  // Node A shuts down gracefully: its streams end and their clients reconnect through nginx,
  // which sends them to B; they resume with Last-Event-ID from the shared history.
  a.cli.child.kill('SIGTERM');
  await publishAll(6, 10);
  assert.equal(await a.cli.exited, 0);
  await publishAll(11, 15);
  await waitFor(() => received.every((ids) => ids.length >= expected.length), {
    message: 'every update on every subscription',
  });
  for (const ids of received) assert.deepEqual(ids, expected, 'each update once, in order');
  const resumed = reconnections.filter((count) => count > 0).length;
  assert.equal(resumed, onA, 'exactly the clients of the stopped node reconnected');
  assert.equal(await connectionsOn(b), 6, 'all streams are on the remaining node');
});
