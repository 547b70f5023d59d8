import { pino } from 'pino';
import type { Logger } from 'pino';
import { createTokenVerifier } from './auth/token-verifier.ts';
import { verificationOptions } from './auth/verification-options.ts';
import { openBackend } from './backends/open-backend.ts';
import type { HeraldConfig, HeraldOptions } from './config.ts';
import { resolveConfig } from './config.ts';
import type { Backend } from './core/backend.ts';
import { Hub } from './core/hub.ts';
import { PresenceService } from './core/presence-service.ts';
import { RateLimiter } from './core/rate-limiter.ts';
import { SharedLimits } from './core/shared-limits.ts';
import { SharedRateLimiter } from './core/shared-rate-limiter.ts';
import { SharedStreamsPerClient } from './core/shared-streams-per-client.ts';
import { ConnectionRegistry } from './http/streams/connection-registry.ts';
import { trustedProxySet } from './http/request/client-address.ts';
import { ClientBundle } from './http/ui/client-bundle.ts';
import { clientErrorHandler } from './http/client-error.ts';
import { DashboardFeed } from './http/ui/dashboard-feed.ts';
import { createHttpListener } from './http/http-listener.ts';
import { checkNodeHttp1 } from './http/node-http1.ts';
import type { NodeHttp1 } from './http/node-http1.ts';
import type { RequestListener } from './http/http-listener.ts';
import { LatencyWindow } from './http/ui/latency-window.ts';
import { HeraldMetrics } from './http/metrics.ts';
import { createRequestHandler, HUB_PATH } from './http/request-handler.ts';
import { serverLimits } from './http/limits/server-limits.ts';
import { StreamsPerClient } from './http/limits/streams-per-client.ts';
import { loadTlsCredentials } from './http/tls-credentials.ts';
import { WebUi } from './http/ui/web-ui.ts';

export interface RunningHerald {
  readonly config: HeraldConfig;
  /**
   * The hub endpoint, e.g. `http://127.0.0.1:3000/.well-known/mercure`; `https://` when the hub
   * serves TLS (`config.tls`).
   */
  readonly hubUrl: string;
  readonly port: number;
  readonly hub: Hub;
  /** With `subscriptions`: the active subscriptions of every node and their events. */
  readonly presence: PresenceService | undefined;
  /** This hub's metrics, as `/metrics` would serve them alone. */
  readonly metrics: HeraldMetrics;
  /**
   * Graceful shutdown: stop accepting, end every open stream (clients reconnect elsewhere or
   * later), let in-flight publishes finish, then close the backend.
   */
  close(): Promise<void>;
}

/** What a hub runs with besides its configuration. */
export interface HeraldRuntime {
  /** Where structured logs go; by default JSON lines on stdout at level `info`. */
  readonly logger?: Logger;
  /**
   * What `/metrics` serves instead of this hub's own figures: set when the hub is one of several
   * workers sharing a port (`herald serve --workers`), so that a scrape, whichever worker it
   * reaches, covers them all.
   */
  readonly metricsExposition?: () => Promise<string>;
  /**
   * How event streams reach HTTP/1.1 sockets: by default, what `checkNodeHttp1()` found this
   * Node allows (checked once per process). `NodeHttp1.plain(reason)` keeps every stream on
   * Node's documented API (`res.write`).
   */
  readonly http1?: NodeHttp1;
  /**
   * The monotonic clock, in milliseconds, that this process's rate limiters (publish rate,
   * subscription events) refill by; `performance.now` unless given. Tests move one by hand
   * rather than sleep until a bucket refills.
   */
  readonly clock?: () => number;
}

