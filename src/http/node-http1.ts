import { createServer, ServerResponse } from 'node:http';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { HubResponse } from './http-message.ts';
import { chunkOf } from './streams/chunk-framing.ts';

/*
 * Herald's one adapter over Node's HTTP/1.1 internals. Everything that leans on how Node's
 * http module works inside, rather than on its documented API, is here:
 *
 * - writing an event stream's frames straight to the socket, pre-framed as chunks, once Node has
 *   put the response's head in it (and waiting a tick for that on Node 26, whose `res.write`
 *   corks the response until the next tick);
 * - replacing the head Node keeps for a response's life (`_header`) once it is sent;
 * - reading which response a connection is serving (`socket._httpMessage`);
 * - taking a server's connections before its parser sees them, and handing some back with
 *   their first bytes put back (the listener Node's server registers for 'connection').
 *
 * `checkNodeHttp1()` tries each on a real loopback connection when the hub starts. What does not
 * behave as expected is switched off: streams then write through `res.write`, the head stays
 * where Node keeps it, and a connection whose response cannot be known is treated carefully
 * (see `responseBegun` and `holdsNoResponse`). The hub logs which and why.
 */

/** The few internal fields the fast path touches, read and written only through this table. */
export interface NodeInternals {
  /** The response a connection serves (`_httpMessage`): null or undefined when none. */
  responseOf(socket: Duplex): unknown;
  /** Whether the response's head has gone to the socket (`_headerSent`). */
  headSent(res: object): unknown;
  /** The head Node keeps once built (`_header`). */
  storedHead(res: object): unknown;
  replaceStoredHead(res: object, head: string): void;
  /** Whether Node frames this response's body as chunks (`chunkedEncoding`). */
  chunked(res: object): unknown;
  /** The one listener Node's server registers for 'connection', which gives a socket its parser. */
  connectionListener(server: Server): unknown;
}

interface NodeResponseFields {
  _header?: unknown;
  _headerSent?: unknown;
  chunkedEncoding?: unknown;
}

/** Node's own fields, as Node 22 to 26 name them. */
export const NODE_INTERNALS: NodeInternals = {
  responseOf: (socket) => (socket as Duplex & { _httpMessage?: unknown })._httpMessage,
  headSent: (res) => (res as NodeResponseFields)._headerSent,
  storedHead: (res) => (res as NodeResponseFields)._header,
  replaceStoredHead: (res, head) => {
    (res as NodeResponseFields)._header = head;
  },
  chunked: (res) => (res as NodeResponseFields).chunkedEncoding,
  connectionListener: (server) => {
    const listeners = server.listeners('connection');
    return listeners.length === 1 ? listeners[0] : undefined;
  },
};

/** What this process's Node lets Herald do beyond the documented API. */
export interface Http1Capabilities {
  /** Frames written straight to the socket, as pre-framed chunks. */
  readonly directWrites: boolean;
  /** The head Node keeps replaced by a shared constant once sent. */
  readonly headRelease: boolean;
  /** The response a connection serves read from the socket. */
  readonly socketResponse: boolean;
  /** Connections seen before Node's parser, and handed to it with their first bytes put back. */
  readonly connectionHandOver: boolean;
}

const NONE: Http1Capabilities = {
  directWrites: false,
  headRelease: false,
  socketResponse: false,
  connectionHandOver: false,
};
const ALL: Http1Capabilities = {
  directWrites: true,
  headRelease: true,
  socketResponse: true,
  connectionHandOver: true,
};

/** Gives a connection to Node's HTTP/1.1 server, its first bytes (if read) put back first. */
export type HandOver = (socket: Socket, firstBytes: Buffer | undefined) => void;

/**
 * Node keeps an HTTP/1.1 response's head (`_header`, the string it built by concatenation,
 * ~250 bytes for a stream) for the response's life, though once it is sent (`_headerSent`) Node
 * only tests it for truthiness (headersSent, writeHead, setHeader, end: checked in Node 20's
 * _http_outgoing and _http_server). An idle stream would hold it for hours: it is replaced by
 * this short constant, which every stream shares.
 */
const SENT_HEAD = 'HTTP/1.1 (head sent)\r\n\r\n';

const CRLF = Buffer.from('\r\n');

/** The adapter, with what the start-up check found this Node lets it do. */
export class NodeHttp1 {
  readonly capabilities: Http1Capabilities;
  /** Why each capability that is off is off: empty when the fast path is whole. */
  readonly fallbacks: readonly string[];
  readonly #internals: NodeInternals;

  constructor(
    capabilities: Http1Capabilities,
    fallbacks: readonly string[] = [],
    internals: NodeInternals = NODE_INTERNALS,
  ) {
    this.capabilities = capabilities;
    this.fallbacks = fallbacks;
    this.#internals = internals;
  }

