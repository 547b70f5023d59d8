/**
 * One load-client process: holds `count` SSE connections to the target, spread over several
 * 127.0.0.x source addresses, and records for every delivery its latency (publish timestamp in
 * the payload, one clock for all processes) and for every event the moment its last subscriber
 * here received it. Driven by the orchestrator (run.ts) over IPC.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { mintToken } from '../../src/auth/mint-token.ts';

export interface WorkerConfig {
  readonly host: string;
  readonly port: number;
  /** Request path and query of the subscription. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly count: number;
  readonly sourceAddresses: readonly string[];
  /** Upper bound on new connections per second from this process (default: waves only). */
  readonly connectsPerSecond?: number;
  /**
   * When set, every connection presents its own subscriber token (HS256 with this key, its own
   * `sub`, one hour to live), minted before connecting: the hub verifies a token per subscribe,
   * as it does in production, and no two connections share a verification.
   */
  readonly tokenKey?: string;
}

/** When this process's connections opened: the first connect and the last response head. */
export interface ConnectTimes {
  readonly connected: number;
  readonly firstAt: number;
  readonly lastAt: number;
}

export interface WorkerReport {
  readonly connected: number;
  readonly closed: number;
  /** Deliveries received since the last reset. */
  readonly deliveries: number;
  /** Connections that received every event of the phase, in order, once. */
  readonly complete: number;
  /** Latency histogram, 0.1 ms buckets (the last one collects everything slower). */
  readonly latency: number[];
  /** Per event sequence number: when its last delivery here arrived (ms, shared clock). */
  readonly lastArrival: Record<number, number>;
  readonly perEvent: Record<number, number>;
}

const BUCKET_MS = 0.1;
const BUCKETS = 100_000;
const SAMPLE = /"seq":(\d+),"t":([\d.]+)/g;
const now = () => performance.timeOrigin + performance.now();

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const connections: Connection[] = [];
let latency = new Uint32Array(BUCKETS + 1);
let lastArrival = new Map<number, number>();
let perEvent = new Map<number, number>();
let deliveries = 0;
let firstSeq = 0;
let connected = 0;
let closed = 0;
let firstAt = Number.POSITIVE_INFINITY;
let lastAt = 0;
let tokens: string[] = [];

interface Connection {
  socket: Socket;
  tail: string;
  received: number;
  nextSeq: number;
  inOrder: boolean;
  /** The last `id:` this connection received: what it resumes after (Last-Event-ID). */
  lastId: string | undefined;
}

// An event's id line: Herald's `urn:uuid:…`, nchan's `<time>:<tag>`.
const ID_LINE = /(?:^|\n)id: ?([^\r\n]*)\r?\n/g;

function onData(connection: Connection, chunk: Buffer): void {
  const text = connection.tail + chunk.toString('latin1');
  const at = now();
  let consumed = 0;
  SAMPLE.lastIndex = 0;
  for (let match = SAMPLE.exec(text); match !== null; match = SAMPLE.exec(text)) {
    consumed = SAMPLE.lastIndex;
    const seq = Number(match[1]);
    if (seq < firstSeq) continue;
    const ms = at - Number(match[2]);
    const bucket = Math.min(BUCKETS, Math.max(0, Math.floor(ms / BUCKET_MS)));
    latency[bucket] = (latency[bucket] ?? 0) + 1;
    deliveries++;
    connection.received++;
    if (seq !== connection.nextSeq) connection.inOrder = false;
    connection.nextSeq = seq + 1;
    lastArrival.set(seq, Math.max(lastArrival.get(seq) ?? 0, at));
    perEvent.set(seq, (perEvent.get(seq) ?? 0) + 1);
  }
  ID_LINE.lastIndex = 0;
  for (let match = ID_LINE.exec(text); match !== null; match = ID_LINE.exec(text)) {
    connection.lastId = match[1];
  }
  // Keep an incomplete sample for the next chunk; drop what was read (bounded memory).
  const rest = text.slice(consumed);
  connection.tail = rest.length > 512 ? rest.slice(-512) : rest;
}

const HEADERS = Object.entries(config.headers)
  .map(([name, value]) => `${name}: ${value}\r\n`)
  .join('');