/** Builds a hub from its configuration and starts serving it. */
export async function startHerald(
  options: HeraldOptions,
  runtime: HeraldRuntime = {},
): Promise<RunningHerald> {
  // Every option is checked against its bounds first, as `herald serve` checks its flags.
  const config = resolveConfig(options);
  // Keys and certificate are loaded and checked first: a bad one stops start-up before anything
  // is opened.
  const verifier = createTokenVerifier(verificationOptions(config));
  const tls = config.tls === null ? null : loadTlsCredentials(config.tls);
  const limits = serverLimits(config);
  const trustedProxies = trustedProxySet(config.trustedProxies);
  const presenceRate =
    !config.subscriptions || config.presenceRate === null
      ? undefined
      : new RateLimiter(
          { perSecond: config.presenceRate, burst: config.presenceBurst },
          runtime.clock,
        );
  const logger = runtime.logger ?? pino({ level: 'info' });
  const metrics = new HeraldMetrics();
  const http1 = runtime.http1 ?? (await checkNodeHttp1());
  if (http1.fallbacks.length > 0) {
    logger.warn(
      { fallbacks: http1.fallbacks, node: process.version },
      "Node's HTTP/1.1 internals are not all as Herald expects: those parts stay on Node's documented API",
    );
  }

  // The port is taken before anything is opened or created (the SQLite file and its folder):
  // a hub that cannot listen leaves nothing behind. Requests that arrive before the routes are
  // ready wait for them; if start-up fails, their connections are cut.
  const early = new EarlyRequests();
  const listener = createHttpListener(early.listener, tls, {
    limits,
    onClientError: clientErrorHandler((code) => {
      metrics.countError(code);
    }, http1),
    http1,
    hubPath: config.nodeHttpOnly ? undefined : HUB_PATH,
  });
  const port = await listener.listen(config.port, config.host);
  const releasePort = async (): Promise<void> => {
    listener.closeAll();
    await listener.close();
  };

  let backend: Backend;
  try {
    backend = await openBackend(config);
  } catch (error) {
    await releasePort();
    throw error;
  }
  // The dashboard's fan-out percentiles, per second: kept only when the UI is on.
  const fanout = config.ui ? new LatencyWindow() : undefined;
  const presence = config.subscriptions
    ? new PresenceService(backend, {
        onError: (error) => {
          logger.error({ err: error }, 'subscription event not stored');
        },
        leaseMs: config.presenceLeaseMs,
        onLeaseError: (error) => {
          logger.error({ err: error }, 'presence lease not renewed');
        },
        onNodeSettled: (node, subscribers) => {
          logger.warn(
            { node, subscribers },
            'ended the subscriptions of a node whose presence lease expired',
          );
        },
        onLeaseLapsed: (subscribers) => {
          logger.warn(
            { subscribers },
            "this node's presence lease had expired: announcing its subscriptions again",
          );
        },
      })
    : undefined;
  const hub = new Hub(backend, {
    observeFanout:
      fanout === undefined
        ? metrics.observeFanout
        : (seconds) => {
            metrics.observeFanout(seconds);
            fanout.observe(seconds);
          },
    topicActivity: config.ui,
    maxTopicsPerUpdate: config.maxTopicsPerUpdate,
    maxUpdatesPerPublish: config.maxUpdatesPerPublish,
    maxSelectorsPerSubscription: config.maxSelectorsPerSubscription,
    maxPendingBytes: config.maxUnsentBytes,
    maxConcurrentReplays: config.maxConcurrentReplays,
    observer: presence,
  });
  if (presence !== undefined) {
    try {
      // The subscriptions announced before this node started, from history; on a store this
      // process has alone, what is still listed was left open by an earlier run that crashed.
      const ended = await presence.start();
      if (ended > 0) logger.warn({ ended }, 'ended subscriptions left open by an earlier run');
    } catch (error) {
      hub.close();
      await presence.close();
      await backend.close();
      await releasePort();
      throw error;
    }
  }
  const connections = new ConnectionRegistry(config.heartbeatMs, config.maxUnsentBytesTotal);
  metrics.watch(hub, connections, backend);
  // On a store shared by several processes (Redis), the stream limit and the publish rate are
  // the cluster's; otherwise this process is the only one and counts alone.
  const sharedLimits =
    backend.openSharedLimits !== undefined &&
    (config.maxStreamsPerClient !== null || config.publishRate !== null)
      ? new SharedLimits(await backend.openSharedLimits(), {
          onDegraded: (error) => {
            logger.warn(
              { err: error },
              'the shared store does not answer for the cluster-wide limits: each process now counts streams per client and publish rates on its own until it answers again',
            );
          },
          onRecovered: () => {
            logger.info('the shared store answers again: limits are counted for the whole cluster');
          },
        })
      : undefined;
  if (sharedLimits !== undefined) metrics.watchSharedLimits(sharedLimits);
  const streamsPerClient =
    config.maxStreamsPerClient === null
      ? undefined
      : sharedLimits === undefined
        ? new StreamsPerClient(config.maxStreamsPerClient)
        : new SharedStreamsPerClient(sharedLimits, config.maxStreamsPerClient);
  const publishLimit =
    config.publishRate === null
      ? undefined
      : { perSecond: config.publishRate, burst: config.publishBurst };
  const publishRate =
    publishLimit === undefined
      ? undefined
      : sharedLimits === undefined
        ? new RateLimiter(publishLimit, runtime.clock)
        : new SharedRateLimiter(sharedLimits, publishLimit);
  const closeSharedLimits = async (): Promise<void> => {
    if (streamsPerClient instanceof SharedStreamsPerClient) await streamsPerClient.settle();
    await sharedLimits?.close();
  };
  let ui: WebUi | undefined;
  let clientBundle: ClientBundle;
  try {
    ui = config.ui
      ? await WebUi.load(
          new DashboardFeed(hub, connections, {
            presence: presence?.subscriptions,
            fanout,
            admission: { streamsPerClient, trustedProxies },
          }),
          { developmentPublisherToken: config.developmentPublisherToken },
        )
      : undefined;
    clientBundle = await ClientBundle.load();
  } catch (error) {
    ui?.close();
    hub.close();
    await closeSharedLimits();
    await presence?.close();
    await backend.close();
    await releasePort();
    throw error;
  }
  // A node that lagged past retention missed updates its subscribers should have had: rather
  // than pretend continuity, end every stream, so that each client resumes with its
  // Last-Event-ID and learns from history what it can still get.
  // Each stream gets a retry hint of its own, 0.5 to 2.5 s, so that its clients do not all come
  // back in the same instant (through a load balancer, many land on other nodes).
  backend.onFeedGap?.((gap) => {
    metrics.countFeedGap();
    const ended = connections.endAll(() =>
      Buffer.from(`retry: ${500 + Math.floor(Math.random() * 2_000)}\n\n`),
    );
    logger.warn(
      { after: gap.after, through: gap.through, endedStreams: ended },
      'the live feed missed updates that retention removed before this node read them: ended every stream so that clients resume',
    );
  });
  let closing: Promise<void> | undefined;
  const handler = createRequestHandler({
    config,
    hub,
    presence: presence?.subscriptions,
    verifier,
    connections,
    publishOrigins: new Set(config.publishOrigins),
    streamsPerClient,
    trustedProxies,
    publishRate,
    presenceRate,
    closing: () => closing !== undefined,
    metrics,
    metricsExposition: runtime.metricsExposition ?? (() => metrics.registry.metrics()),
    logger,
    ui,
    clientBundle,
    http1,
    probeBackend: async () => {
      await backend.lastEventId();
    },
  });
  early.ready(handler);
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;

  const close = (): Promise<void> => {
    closing ??= (async () => {
      const closed = listener.close();
      hub.close();
      connections.closeAll();
      ui?.close();
      listener.closeIdle();
      const timer = setTimeout(() => {
        listener.closeAll();
      }, config.shutdownTimeoutMs);
      await closed;
      clearTimeout(timer);
      // Every stream has ended: store their subscription events (active: false) before closing.
      await presence?.close();
      // Every stream has ended: write this process's counts back (to none) before closing.
      await closeSharedLimits();
      await backend.close();
    })();
    return closing;
  };

  return {
    config,
    hubUrl: `${listener.scheme}://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}${HUB_PATH}`,
    port,
    hub,
    presence,
    metrics,
    close,
  };
}

/** Holds the requests that arrive between `listen` and the routes being ready. */
class EarlyRequests {
  #handler: RequestListener | undefined;
  readonly #waiting: (() => void)[] = [];

  readonly listener: RequestListener = (req, res) => {
    if (this.#handler !== undefined) this.#handler(req, res);
    else this.#waiting.push(() => this.#handler?.(req, res));
  };

  ready(handler: RequestListener): void {
    this.#handler = handler;
    for (const dispatch of this.#waiting.splice(0)) dispatch();
  }
}