  /** Only the documented API: every stream writes through `res.write`. */
  static plain(reason: string): NodeHttp1 {
    return new NodeHttp1(NONE, [reason]);
  }

  /**
   * Calls `takeOver` once Node has put the head (and the first write) of `res` in its socket:
   * at once where Node writes through (Node 22, 24), else in the next tick, queued after the
   * one in which Node 26 uncorks the response it corked in `write()`. Returns that tick's
   * promise, or undefined when `takeOver` ran at once.
   */
  afterHead(res: HubResponse, takeOver: () => void): Promise<void> | undefined {
    if (!(res instanceof ServerResponse) || res.writableCorked === 0) {
      takeOver();
      return undefined;
    }
    return new Promise<void>((resolve) => {
      process.nextTick(() => {
        takeOver();
        resolve();
      });
    });
  }

  /**
   * The socket a stream's frames may be written to directly, once the head is in it; undefined
   * when they must go through `res.write`: no fast path on this Node, HTTP/2, a pipelined
   * response that waits for the one before it (no socket yet), or a response still corked (its
   * head not yet handed over). Also releases the head Node keeps, where it can.
   */
  takeSocket(res: HubResponse): Socket | undefined {
    if (!(res instanceof ServerResponse)) return undefined;
    if (this.capabilities.headRelease) this.#releaseHead(res);
    if (!this.capabilities.directWrites || res.socket === null || res.writableCorked !== 0) {
      return undefined;
    }
    return res.socket;
  }

  /** Whether the frames of a response taken over go as chunks (HTTP/1.1) or bare (HTTP/1.0). */
  isChunked(res: HubResponse): boolean {
    return res instanceof ServerResponse && this.#internals.chunked(res) === true;
  }

  /** Writes one frame to a socket taken over: the update's chunk, shared by every stream. */
  writeFrame(socket: Socket, chunked: boolean, frame: Uint8Array): void {
    socket.write(chunked ? chunkOf(frame) : frame);
  }

  /**
   * Writes several frames (`bytes` in all) as one chunk, handed to one writev: the frames are
   * the shared ones, never concatenated into a per-stream copy that a reader who stopped
   * reading would pin.
   */
  writeFrames(
    socket: Socket,
    chunked: boolean,
    frames: readonly Uint8Array[],
    bytes: number,
  ): void {
    // A zero-size chunk would end the body.
    if (bytes === 0) return;
    socket.cork();
    if (chunked) socket.write(Buffer.from(`${bytes.toString(16)}\r\n`, 'latin1'));
    for (const frame of frames) socket.write(frame);
    if (chunked) socket.write(CRLF);
    socket.uncork();
  }

  /**
   * Whether a response has begun on this connection (its head sent), so that another status
   * line must not be written on it. True when it cannot be known: saying nothing is safe.
   */
  responseBegun(socket: Duplex): boolean {
    if (!this.capabilities.socketResponse) return true;
    const response = this.#internals.responseOf(socket) as ServerResponse | null | undefined;
    return response?.headersSent === true;
  }

  /**
   * Whether this connection is known to serve no response (none started, or the last one
   * ended): false when it cannot be known.
   */
  holdsNoResponse(socket: Duplex): boolean {
    if (!this.capabilities.socketResponse) return false;
    const response = this.#internals.responseOf(socket);
    return response === undefined || response === null;
  }

  /**
   * Takes the connections of `server` before Node's HTTP/1.1 parser sees them: `accept` gets
   * each new one instead of Node's server, and the returned function gives one to Node, which
   * then parses it as if it had been first (the first bytes read are put back in the socket).
   * Undefined, and the server left as it was, where this Node does not allow it.
   */
  takeConnections(server: Server, accept: (socket: Socket) => void): HandOver | undefined {
    if (!this.capabilities.connectionHandOver) return undefined;
    return takeConnections(server, accept, this.#internals);
  }

  #releaseHead(res: object): void {
    if (
      this.#internals.headSent(res) === true &&
      typeof this.#internals.storedHead(res) === 'string'
    ) {
      this.#internals.replaceStoredHead(res, SENT_HEAD);
    }
  }
}

/*
 * Node's server registers one 'connection' listener, which gives the socket its parser (its
 * documented way to be handed a socket is emitting 'connection'). It is taken out of the
 * event, and called for the connections handed back.
 */
