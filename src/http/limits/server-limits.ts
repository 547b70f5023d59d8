import type { HeraldConfig } from '../../config.ts';

/** The options of Node's HTTP server that bound what one client may make it hold. */
export interface ServerLimits {
  readonly maxHeaderSize: number;
  readonly headersTimeout: number;
  readonly requestTimeout: number;
  readonly connectionsCheckingInterval: number;
  /** Idle HTTP/1.1 keep-alive connections are closed after this. */
  readonly keepAliveTimeout: number;
}

// Node checks the two timeouts on a timer, 30 s apart by default: a 10 s headers timeout would
// then cut a slow client after up to 40 s. Checking at a quarter of the shortest timeout keeps
// the overshoot small; the check walks only connections with a request still arriving (not
// open event streams), so it stays cheap with many subscribers.
const MIN_CHECK_INTERVAL_MS = 100;
const MAX_CHECK_INTERVAL_MS = 30_000;

/**
 * Server options from the configuration: headers past `maxHeaderBytes` get 431; a client that
 * has not sent its headers within `headersTimeoutMs`, or its whole request (body included)
 * within `requestTimeoutMs`, gets 408 and its connection is closed (slowloris). An event
 * stream's request is complete once its headers are in, so these never cut a stream.
 */
export function serverLimits(config: HeraldConfig): ServerLimits {
  // checkConfig (src/options/check-config.ts) has made sure that the headers timeout does not
  // exceed the request timeout.
  const requestTimeout = config.requestTimeoutMs ?? 0;
  const shortest = requestTimeout === 0 ? config.headersTimeoutMs : requestTimeout;
  return {
    maxHeaderSize: config.maxHeaderBytes,
    headersTimeout: config.headersTimeoutMs,
    requestTimeout,
    connectionsCheckingInterval: Math.min(
      MAX_CHECK_INTERVAL_MS,
      Math.max(MIN_CHECK_INTERVAL_MS, Math.floor(Math.min(shortest, config.headersTimeoutMs) / 4)),
    ),
    keepAliveTimeout: 10_000,
  };
}
