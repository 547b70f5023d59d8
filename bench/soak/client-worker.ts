/**
 * One process of soak clients (bench/soak/run.ts forks several). It keeps `connections` event
 * streams open under continuous churn: each connects from one of its local 127.0.0.x
 * addresses, subscribes to random selectors, behaves as a reader, a slow reader or a reader
 * that never reads, and leaves after a random lifetime; a new one takes its place.
 *
 * Readers and slow readers are checked for loss: the orchestrator sends every acknowledged
 * publish (id, topic, time of the acknowledgement), and when a session ends, every update
 * acknowledged within it (2 s margins at both ends) that its selectors match must have arrived.
 * A session the hub drops (a slow consumer, the total unsent bound) resumes with
 * Last-Event-ID, so it stays one session for the check. Readers that never read are not
 * checked: they hold memory, which is the point.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';

export interface SoakWorkerConfig {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly localAddresses: readonly string[];
  readonly connections: number;
  /** Seconds over which the first connections open. */
  readonly rampSeconds: number;
  readonly minLifetimeSeconds: number;
  readonly maxLifetimeSeconds: number;
  readonly topics: number;
  readonly topicBase: string;
  readonly seed: number;
}

export interface SoakWorkerReport {
  readonly sessions: number;
  readonly checkedSessions: number;
  readonly expectedDeliveries: number;
  /** Expected deliveries not arrived by the session's end, and not in the replay after its last id either. */
  readonly missing: number;
  /** Not arrived by the session's end, but in the replay after its last id: late, not lost. */
  readonly late: number;
  readonly duplicates: number;
  readonly resumes: number;
  readonly refused: number;
  readonly connectErrors: number;
  readonly open: number;
  readonly missingSamples: readonly string[];
}

type Kind = 'reader' | 'slow' | 'stalled';

interface Acked {
  readonly id: string;
  readonly topic: string;
  readonly at: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as SoakWorkerConfig;
const MARGIN_MS = 2_000;

let random = config.seed >>> 0 || 1;
function next(): number {
  // xorshift32: reproducible per worker.
  random ^= random << 13;
  random ^= random >>> 17;
  random ^= random << 5;
  return (random >>> 0) / 2 ** 32;
}

const acked: Acked[] = [];
const stats = {
  sessions: 0,
  checkedSessions: 0,
  expectedDeliveries: 0,
  missing: 0,
  late: 0,
  duplicates: 0,
  resumes: 0,
  refused: 0,
  connectErrors: 0,
};
const missingSamples: string[] = [];
let open = 0;
let stopping = false;
let addressTurn = 0;
const sessions = new Set<Session>();

/** A selector as the client would write it, and how the check matches it. */
interface Selector {
  readonly source: string;
  matches(topic: string): boolean;
}

function randomSelectors(): Selector[] {
  const count = 1 + Math.floor(next() * 3);
  const selectors: Selector[] = [];
  for (let i = 0; i < count; i++) {
    if (next() < 0.02) {
      // A URI template over every topic of the feed.
      const prefix = `${config.topicBase}/`;
      selectors.push({
        source: `${config.topicBase}/{n}`,
        matches: (topic) => topic.startsWith(prefix) && !topic.slice(prefix.length).includes('/'),
      });
    } else {
      const topic = `${config.topicBase}/${Math.floor(next() * config.topics)}`;
      selectors.push({ source: topic, matches: (candidate) => candidate === topic });
    }
  }
  return selectors;
}

class Session {
  readonly kind: Kind;
  readonly selectors: Selector[];
  readonly endsAt: number;
  socket: Socket | undefined;
  /** When the first response head arrived: the check's window starts after it. */
  startedAt = 0;
  lastId = '';
  readonly received = new Set<string>();
  #carry = '';
  #headDone = false;
  #slowTimer: NodeJS.Timeout | undefined;
  #leaving = false;

  constructor(kind: Kind, lifetimeMs: number) {
    this.kind = kind;
    this.selectors = randomSelectors();
    this.endsAt = Date.now() + lifetimeMs;
  }