function takeConnections(
  server: Server,
  accept: (socket: Socket) => void,
  internals: NodeInternals,
): HandOver | undefined {
  const nodeListener = internals.connectionListener(server);
  if (typeof nodeListener !== 'function') return undefined;
  const parse = nodeListener as (this: Server, socket: Socket) => void;
  server.removeListener('connection', parse);
  server.prependListener('connection', accept);
  return (socket, firstBytes) => {
    // Paused by the caller: nothing flows until Node's listeners are on.
    if (firstBytes !== undefined) socket.unshift(firstBytes);
    parse.call(server, socket);
    socket.resume();
  };
}

/** What the check needs; a test passes other internals to play a Node that changed them. */
export interface CheckOptions {
  readonly internals?: NodeInternals;
  /** How long the loopback exchange may take before every capability is turned off. */
  readonly timeoutMs?: number;
}

let processCheck: Promise<NodeHttp1> | undefined;

/**
 * The adapter for this process: the fast path, where a real loopback exchange shows Node's
 * internals behave as Herald expects. Run once per process (Node's internals are the process's);
 * with `options`, run afresh.
 */
export function checkNodeHttp1(options?: CheckOptions): Promise<NodeHttp1> {
  if (options !== undefined) return check(options);
  processCheck ??= check({});
  return processCheck;
}

const PROBE_FRAME = Buffer.from('data: probe\n\n');
const FIRST_WRITE = Buffer.from(':\n\n');

/** What the exchange observed of the internals. */
interface Findings {
  idleBeforeRequest: boolean;
  servingDuringResponse: boolean;
  idleAfterResponse: boolean;
  servingNextResponse: boolean;
  handedOver: boolean;
  chunked: boolean;
  headStored: boolean;
  /** The body the client must receive, given what the server side could write. */
  expectedBody: string;
}

async function check({ internals = NODE_INTERNALS, timeoutMs = 10_000 }: CheckOptions) {
  // The candidate under test: the same code the streams run, with every capability on.
  const candidate = new NodeHttp1(ALL, [], internals);
  const findings: Findings = {
    idleBeforeRequest: false,
    servingDuringResponse: false,
    idleAfterResponse: false,
    servingNextResponse: false,
    handedOver: false,
    chunked: false,
    headStored: false,
    expectedBody: '',
  };
  const server = createServer();
  server.on('connection', (socket: Socket) => {
    findings.idleBeforeRequest = isNone(internals.responseOf(socket));
  });
  server.on('request', (req, res: ServerResponse) => {
    if (req.url !== '/stream') {
      findings.servingNextResponse = internals.responseOf(res.socket as Socket) === res;
      res.end('ok');
      return;
    }
    // As an event stream opens: the head and a first write, then the socket taken over.
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    res.write(FIRST_WRITE);
    const socket = res.socket as Socket;
    findings.servingDuringResponse = internals.responseOf(socket) === res;
    let body = chunkText(FIRST_WRITE);
    void candidate.afterHead(res, () => {
      findings.headStored =
        internals.headSent(res) === true && typeof internals.storedHead(res) === 'string';
      const direct = candidate.takeSocket(res);
      findings.handedOver = direct === socket;
      findings.chunked = candidate.isChunked(res);
      if (direct !== undefined && findings.chunked) {
        candidate.writeFrame(direct, true, PROBE_FRAME);
        body += chunkText(PROBE_FRAME);
        candidate.writeFrames(direct, true, [PROBE_FRAME, FIRST_WRITE], PROBE_FRAME.byteLength + 3);
        body += chunkText(Buffer.concat([PROBE_FRAME, FIRST_WRITE]));
      }
      findings.expectedBody = `${body}0\r\n\r\n`;
      res.once('finish', () => {
        findings.idleAfterResponse = isNone(internals.responseOf(socket));
      });
      res.end();
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const problem = await exchange((server.address() as AddressInfo).port, findings, timeoutMs);
    if (problem !== undefined) return NodeHttp1.plain(problem);
  } catch (error) {
    return NodeHttp1.plain(`the loopback check failed: ${(error as Error).message}`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
  const fallbacks: string[] = [];
  const directWrites = findings.handedOver && findings.chunked;
  if (!directWrites) {
    fallbacks.push(
      findings.handedOver
        ? 'Node does not report chunked framing (chunkedEncoding): frames go through res.write'
        : 'the head was not in the socket after the hand-over: frames go through res.write',
    );
  }
  if (!findings.headStored) {
    fallbacks.push(
      'Node does not keep a sent head as _header/_headerSent: the head stays as Node keeps it',
    );
  }
  const socketResponse =
    findings.idleBeforeRequest &&
    findings.servingDuringResponse &&
    findings.idleAfterResponse &&
    findings.servingNextResponse;
  if (!socketResponse) {
    fallbacks.push(
      "a connection's response cannot be read from the socket (_httpMessage): parser refusals are not answered, and shutdown leaves unused connections to Node's timeouts",
    );
  }
  let connectionHandOver = true;
  try {
    const problem = await probeHandOver(internals, timeoutMs);
    if (problem !== undefined) {
      connectionHandOver = false;
      fallbacks.push(`${problem}: every connection goes to node:http from its first byte`);
    }
  } catch (error) {
    connectionHandOver = false;
    fallbacks.push(
      `the hand-over check failed (${(error as Error).message}): every connection goes to node:http`,
    );
  }
  return new NodeHttp1(
    { directWrites, headRelease: findings.headStored, socketResponse, connectionHandOver },
    fallbacks,
    internals,
  );
}

/**
 * A connection handed to Node after its first bytes were read must be parsed as if they had
 * never been: a head split over two packets, a body after it in pieces, then a second request
 * on the same connection. Resolves with what went wrong, or undefined.
 */
async function probeHandOver(
  internals: NodeInternals,
  timeoutMs: number,
): Promise<string | undefined> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (piece: string) => (body += piece));
    req.on('end', () => res.end(`${req.method} ${req.url} ${body}`));
  });
  const handOver = takeConnections(
    server,
    (socket) => {
      socket.once('data', (chunk: Buffer) => {
        socket.pause();
        handOver?.(socket, chunk);
      });
    },
    internals,
  );
  if (handOver === undefined) {
    return "Node's HTTP/1.1 server has not the one 'connection' listener expected";
  }
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const port = (server.address() as AddressInfo).port;
    return await new Promise<string | undefined>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      const pieces = [
        'POST /first HTTP/1.1\r\nHost: probe\r\nContent-Le',
        'ngth: 5\r\n\r\nhel',
        'lo',
        'GET /second HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n',
      ];
      let received = '';
      const finish = (problem: string | undefined) => {
        clearTimeout(timer);
        clearInterval(sender);
        socket.destroy();
        resolve(problem);
      };
      const timer = setTimeout(() => {
        finish(`the hand-over check had no answer within ${timeoutMs} ms`);
      }, timeoutMs);
      // Each piece in its own packet, so that Node's parser sees the first bytes put back and
      // the rest as they arrive.
      const sender = setInterval(() => {
        const piece = pieces.shift();
        if (piece === undefined) clearInterval(sender);
        else socket.write(piece);
      }, 10);
      socket.setEncoding('latin1');
      socket.on('data', (data: string) => (received += data));
      socket.on('error', (error) => {
        finish(`the hand-over check failed: ${error.message}`);
      });
      socket.on('end', () => {
        const bodies = received.split('\r\n\r\n').slice(1);
        const first = bodies[0]?.split('HTTP/1.1')[0];
        finish(
          first === 'POST /first hello' && bodies[1] === 'GET /second '
            ? undefined
            : `a connection handed to Node was not parsed as sent: ${JSON.stringify(received)}`,
        );
      });
    });
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

