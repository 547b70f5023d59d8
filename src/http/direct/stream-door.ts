import type { Socket } from 'node:net';
import type { HandOver } from '../node-http1.ts';
import { DirectRequest } from './direct-request.ts';
import { DirectResponse } from './direct-response.ts';
import { parseRequestHead } from './request-head.ts';

/*
 * Subscribing is what a hub does most, and most of what it holds is idle event streams. Through
 * node:http each costs a parser, an IncomingMessage and a ServerResponse for its whole life, and
 * about twice the CPU to open (BENCHMARKS.md, "Connection cost"). The stream door sees each new
 * HTTP/1.1 connection's first bytes before Node's parser does: a plain `GET` of the hub path
 * whose whole head is in them (request-head.ts) is served right there, on the socket
 * (DirectRequest, DirectResponse); every other connection is handed to Node's HTTP/1.1 server
 * with its bytes put back, and Node parses it as if it had been first. Nothing is read two ways:
 * what the door does not fully understand, it does not touch.
 */

export interface StreamDoorOptions {
  /** The raw path served directly (`/.well-known/mercure`). */
  readonly hubPath: string;
  /** A longer head goes to Node, which refuses it as it refuses any other (431). */
  readonly maxHeaderBytes: number;
  /** The request handler, as Node's server calls it. */
  readonly serve: (req: DirectRequest, res: DirectResponse) => void;
  readonly handOver: HandOver;
  /**
   * A connection that has sent nothing for this long (one to two times it) goes to Node, whose
   * header timeout then applies: the door itself keeps no timer per connection.
   */
  readonly quietMs?: number;
}

const DEFAULT_QUIET_MS = 1000;

/** Where a waiting socket keeps its door, for the listeners every socket shares. */
const DOOR = Symbol('herald.streamDoor');

interface WaitingSocket extends Socket {
  [DOOR]?: StreamDoor | undefined;
}

export class StreamDoor {
  readonly #options: StreamDoorOptions;
  readonly #quietMs: number;
  /** Connections that have sent nothing yet, in two generations swept in turn. */
  #waiting = new Set<Socket>();
  #older = new Set<Socket>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(options: StreamDoorOptions) {
    this.#options = options;
    this.#quietMs = options.quietMs ?? DEFAULT_QUIET_MS;
  }

  /** A new connection: it waits for its first bytes. */
  accept(socket: Socket): void {
    (socket as WaitingSocket)[DOOR] = this;
    socket.once('data', onFirstBytes);
    socket.once('close', forgetWaiting);
    // A reset before the first bytes is no one's error: the socket just closes.
    socket.on('error', ignore);
    this.#waiting.add(socket);
    this.#sweeper ??= setInterval(() => {
      this.#sweep();
    }, this.#quietMs).unref();
  }

  /** Closes the connections that have sent nothing (shutdown: none of them holds a request). */
  closeWaiting(): void {
    for (const socket of [...this.#older, ...this.#waiting]) socket.destroy();
  }

  /** Stops the sweep; connections still waiting go to Node. */
  stop(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    for (const socket of [...this.#older, ...this.#waiting]) this.#handOver(socket, undefined);
  }

  firstBytes(socket: Socket, chunk: Buffer): void {
    this.forget(socket);
    const head = parseRequestHead(chunk, this.#options.maxHeaderBytes);
    if (head === undefined || pathOf(head.target) !== this.#options.hubPath) {
      this.#handOver(socket, chunk);
      return;
    }
    // The request is whole: later bytes (a request pipelined behind an endless stream) are
    // read and dropped, which also lets a client's FIN or reset end the stream at once. On in
    // the same turn as the first bytes' event, so the socket never flows with no listener.
    socket.on('data', ignore);
    socket.on('end', endStream);
    this.#options.serve(new DirectRequest(head, socket), new DirectResponse(socket));
  }

  #handOver(socket: Socket, chunk: Buffer | undefined): void {
    // Paused before anything else: a flowing socket with no 'data' listener would drop bytes.
    socket.pause();
    this.forget(socket);
    socket.off('data', onFirstBytes);
    // Node's server puts its own error listener on (and answers parse errors through it).
    socket.off('error', ignore);
    if (socket.destroyed) return;
    this.#options.handOver(socket, chunk);
  }

  /** The socket no longer waits: it sent its first bytes, closed, or went to Node. */
  forget(socket: Socket): void {
    (socket as WaitingSocket)[DOOR] = undefined;
    socket.off('close', forgetWaiting);
    this.#waiting.delete(socket);
    this.#older.delete(socket);
  }

  /** Hands the connections quiet since the sweep before to Node. */
  #sweep(): void {
    const quiet = this.#older;
    this.#older = this.#waiting;
    this.#waiting = new Set();
    for (const socket of quiet) this.#handOver(socket, undefined);
    if (this.#older.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }
}

function onFirstBytes(this: WaitingSocket, chunk: Buffer): void {
  this[DOOR]?.firstBytes(this, chunk);
}

function forgetWaiting(this: WaitingSocket): void {
  this[DOOR]?.forget(this);
}

function ignore(): void {}

/** The client closed its side: as Node's server does, the response ends with it. */
function endStream(this: Socket): void {
  this.destroy();
}

function pathOf(target: string): string {
  const query = target.indexOf('?');
  return query < 0 ? target : target.slice(0, query);
}