/** Opens connection `index` (again, resuming after `lastId` when given). */
function open(index: number, lastId?: string): Promise<void> {
  return new Promise((resolve) => {
    const localAddress = config.sourceAddresses[index % config.sourceAddresses.length];
    firstAt = Math.min(firstAt, now());
    const socket = connect({ host: config.host, port: config.port, localAddress });
    const connection: Connection = {
      socket,
      tail: '',
      received: 0,
      nextSeq: firstSeq,
      inOrder: true,
      lastId,
    };
    connections[index] = connection;
    let answered = false;
    socket.on('connect', () => {
      const token = tokens[index];
      const authorization = token === undefined ? '' : `Authorization: Bearer ${token}\r\n`;
      const resume = lastId === undefined ? '' : `Last-Event-ID: ${lastId}\r\n`;
      socket.write(
        `GET ${config.path} HTTP/1.1\r\nHost: ${config.host}\r\n${HEADERS}${authorization}${resume}\r\n`,
      );
    });
    socket.on('data', (chunk: Buffer) => {
      if (!answered) {
        answered = true;
        if (chunk.toString('latin1', 0, 12).includes(' 200')) {
          connected++;
          lastAt = Math.max(lastAt, now());
        }
        resolve();
      }
      onData(connection, chunk);
    });
    socket.on('error', () => {
      if (!answered) {
        answered = true;
        resolve();
      }
    });
    socket.on('close', () => {
      closed++;
    });
  });
}

async function openAll(resume = false): Promise<void> {
  // Connect in waves so the server's accept queue never overflows.
  const WAVE = 250;
  const began = Date.now();
  const lastIds = resume ? connections.map((c) => c.lastId) : [];
  for (let start = 0; start < config.count; start += WAVE) {
    const wave = [];
    for (let i = start; i < Math.min(config.count, start + WAVE); i++) {
      wave.push(open(i, lastIds[i]));
    }
    await Promise.all(wave);
    // A bounded connection rate: the next wave waits until it is due.
    if (config.connectsPerSecond !== undefined && config.connectsPerSecond > 0) {
      const due = began + ((start + WAVE) / config.connectsPerSecond) * 1000;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
    }
  }
}

process.on('message', (message: { type: string; firstSeq?: number; events?: number }) => {
  if (message.type === 'reset') {
    firstSeq = message.firstSeq ?? 0;
    latency = new Uint32Array(BUCKETS + 1);
    lastArrival = new Map();
    perEvent = new Map();
    deliveries = 0;
    for (const connection of connections) {
      connection.received = 0;
      connection.nextSeq = firstSeq;
      connection.inOrder = true;
    }
    process.send?.({ type: 'reset-done' });
  } else if (message.type === 'report') {
    const events = message.events ?? 0;
    const report: WorkerReport = {
      connected,
      closed,
      deliveries,
      complete: connections.filter((c) => c.inOrder && c.received === events).length,
      latency: Array.from(latency),
      lastArrival: Object.fromEntries(lastArrival),
      perEvent: Object.fromEntries(perEvent),
    };
    process.send?.({ type: 'report', report });
  } else if (message.type === 'count') {
    process.send?.({ type: 'count', deliveries, connected, closed });
  } else if (message.type === 'disconnect') {
    // Every connection cut at once, as a restarted node or a network blip does; each keeps
    // its last id to resume after.
    const gone = connections
      .filter((c) => !c.socket.destroyed)
      .map((c) => new Promise((resolve) => c.socket.once('close', resolve)));
    for (const connection of connections) connection.socket.destroy();
    void Promise.all(gone).then(() => {
      process.send?.({ type: 'disconnected', closed });
    });
  } else if (message.type === 'reconnect') {
    // Everyone back at once (in waves of 250, as fast as the server answers), each with
    // Last-Event-ID: the head time is when each was accepted again.
    connected = 0;
    closed = 0;
    firstAt = Number.POSITIVE_INFINITY;
    lastAt = 0;
    void openAll(true).then(() => {
      const times: ConnectTimes = { connected, firstAt, lastAt };
      process.send?.({ type: 'reconnected', ...times });
    });
  } else if (message.type === 'stop') {
    for (const connection of connections) connection.socket.destroy();
    process.exit(0);
  }
});

if (config.tokenKey !== undefined) {
  const key = config.tokenKey;
  tokens = await Promise.all(
    Array.from({ length: config.count }, (_, i) =>
      mintToken({
        key,
        algorithm: 'HS256',
        subscribe: ['bench'],
        ttlSeconds: 3600,
        payload: { client: `${process.pid}-${i}` },
      }),
    ),
  );
}
await openAll();
const times: ConnectTimes = { connected, firstAt, lastAt };
process.send?.({ type: 'connected', ...times });
