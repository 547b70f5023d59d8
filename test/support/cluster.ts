import type { TestContext } from 'node:test';
import { EventSource } from 'eventsource';
import { fetch } from 'undici';
import { mintToken } from '../../src/auth/mint-token.ts';
import { subscribe } from '../../src/client/index.ts';
import type { RunningCli } from './cli.ts';
import { runCli } from './cli.ts';
import { EventStream } from './event-stream.ts';
import { countKeys, deleteKeys, REDIS_URL, uniquePrefix } from './redis.ts';
import { waitFor } from './wait.ts';

const KEY = 'cluster-test-key-that-is-long-enough-for-hs256';

export interface ClusterNode {
  readonly name: string;
  readonly hubUrl: string;
  readonly port: number;
  readonly cli: RunningCli;
  /** False once the process has exited. */
  readonly alive: boolean;
  /** Ends the process with SIGKILL: no graceful shutdown, open streams are simply cut. */
  kill(): Promise<void>;
  /** Log lines at level error or above that the node wrote. */
  errorLogs(): Record<string, unknown>[];
}

/** One publish's outcome: `status` 0 when the request failed without an answer. */
export interface PublishOutcome {
  readonly status: number;
  readonly body: string;
}

/** A publish the cluster acknowledged with 200. */
export interface Acked {
  readonly id: string;
  readonly topic: string;
  readonly data: string;
  /** Which publisher loop sent it, and its place in that loop (acks of one loop are causal). */
  readonly publisher: string;
  readonly seq: number;
}

export interface ReceivedEvent {
  readonly id: string;
  readonly data: string;
}

/** A subscriber of any implementation, seen as the list of events it received so far. */
export interface Collector {
  readonly name: string;
  readonly events: readonly ReceivedEvent[];
  /** Resolves once an event with this id arrived; fails after `timeoutMs`. */
  waitForId(id: string, timeoutMs?: number): Promise<void>;
  close(): void;
}

export interface Cluster {
  readonly prefix: string;
  readonly nodes: readonly ClusterNode[];
  readonly subscriberToken: string;
  publish(node: ClusterNode, topic: string, data: string, id?: string): Promise<PublishOutcome>;
  subscribeUrl(hubUrl: string, selectors: readonly string[]): string;
  /** The ids of all kept history (read with `Last-Event-ID: earliest`) up to `untilId`. */
  readHistory(node: ClusterNode, untilId: string, timeoutMs?: number): Promise<ReceivedEvent[]>;
  /** How many Redis keys exist under this cluster's prefix. */
  redisKeys(): Promise<number>;
}