function isNone(value: unknown): boolean {
  return value === undefined || value === null;
}

function chunkText(bytes: Buffer): string {
  return `${bytes.byteLength.toString(16)}\r\n${bytes.toString('latin1')}\r\n`;
}

/**
 * The client side: one event stream, then a second request on the same connection, which must
 * be answered (the stream's end left the connection reusable). Resolves with what went wrong,
 * or undefined.
 */
function exchange(
  port: number,
  findings: Findings,
  timeoutMs: number,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let second = false;
    const finish = (problem: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    };
    const timer = setTimeout(() => {
      finish(`the loopback check had no answer within ${timeoutMs} ms`);
    }, timeoutMs);
    socket.on('error', (error) => {
      finish(`the loopback check failed: ${error.message}`);
    });
    socket.on('data', (data: Buffer) => {
      received += data.toString('latin1');
      if (!second) {
        const headEnd = received.indexOf('\r\n\r\n');
        if (headEnd < 0 || !received.endsWith('0\r\n\r\n')) return;
        const body = received.slice(headEnd + 4);
        if (!received.startsWith('HTTP/1.1 200') || body !== findings.expectedBody) {
          if (body.length < findings.expectedBody.length) return;
          finish(`the stream's bytes were not as written: ${JSON.stringify(body)}`);
          return;
        }
        second = true;
        received = '';
        socket.write('GET /after HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n');
        return;
      }
      if (received.startsWith('HTTP/1.1 200') && received.endsWith('\r\n\r\nok')) finish(undefined);
    });
    socket.on('end', () => {
      finish(
        second
          ? `the next response was not as sent: ${JSON.stringify(received)}`
          : 'the stream ended early',
      );
    });
    socket.write('GET /stream HTTP/1.1\r\nHost: probe\r\n\r\n');
  });
}
