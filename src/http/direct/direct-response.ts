import { EventEmitter } from 'node:events';
import { STATUS_CODES, validateHeaderName, validateHeaderValue } from 'node:http';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { HubResponse } from '../http-message.ts';
import { httpDate } from './http-date.ts';

const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
const CRLF = '\r\n';

/** Where a socket keeps its response, for the close listener every direct socket shares. */
const RESPONSE = Symbol('herald.directResponse');

interface DirectSocket extends Socket {
  [RESPONSE]?: DirectResponse | undefined;
}

/**
 * The response to a DirectRequest, written straight to its socket: an event stream (chunked)
 * or, when the request is refused, a problem document with its length. Each connection carries
 * one response: its head says `Connection: close`, and the socket closes once it ends, so no
 * request is ever read after it (a connection's later requests would need Node's parser).
 *
 * It has what the routes use of Node's ServerResponse (HubResponse) and no more: head and body
 * writes, `close` (emitted once: when the end is written, or when the socket closes first,
 * however it ended) and the socket itself, to which SseConnection writes its frames once the
 * head is sent.
 */
export class DirectResponse extends EventEmitter implements HubResponse {
  statusCode = 200;
  readonly socket: Socket;
  /** Headers set before the head (setHeader), by lower-cased name: [name as set, value]. */
  #pending: Map<string, [string, number | string | readonly string[]]> | undefined;
  /** The head, built by writeHead and not yet written: it leaves with the first body bytes. */
  #head: string | undefined;
  #headersSent = false;
  /** Whether the body goes as chunks (no Content-Length was given). */
  #chunked = false;
  #ended = false;

  constructor(socket: Socket) {
    super();
    this.socket = socket;
    (socket as DirectSocket)[RESPONSE] = this;
    socket.once('close', emitClose);
  }

  get headersSent(): boolean {
    return this.#headersSent;
  }

  /** Whether the body is framed as chunks (true for an event stream). */
  get chunked(): boolean {
    return this.#chunked;
  }

  get writableLength(): number {
    return this.socket.writableLength + (this.#head?.length ?? 0);
  }

  setHeader(name: string, value: number | string | readonly string[]): this {
    if (this.#headersSent) throw headersAlreadySent();
    (this.#pending ??= new Map()).set(name.toLowerCase(), [name, value]);
    return this;
  }

  removeHeader(name: string): void {
    if (this.#headersSent) throw headersAlreadySent();
    this.#pending?.delete(name.toLowerCase());
  }

  writeHead(statusCode: number, headers: OutgoingHttpHeaders = {}): this {
    if (this.#headersSent) throw headersAlreadySent();
    // Headers set before (rare here: a stream passes all of them to writeHead) give way to
    // those given now, whatever their case.
    const fields = this.#pending === undefined ? headers : this.#merged(headers);
    this.#pending = undefined;
    // Validated before anything is kept: a bad value throws, as Node's writeHead does, and the
    // route's error handler can still answer.
    let head = `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? 'Unknown'}${CRLF}`;
    let chunked = true;
    let dated = false;
    for (const name of Object.keys(fields)) {
      const value = fields[name];
      if (value === undefined) continue;
      const lower = name.toLowerCase();
      // The connection and the framing are this response's to say (below).
      if (lower === 'connection' || lower === 'transfer-encoding') continue;
      if (lower === 'content-length') chunked = false;
      else if (lower === 'date') dated = true;
      head += fieldLines(name, value);
    }
    if (!dated) head += `Date: ${httpDate()}${CRLF}`;
    head += `Connection: close${CRLF}`;
    if (chunked) head += `Transfer-Encoding: chunked${CRLF}`;
    this.#chunked = chunked;
    this.statusCode = statusCode;
    this.#head = head + CRLF;
    this.#headersSent = true;
    return this;
  }

  #merged(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
    const given = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
    const merged: OutgoingHttpHeaders = {};
    for (const [lower, [name, value]] of this.#pending ?? []) {
      if (!given.has(lower)) merged[name] = typeof value === 'object' ? [...value] : value;
    }
    return Object.assign(merged, headers);
  }

  /** Writes body bytes (one chunk when chunked), with the head if it has not left yet. */
  write(chunk: string | Uint8Array): boolean {
    if (this.#ended || this.socket.destroyed) return false;
    if (!this.#headersSent) this.writeHead(this.statusCode);
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (bytes.byteLength === 0) return this.#flushHead();
    const framed = this.#chunked ? `${bytes.byteLength.toString(16)}${CRLF}` : '';
    const head = this.#head ?? '';
    this.#head = undefined;
    const prefix = head + framed;
    const out = Buffer.allocUnsafe(prefix.length + bytes.byteLength + (this.#chunked ? 2 : 0));
    out.write(prefix, 0, 'latin1');
    out.set(bytes, prefix.length);
    if (this.#chunked) out.write(CRLF, prefix.length + bytes.byteLength, 'latin1');
    return this.socket.write(out);
  }

  /** Ends the body (the last chunk when chunked), then closes the connection once it is sent. */
  end(chunk?: string | Uint8Array): this {
    if (this.#ended) return this;
    if (chunk !== undefined) this.write(chunk);
    if (!this.#headersSent) this.writeHead(this.statusCode);
    this.#flushHead();
    this.#ended = true;
    if (this.#chunked && !this.socket.destroyed) this.socket.write(LAST_CHUNK);
    // Closed once written, as Node's response closes once it has finished: a shutdown that
    // waits for the server to close finds every stream's subscription already ended.
    this.socket.once('finish', emitClose);
    this.socket.destroySoon();
    return this;
  }

  destroy(): this {
    this.socket.destroy();
    return this;
  }

  #flushHead(): boolean {
    const head = this.#head;
    if (head === undefined || this.socket.destroyed) return true;
    this.#head = undefined;
    return this.socket.write(head, 'latin1');
  }
}

/** Whether a direct response is open on this socket (its end not yet written). */
export function holdsDirectResponse(socket: Socket): boolean {
  return (socket as DirectSocket)[RESPONSE] !== undefined;
}

function emitClose(this: DirectSocket): void {
  const response = this[RESPONSE];
  this[RESPONSE] = undefined;
  response?.emit('close');
}

/** A field's lines, checked as Node's writeHead checks them (a TypeError for a bad name or value). */
function fieldLines(name: string, value: number | string | readonly string[]): string {
  validateHeaderName(name);
  const values = typeof value === 'object' ? value : [String(value)];
  let lines = '';
  for (const one of values) {
    validateHeaderValue(name, one);
    lines += `${name}: ${one}${CRLF}`;
  }
  return lines;
}

function headersAlreadySent(): Error {
  return new Error('Cannot set headers after they are sent to the client');
}