export const ALL_ROOMS = 'https://example.com/rooms/{room}';
export const room = (n: number) => `https://example.com/rooms/${n}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `count` real `herald serve` processes (the built CLI) sharing the machine's Redis
 * under one fresh key prefix, each with `options.args` added to its command line. When the
 * test ends every node is killed by its pid and every key under the prefix is removed (SCAN +
 * UNLINK), and the test fails if one is left.
 */
export async function startCluster(
  t: TestContext,
  count: number,
  options: { readonly args?: readonly string[] } = {},
): Promise<Cluster> {
  const prefix = uniquePrefix('cluster');

  const nodes: ClusterNode[] = [];
  t.after(async () => {
    // Nodes first, so that none writes a key after the clean-up.
    await Promise.all(nodes.map((node) => node.kill()));
    await deleteKeys(prefix);
    const left = await countKeys(prefix);
    if (left > 0) throw new Error(`${left} keys left under ${prefix}`);
  });

  const names = 'ABCDEFGH';
  const started = Array.from({ length: count }, (_, i) => {
    const cli = runCli(
      t,
      [
        'serve',
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--store',
        REDIS_URL,
        '--redis-prefix',
        prefix,
        // Publishers here go flat out with one token; these tests are about the cluster, and
        // the publish rate limit has its own tests.
        '--publish-rate',
        '0',
        ...(options.args ?? []),
      ],
      // Warnings and errors only: a test reads them; request logs would only slow the nodes.
      { HERALD_JWT_KEY: KEY, HERALD_LOG_LEVEL: 'warn' },
    );
    return { name: names[i] ?? `N${i}`, cli };
  });
  for (const { name, cli } of started) {
    const hubUrl = await cli.ready;
    const exited = cli.exited;
    let alive = true;
    void exited.then(() => (alive = false));
    nodes.push({
      name,
      hubUrl,
      port: Number(new URL(hubUrl).port),
      cli,
      get alive() {
        return alive;
      },
      async kill() {
        if (cli.child.exitCode === null && cli.child.signalCode === null) {
          cli.child.kill('SIGKILL');
        }
        await exited;
      },
      errorLogs() {
        return cli.stdout
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as Record<string, unknown>)
          .filter((line) => Number(line['level']) >= 50);
      },
    });
  }

  const publisherToken = await mintToken({ key: KEY, algorithm: 'HS256', publish: ['*'] });
  const subscriberToken = await mintToken({ key: KEY, algorithm: 'HS256', subscribe: ['*'] });
  const subscribeUrl = (hubUrl: string, selectors: readonly string[]): string => {
    const url = new URL(hubUrl);
    for (const selector of selectors) url.searchParams.append('topic', selector);
    return url.href;
  };

  const cluster: Cluster = {
    prefix,
    nodes,
    subscriberToken,
    async publish(node, topic, data, id) {
      const form = new URLSearchParams({ topic, data });
      if (id !== undefined) form.set('id', id);
      try {
        const response = await fetch(node.hubUrl, {
          method: 'POST',
          headers: { Authorization: `Bearer ${publisherToken}` },
          body: form,
        });
        return { status: response.status, body: await response.text() };
      } catch (error) {
        return { status: 0, body: String(error) };
      }
    },
    subscribeUrl,
    async readHistory(node, untilId, timeoutMs = 20_000) {
      const stream = await EventStream.open(t, subscribeUrl(node.hubUrl, [ALL_ROOMS]), {
        Authorization: `Bearer ${subscriberToken}`,
        'Last-Event-ID': 'earliest',
      });
      if (stream.status !== 200) throw new Error(`history read answered ${stream.status}`);
      try {
        await stream.until(
          () => stream.events.some((event) => event.id === untilId),
          `history up to ${untilId}`,
          timeoutMs,
        );
      } finally {
        stream.close();
      }
      const events = stream.events.map((event) => ({ id: event.id ?? '', data: event.data }));
      return events.slice(0, events.findIndex((event) => event.id === untilId) + 1);
    },
    redisKeys: () => countKeys(prefix),
  };
  return cluster;
}

/**
 * A publisher: sends publishes one after the other (each waits for the previous answer) to
 * `target()` until `stop()`, and keeps what was acknowledged. Every `customIdEvery`-th publish
 * carries an id chosen by the publisher instead of one assigned by the store.
 */
export class PublisherLoop {
  readonly acked: Acked[] = [];
  /** Publishes not acknowledged: status 0 (no answer) or an error status. */
  readonly failed: { seq: number; status: number; body: string }[] = [];
  readonly done: Promise<void>;
  #stopped = false;

  constructor(
    cluster: Cluster,
    readonly name: string,
    target: () => ClusterNode,
    options: {
      readonly rooms?: number;
      readonly customIdEvery?: number;
      readonly pauseMs?: number;
    },
  ) {
    const rooms = options.rooms ?? 2;
    this.done = (async () => {
      for (let seq = 0; !this.#stopped; seq++) {
        const node = target();
        const topic = room(1 + (seq % rooms));
        const data = JSON.stringify({ publisher: name, seq, node: node.name });
        const id =
          options.customIdEvery !== undefined && seq % options.customIdEvery === 0
            ? `urn:herald-test:${name}:${seq}`
            : undefined;
        const outcome = await cluster.publish(node, topic, data, id);
        if (outcome.status === 200) {
          this.acked.push({ id: outcome.body, topic, data, publisher: name, seq });
        } else {
          this.failed.push({ seq, ...outcome });
        }
        if (options.pauseMs !== undefined) await sleep(options.pauseMs);
      }
    })();
  }

  stop(): Promise<void> {
    this.#stopped = true;
    return this.done;
  }
}

/** Publishes until every loop has `count` acknowledged publishes, then stops them all. */
export async function runUntilAcked(loops: readonly PublisherLoop[], count: number): Promise<void> {
  await waitFor(() => loops.every((loop) => loop.acked.length >= count), {
    message: () => `${count} acks per publisher (${loops.map((l) => l.acked.length).join(', ')})`,
    timeout: 60_000,
  });
}

function collector(
  name: string,
  events: () => readonly ReceivedEvent[],
  close: () => void,
  ended: () => boolean = () => false,
): Collector {
  return {
    name,
    get events() {
      return events();
    },
    close,
    waitForId: async (id, timeoutMs) => {
      await waitFor(
        () => {
          if (events().some((event) => event.id === id)) return true;
          if (ended()) throw new Error(`${name} ended before ${id} (have ${events().length})`);
          return false;
        },
        {
          message: () => `${name} to receive ${id} (have ${events().length} events)`,
          timeout: timeoutMs,
        },
      );
    },
  };
}

/** A subscriber over the test's own SSE reader (undici + eventsource-parser), one connection. */
export async function streamCollector(
  t: TestContext,
  name: string,
  url: string,
  token: string,
  lastEventId?: string,
): Promise<Collector & { readonly stream: EventStream }> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  if (lastEventId !== undefined) headers['Last-Event-ID'] = lastEventId;
  const stream = await EventStream.open(t, url, headers);
  if (stream.status !== 200) throw new Error(`${name}: subscribe answered ${stream.status}`);
  const view = () => stream.events.map((event) => ({ id: event.id ?? '', data: event.data }));
  return Object.assign(
    collector(
      name,
      view,
      () => {
        stream.close();
      },
      () => stream.ended,
    ),
    { stream },
  );
}

/**
 * A subscriber over the third-party `eventsource` package (the WHATWG EventSource for Node):
 * it reconnects by itself, sending `Last-Event-ID`, as a browser would.
 */
export function eventSourceCollector(
  t: TestContext,
  name: string,
  url: string,
  token: string,
): Collector & { readonly opened: Promise<void>; readonly opens: () => number } {
  const events: ReceivedEvent[] = [];
  let opens = 0;
  const source = new EventSource(url, {
    fetch: (input, init) =>
      globalThis.fetch(input, {
        ...init,
        headers: { ...init.headers, Authorization: `Bearer ${token}` },
      }),
  });
  const opened = new Promise<void>((resolve) => {
    source.addEventListener('open', () => {
      opens++;
      resolve();
    });
  });
  source.addEventListener('message', (event) => {
    events.push({ id: event.lastEventId, data: event.data as string });
  });
  t.after(() => {
    source.close();
  });
  return Object.assign(
    collector(
      name,
      () => events,
      () => {
        source.close();
      },
    ),
    { opened, opens: () => opens },
  );
}

/**
 * A subscriber over Herald's own client SDK, reconnecting fast with `Last-Event-ID`. `resumes`
 * lists, for every connection after the first, what the hub said it resumed after.
 */
export function sdkCollector(
  t: TestContext,
  name: string,
  hubUrl: string,
  selectors: readonly string[],
  token: string,
): Collector & { readonly opened: Promise<void>; readonly resumes: (string | undefined)[] } {
  const events: ReceivedEvent[] = [];
  const resumes: (string | undefined)[] = [];
  let opens = 0;
  const subscription = subscribe(hubUrl, selectors, {
    token,
    initialRetryDelay: 50,
    maxRetryDelay: 250,
  });
  const opened = new Promise<void>((resolve) => {
    subscription.onState((change) => {
      if (change.to !== 'open') return;
      if (opens++ > 0) resumes.push(change.resumedAfter);
      resolve();
    });
  });
  subscription.on('message', (event) => {
    events.push({ id: event.id, data: event.data });
  });
  t.after(() => {
    subscription.close();
  });
  return Object.assign(
    collector(
      name,
      () => events,
      () => {
        subscription.close();
      },
    ),
    { opened, resumes },
  );
}

/** The events up to and including `id`. */
export function upTo(events: readonly ReceivedEvent[], id: string): ReceivedEvent[] {
  const end = events.findIndex((event) => event.id === id);
  if (end === -1) throw new Error(`${id} is not among ${events.length} events`);
  return events.slice(0, end + 1);
}

/** Ids that occur more than once. */
export function duplicates(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  return ids.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
}
