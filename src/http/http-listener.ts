import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createSecureServer } from 'node:http2';
import type { Http2SecureServer, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { HubRequest, HubResponse } from './http-message.ts';
import type { NodeHttp1 } from './node-http1.ts';
import { StreamDoor } from './direct/stream-door.ts';
import { holdsDirectResponse } from './direct/direct-response.ts';
import type { ServerLimits } from './limits/server-limits.ts';
import type { TlsCredentials } from './tls-credentials.ts';

/**
 * How many streams one HTTP/2 connection may hold at once. Every EventSource is a stream, and
 * a browser puts all its tabs on one origin on one connection: the common default of 100 would
 * cap a user with many tabs open.
 */
export const HTTP2_MAX_CONCURRENT_STREAMS = 1000;

/**
 * Receive windows: how much a client may send before Herald acknowledges it. Per stream, a
 * whole default-sized publish body goes out in one round trip; per connection, several at once,
 * so one upload never holds the others back.
 */
const HTTP2_STREAM_WINDOW_BYTES = 1024 * 1024;
const HTTP2_SESSION_WINDOW_BYTES = 16 * 1024 * 1024;

/**
 * An HTTP/2 connection with no stream open is closed (GOAWAY) after this, so idle connections
 * cannot pile up. Longer than HTTP/1.1's keep-alive: reopening costs a TLS handshake, and a
 * browser parks every tab's requests on the one connection.
 */
export const HTTP2_IDLE_TIMEOUT_MS = 60_000;

export type RequestListener = (req: HubRequest, res: HubResponse) => void;

/** The abuse limits of the server itself (limits/server-limits.ts), and who answers them. */
export interface ListenerLimits {
  readonly limits: ServerLimits;
  /** Node's `clientError`: a request over a limit, too slow, or not HTTP (HTTP/1.1). */
  readonly onClientError: (error: Error & { code?: string }, socket: Duplex) => void;
  /** What Node's HTTP/1.1 internals tell of a connection (node-http1.ts). */
  readonly http1: NodeHttp1;
  /**
   * The path whose plain GETs the stream door serves without node:http (plain HTTP/1.1);
   * undefined: no stream door, every request through node:http.
   */
  readonly hubPath: string | undefined;
}

/** The HTTP server: plain HTTP/1.1, or HTTPS with HTTP/2 and HTTP/1.1 negotiated by ALPN. */
export interface HttpListener {
  readonly scheme: 'http' | 'https';
  /** Starts listening; resolves with the port. */
  listen(port: number, host: string): Promise<number>;
  /** Stops accepting connections; resolves once every connection has closed. */
  close(): Promise<void>;
  /**
   * Closes connections with no request in flight. HTTP/2 connections are sent a GOAWAY: the
   * client opens no new stream on them, and they close once their streams have ended.
   */
  closeIdle(): void;
  /** Cuts every connection still open, in flight or not. */
  closeAll(): void;
}

export function createHttpListener(
  handler: RequestListener,
  tls: TlsCredentials | null,
  limits: ListenerLimits,
  http2IdleTimeoutMs = HTTP2_IDLE_TIMEOUT_MS,
): HttpListener {
  return tls === null
    ? plainListener(handler, limits)
    : secureListener(handler, tls, limits, http2IdleTimeoutMs);
}

function plainListener(
  handler: RequestListener,
  { limits, onClientError, http1, hubPath }: ListenerLimits,
): HttpListener {
  const server = createServer(limits, handler);
  server.on('clientError', onClientError);
  const door = openStreamDoor(server, handler, limits, http1, hubPath);
  const sockets = trackSockets(server);
  return {
    scheme: 'http',
    listen: (port, host) => listen(server, port, host),
    close: () => {
      door?.stop();
      return close(server);
    },
    closeIdle() {
      server.closeIdleConnections();
      door?.closeWaiting();
      closeUnstarted(sockets, http1);
    },
    closeAll() {
      // Every connection, Node's and the stream door's (Node's closeAllConnections knows only
      // its own).
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * Puts the stream door (direct/stream-door.ts) before Node's parser, where this Node allows it:
 * plain GETs of the hub path are then served without node:http. A connection that sends
 * nothing is handed to Node within two checks of its timeouts (a second at most), so Node's
 * header timeout applies to it as to any other.
 */
function openStreamDoor(
  server: Server,
  handler: RequestListener,
  limits: ServerLimits,
  http1: NodeHttp1,
  hubPath: string | undefined,
): StreamDoor | undefined {
  if (hubPath === undefined) return undefined;
  const door = new StreamDoor({
    hubPath,
    maxHeaderBytes: limits.maxHeaderSize,
    serve: handler,
    handOver: (socket, firstBytes) => {
      toNode?.(socket, firstBytes);
    },
    quietMs: Math.min(1000, limits.connectionsCheckingInterval),
  });
  const toNode = http1.takeConnections(server, (socket) => {
    door.accept(socket);
  });
  return toNode === undefined ? undefined : door;
}

/** What Node's HTTP/2 server does for its HTTP/1.1 connections that its types leave out. */
interface Http1Fallback {
  keepAliveTimeout: number;
  headersTimeout: number;
  requestTimeout: number;
  connectionsCheckingInterval: number;
  maxHeaderSize: number;
  closeIdleConnections(): void;
}

function secureListener(
  handler: RequestListener,
  tls: TlsCredentials,
  { limits, onClientError, http1 }: ListenerLimits,
  idleTimeoutMs: number,
): HttpListener {
  const server = createSecureServer(
    {
      cert: tls.cert,
      key: tls.key,
      // ALPN offers h2 first; clients without HTTP/2 (or without ALPN) get HTTP/1.1.
      allowHTTP1: true,
      settings: {
        maxConcurrentStreams: HTTP2_MAX_CONCURRENT_STREAMS,
        initialWindowSize: HTTP2_STREAM_WINDOW_BYTES,
        // --max-header-size, advertised to HTTP/2 clients; Node does not enforce it, so the
        // request handler does (header-list-size.ts).
        maxHeaderListSize: limits.maxHeaderSize,
      },
    },
    handler,
  ) as Http2SecureServer & Http1Fallback;
  // Unset, Node's HTTP/1.1 side of an HTTP/2 server keeps idle connections forever, and has
  // its own header and request timeouts: the same limits as plain HTTP/1.1.
  server.keepAliveTimeout = limits.keepAliveTimeout;
  server.headersTimeout = limits.headersTimeout;
  server.requestTimeout = limits.requestTimeout;
  // Read when the server starts listening.
  server.connectionsCheckingInterval = limits.connectionsCheckingInterval;
  server.maxHeaderSize = limits.maxHeaderSize;
  server.on('clientError', onClientError);

  // Tracked for shutdown: sessions to send GOAWAY to, sockets (of either protocol) to cut.
  const sessions = new Set<ServerHttp2Session>();
  const sockets = trackSockets(server);
  // The TLS sockets that speak HTTP/1.1 (ALPN), where a connection can sit unused.
  const http1Sockets = new Set<Socket>();
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.alpnProtocol === 'h2') return;
    http1Sockets.add(socket);
    socket.once('close', forgetFrom(http1Sockets));
  });
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    session.setLocalWindowSize(HTTP2_SESSION_WINDOW_BYTES);
    closeWhenIdle(session, idleTimeoutMs);
  });

  return {
    scheme: 'https',
    listen: (port, host) => listen(server, port, host),
    close: () => close(server),
    closeIdle() {
      server.closeIdleConnections();
      closeUnstarted(http1Sockets, http1);
      for (const session of sessions) session.close();
    },
    closeAll() {
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * Closes a session once it has had no open stream for `timeoutMs`. Not Node's session timeout:
 * that counts frames, and an event stream may be quiet for long (heartbeats can be off).
 */
function closeWhenIdle(session: ServerHttp2Session, timeoutMs: number): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    timer = setTimeout(() => {
      session.close();
    }, timeoutMs);
    timer.unref();
  };
  session.on('stream', (stream: ServerHttp2Stream) => {
    open++;
    clearTimeout(timer);
    stream.once('close', () => {
      open--;
      if (open === 0 && !session.closed) arm();
    });
  });
  session.once('close', () => {
    clearTimeout(timer);
  });
  arm();
}