  open(): void {
    const query = this.selectors
      .map((selector) => `topic=${encodeURIComponent(selector.source)}`)
      .join('&');
    const localAddress = config.localAddresses[addressTurn++ % config.localAddresses.length];
    const socket = connect({ host: config.host, port: config.port, localAddress });
    this.socket = socket;
    this.#headDone = false;
    this.#carry = '';
    socket.setNoDelay(true);
    const resume = this.lastId === '' ? '' : `Last-Event-ID: ${this.lastId}\r\n`;
    socket.write(
      `GET ${config.path}?${query} HTTP/1.1\r\nHost: ${config.host}\r\n${resume}Connection: keep-alive\r\n\r\n`,
    );
    socket.on('error', () => {
      if (!this.#headDone) stats.connectErrors++;
    });
    socket.on('close', () => {
      this.#closed(socket);
    });
    if (this.kind === 'stalled') {
      // Reads the head only, then never again.
      socket.once('data', (chunk: Buffer) => {
        this.#head(chunk.toString('latin1'));
        socket.pause();
      });
      return;
    }
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.#data(chunk);
    });
    if (this.kind === 'slow') this.#slowCycle(socket);
  }

  /** A slow reader: reads for half a second, then stops for one to five seconds. */
  #slowCycle(socket: Socket): void {
    this.#slowTimer = setTimeout(() => {
      socket.pause();
      this.#slowTimer = setTimeout(
        () => {
          socket.resume();
          this.#slowCycle(socket);
        },
        1_000 + next() * 4_000,
      );
    }, 500);
  }

  #head(text: string): string {
    const end = text.indexOf('\r\n\r\n');
    if (end === -1) return '';
    const status = text.slice(9, 12);
    if (status !== '200') {
      stats.refused++;
      this.socket?.destroy();
      return '';
    }
    this.#headDone = true;
    if (this.startedAt === 0) this.startedAt = Date.now();
    return text.slice(end + 4);
  }

  #data(chunk: string): void {
    let text = this.#carry + chunk;
    if (!this.#headDone) {
      if (!text.includes('\r\n\r\n')) {
        this.#carry = text;
        return;
      }
      text = this.#head(text);
    }
    const lastBreak = text.lastIndexOf('\n');
    this.#carry = text.slice(lastBreak + 1);
    const complete = text.slice(0, lastBreak + 1);
    // Chunk-size lines and data lines are skipped: only `id: ` lines count.
    let at = complete.startsWith('id: ') ? 0 : complete.indexOf('\nid: ');
    while (at !== -1) {
      const start = complete.startsWith('id: ', at) ? at + 4 : at + 5;
      const end = complete.indexOf('\n', start);
      const id = complete.slice(start, end);
      if (this.received.has(id)) stats.duplicates++;
      else this.received.add(id);
      this.lastId = id;
      at = complete.indexOf('\nid: ', end);
    }
  }

  #closed(socket: Socket): void {
    clearTimeout(this.#slowTimer);
    if (socket !== this.socket) return;
    this.socket = undefined;
    const planned = this.#leaving || stopping;
    if (!planned && this.#headDone && this.kind !== 'stalled') {
      // Dropped by the hub: resume where it got to, as EventSource would.
      stats.resumes++;
      setTimeout(() => {
        this.open();
      }, 100);
      return;
    }
    this.#finish();
  }

  /**
   * Ends the session on schedule. A reader first reads what is still on its way (a slow one
   * may be seconds behind), so that the check does not count what it chose not to read yet.
   */
  leave(): void {
    this.#leaving = true;
    const socket = this.socket;
    if (socket === undefined) return;
    if (this.kind === 'stalled') {
      socket.destroy();
      return;
    }
    clearTimeout(this.#slowTimer);
    socket.resume();
    setTimeout(() => {
      socket.destroy();
    }, 1_500);
  }

  #finish(): void {
    sessions.delete(this);
    open--;
    stats.sessions++;
    if (this.kind !== 'stalled' && this.startedAt !== 0) this.#check();
    if (!stopping) setTimeout(startSession, next() * 1_000);
  }

  #check(): void {
    const from = this.startedAt + MARGIN_MS;
    const until = Math.min(this.endsAt, Date.now()) - MARGIN_MS;
    if (until <= from) return;
    stats.checkedSessions++;
    const notArrived = new Set<string>();
    for (const update of acked) {
      if (update.at <= from || update.at >= until) continue;
      if (!this.selectors.some((selector) => selector.matches(update.topic))) continue;
      stats.expectedDeliveries++;
      if (!this.received.has(update.id)) notArrived.add(update.id);
    }
    if (notArrived.size === 0) return;
    // Late or lost? Resume after the last id received, as a client would: what the replay
    // brings was late; what it cannot bring was lost.
    void resumeAfter(this.selectors, this.lastId, notArrived).then((stillMissing) => {
      stats.late += notArrived.size - stillMissing.size;
      stats.missing += stillMissing.size;
      for (const id of stillMissing) {
        if (missingSamples.length < 10)
          missingSamples.push(`${this.kind} ${id} after ${this.lastId}`);
      }
    });
  }
}

/**
 * Reads the replay after `lastId` until every id in `wanted` came, or 10 s passed since the
 * response head (the connection itself may wait long in a full accept queue: up to 60 s).
 */
function resumeAfter(
  selectors: readonly Selector[],
  lastId: string,
  wanted: Set<string>,
): Promise<Set<string>> {
  const missing = new Set(wanted);
  return new Promise((resolve) => {
    const query = selectors
      .map((selector) => `topic=${encodeURIComponent(selector.source)}`)
      .join('&');
    const socket = connect({
      host: config.host,
      port: config.port,
      localAddress: config.localAddresses[addressTurn++ % config.localAddresses.length],
    });
    socket.setEncoding('latin1');
    const resume = lastId === '' ? 'earliest' : lastId;
    socket.write(
      `GET ${config.path}?${query} HTTP/1.1\r\nHost: ${config.host}\r\nLast-Event-ID: ${resume}\r\n\r\n`,
    );
    let carry = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(missing);
    };
    let timer = setTimeout(done, 60_000);
    let headSeen = false;
    socket.on('data', (chunk: string) => {
      if (!headSeen) {
        headSeen = true;
        clearTimeout(timer);
        timer = setTimeout(done, 10_000);
      }
      const text = carry + chunk;
      const lastBreak = text.lastIndexOf('\n');
      carry = text.slice(lastBreak + 1);
      for (const line of text.slice(0, lastBreak + 1).split('\n')) {
        if (line.startsWith('id: ')) missing.delete(line.slice(4));
      }
      if (missing.size === 0) done();
    });
    socket.on('error', done);
    socket.on('close', done);
  });
}

function startSession(): void {
  if (stopping) return;
  const roll = next();
  const kind: Kind = roll < 0.6 ? 'reader' : roll < 0.85 ? 'slow' : 'stalled';
  const lifetime =
    (config.minLifetimeSeconds + next() * (config.maxLifetimeSeconds - config.minLifetimeSeconds)) *
    1000;
  const session = new Session(kind, lifetime);
  sessions.add(session);
  open++;
  session.open();
  setTimeout(() => {
    session.leave();
  }, lifetime).unref();
}

// Acknowledged publishes older than the longest session are no longer needed.
setInterval(() => {
  const horizon = Date.now() - (config.maxLifetimeSeconds + 60) * 1000;
  let drop = 0;
  while (drop < acked.length && (acked[drop]?.at ?? 0) < horizon) drop++;
  if (drop > 0) acked.splice(0, drop);
}, 10_000).unref();

process.on('message', (message: { type: string; updates?: Acked[] }) => {
  if (message.type === 'acked') {
    for (const update of message.updates ?? []) acked.push(update);
  } else if (message.type === 'report') {
    const report: SoakWorkerReport = { ...stats, open, missingSamples };
    process.send?.({ type: 'report', report });
  } else if (message.type === 'stop') {
    stopping = true;
    for (const session of [...sessions]) session.leave();
    setTimeout(() => {
      const report: SoakWorkerReport = { ...stats, open, missingSamples };
      process.send?.({ type: 'stopped', report }, () => process.exit(0));
    }, 12_000);
  }
});

const rampStep = (config.rampSeconds * 1000) / config.connections;
for (let i = 0; i < config.connections; i++) {
  setTimeout(startSession, i * rampStep);
}
process.send?.({ type: 'started' });