/**
 * Every connection the server accepts, until it closes; one shared listener per set, not a
 * closure per connection.
 */
function trackSockets(server: Server | Http2SecureServer): Set<Socket> {
  const sockets = new Set<Socket>();
  const forget = forgetFrom(sockets);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', forget);
  });
  return sockets;
}

function forgetFrom(sockets: Set<Socket>): (this: Socket) => void {
  return function (this: Socket) {
    sockets.delete(this);
  };
}

/**
 * Closes the HTTP/1.1 connections that hold no response: those Node's `closeIdleConnections`
 * leaves open because no request has started on them yet. A client's connection pool (undici
 * opens a spare one when a stream is aborted, nginx keeps upstream connections) holds such
 * sockets, and Node counts them as busy until the header timeout: shutdown would wait for them
 * until its own timeout cut everything. A request whose head is still arriving is cut too; it
 * was not accepted, and the client may send it again elsewhere. (Where this Node does not tell
 * which connections hold a response, they are left to Node's own timeouts.)
 */
function closeUnstarted(sockets: Iterable<Socket>, http1: NodeHttp1): void {
  for (const socket of sockets) {
    // A response being ended still counts until its last byte is written. A stream the stream
    // door serves is not Node's, which would see no response on its socket.
    if (http1.holdsNoResponse(socket) && !holdsDirectResponse(socket)) socket.destroy();
  }
}

async function listen(server: Server | Http2SecureServer, port: number, host: string) {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // An explicit backlog: Node's default of 511 overflows when thousands reconnect at once.
    server.listen({ port, host, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function close(server: Server | Http2SecureServer): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
}
