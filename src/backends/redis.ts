import { setTimeout as delay } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import type {
  Backend,
  BackendCapabilities,
  FeedGap,
  HistoryRead,
  Position,
} from '../core/backend.ts';
import { BEFORE_ALL, EARLIEST } from '../core/backend.ts';
import { HeraldError } from '../core/errors.ts';
import type { SharedLimitStore } from '../core/shared-limits.ts';
import type { NewUpdate, Update } from '../core/update.ts';
import {
  compareStreamIds,
  decodeEntry,
  encodeEntry,
  positionOf,
  STREAM_ID_SHAPE,
  streamIdOf,
  wireIdOf,
} from './redis-entry.ts';
import { hubKeyPrefix } from './redis-keys.ts';
import { RedisLimitStore } from './redis-limits.ts';
import { RedisNodeLeases } from './redis-leases.ts';
import type { RedisConnection } from './redis-scripts.ts';
import { APPEND, DUPLICATE_REPLY, READ_START, TRIM } from './redis-scripts.ts';
import {
  checkRedisUrl,
  isClusterUrl,
  isSentinelUrl,
  parseClusterUrl,
  parseSentinelUrl,
  redactRedisUrl,
} from './redis-url.ts';
import { StoreOpenError } from './store-open-error.ts';
import { duplicateId, FeedListeners, reasonOf, storeClosed, storeFailed } from './store-feed.ts';

export interface RedisBackendOptions {
  /**
   * `redis://[user:pass@]host:port[/db]`, or `rediss://` for TLS; or
   * `redis+sentinel://[user:pass@]host:port,…/mymaster[?db=N]` (`rediss+sentinel://`) to find
   * the master through Sentinels and follow its failovers; or
   * `redis+cluster://[user:pass@]host:port,…` (`rediss+cluster://`) for a Redis Cluster.
   */
  readonly url: string;
  /**
   * Every key this store uses starts with it, e.g. `herald:`; on a cluster, within a hash tag
   * (`{herald:}`, see redis-keys.ts).
   */
  readonly keyPrefix: string;
  /** Most updates kept; older ones are trimmed in the background. `null`: no count limit. */
  readonly maxEvents: number | null;
  /** Oldest update kept, in milliseconds of age (Redis clock). `null`: no age limit. */
  readonly maxAgeMs: number | null;
  /** How often retention runs. */
  readonly trimIntervalMs?: number;
  /** Updates younger than this are never trimmed (see TRIM_GRACE_MS). */
  readonly trimGraceMs?: number;
  /** Refuse an id already in history (HERALD_ERR_DUPLICATE_ID) rather than store it again. */
  readonly refuseDuplicateIds?: boolean | undefined;
  /** How long a command may wait for Redis's answer before the call fails as unavailable. */
  readonly commandTimeoutMs?: number;
  /**
   * Replicas that must hold an append before it is acknowledged (Redis `WAIT`); 0: the
   * master's answer is enough. See `append`.
   */
  readonly minReplicas?: number | undefined;
  /** How long an append waits for `minReplicas` replicas before failing as unavailable. */
  readonly minReplicasTimeoutMs?: number | undefined;
}

/** An entry as XRANGE and XREAD give it: the stream id, then fields and values alternating. */
type RawEntry = [id: string, fields: string[]];

// Updates a history read fetches per round trip: bounded memory however long the history is,
// and a reply small enough to parse within the hub's replay slice (core/replay-scheduler.ts).
const PAGE_SIZE = 100;
// Updates one live read takes at once: one round trip carries many, yet a backlog of large
// updates (up to a publish body each) never arrives as one huge reply.
const FEED_COUNT = 200;
// How long one live read waits in Redis for something new.
const FEED_BLOCK_MS = 1_000;
// Updates one retention script removes; passes repeat until nothing more is due.
const TRIM_BATCH = 1_000;
const TRIM_PASSES_PER_RUN = 20;
/*
 * Every node delivers updates by reading the stream after the last one it delivered. If
 * retention removed an update before a node had read it, that node's subscribers would never
 * get it. So retention never removes an update younger than this, by the Redis clock: a node
 * whose live read lags by less cannot miss anything, even with `historySize` 0. History may
 * therefore briefly hold more than the limits say.
 */
const TRIM_GRACE_MS = 10_000;
const COMMAND_TIMEOUT_MS = 2_000;
/** How long an append waits for `minReplicas` replicas unless told. */
export const DEFAULT_MIN_REPLICAS_TIMEOUT_MS = 1_000;
const MAY_STILL_BE_DELIVERED =
  'It may still be delivered (and then resumable), or be lost if the master fails before a replica has it.';
const CONNECT_TIMEOUT_MS = 5_000;
// Reconnection (and live-read retry) delays: quick at first, then at most this.
const MAX_RETRY_DELAY_MS = 1_000;

/**
 * History in a Redis Stream, shared by every Herald node that uses the same Redis and key
 * prefix. Redis issues the ids and the one order of history; each node reads the stream live
 * (XREAD on its own connection) and hands every update, from any node, to its listeners.
 *
 * An append resolves once Redis has accepted it, which is as durable as Redis's own
 * persistence settings make it (AOF with `appendfsync always` survives a crash). Commands are
 * never queued while Redis is unreachable and never sent twice, so a publish either fails
 * quickly with HERALD_ERR_BACKEND_UNAVAILABLE or is acknowledged because Redis stored it.
 */
export class RedisBackend implements Backend {
  readonly #commands: RedisConnection;
  readonly #feed: RedisConnection;
  readonly #options: RedisBackendOptions;
  readonly #keys: readonly [stream: string, idlog: string, ids: string, trimmed: string];
  /** Each update's position is its stream id (see `positionOf`). */
  readonly #listeners = new FeedListeners<[update: Update, position: Position]>();
  readonly #gapListeners = new FeedListeners<[gap: FeedGap]>();
  /**
   * Every node with the same Redis and key prefix shares the stream; leases beside it let the
   * nodes that stay settle what a dead one left (redis-leases.ts).
   */
  readonly capabilities: BackendCapabilities;
  /** The stream id of the newest update delivered to listeners: the live read resumes after it. */
  #lastSeen: string;
  /** Called after each live read was delivered: history reads waiting for the feed. */
  readonly #feedWaiters = new Set<() => void>();
  readonly #feedLoop: Promise<void>;
  #trimTimer: NodeJS.Timeout | undefined;
  #trimming: Promise<number> | undefined;
  #closed = false;

  private constructor(
    commands: RedisConnection,
    feed: RedisConnection,
    options: RedisBackendOptions,
    lastSeen: string,
  ) {
    this.#commands = commands;
    this.#feed = feed;
    this.#options = options;
    const prefix = hubKeyPrefix(options.keyPrefix, commands instanceof Cluster);
    this.#keys = [`${prefix}stream`, `${prefix}idlog`, `${prefix}ids`, `${prefix}trimmed`];
    this.#lastSeen = lastSeen;
    this.capabilities = {
      exclusive: false,
      nodeLeases: new RedisNodeLeases(
        commands,
        { prefix, stream: this.#keys[0], idlog: this.#keys[1] },
        (command) => this.#call(command),
      ),
    };
    this.#feedLoop = this.#readFeed();
    if (options.maxEvents !== null || options.maxAgeMs !== null) {
      this.#trimTimer = setInterval(() => {
        this.trim().catch(() => undefined);
      }, options.trimIntervalMs ?? 1_000);
      this.#trimTimer.unref();
    }
  }

  /**
   * Connects, and resolves once the live feed is in place: every update stored after this
   * resolves reaches the listeners. Throws StoreOpenError when Redis cannot be used.
   */
  static async open(options: RedisBackendOptions): Promise<RedisBackend> {
    const shown = redactRedisUrl(options.url);
    const problem = checkRedisUrl(options.url);
    if (problem !== undefined) {
      throw new StoreOpenError(`Cannot use the Redis store ${shown}: ${problem}.`);
    }
    let opened = false;
    const minReplicas = options.minReplicas ?? 0;
    const commandTimeout =
      (options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS) +
      (minReplicas > 0 ? (options.minReplicasTimeoutMs ?? DEFAULT_MIN_REPLICAS_TIMEOUT_MS) : 0);
    const base: RedisOptions = {
      lazyConnect: true,
      // A command is sent only while connected, and never again after a lost reply: a publish
      // fails fast while Redis is away, and can never be stored twice.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      connectTimeout: CONNECT_TIMEOUT_MS,
      // The WAIT after an append blocks this connection up to its own timeout: allow for it.
      commandTimeout,
      // At start-up an unreachable Redis is an error to report; once running, reconnect forever.
      retryStrategy: (attempt) => (opened ? retryDelay(attempt) : null),
      connectionName: 'herald',
    };
    const commands = connect(options.url, base, () => opened);
    const feed = connect(
      options.url,
      {
        ...base,
        connectionName: 'herald-feed',
        // The live read blocks in Redis for FEED_BLOCK_MS: give it that on top.
        commandTimeout: (options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS) + FEED_BLOCK_MS,
      },
      () => opened,
    );
    // Failures surface through the commands that fail; without a listener ioredis prints them.
    let lastError: unknown;
    for (const connection of [commands, feed]) {
      connection.on('error', (error: unknown) => {
        lastError = error;
      });
    }
    try {
      await commands.connect();
      await feed.connect();
      // A failed SELECT of the URL's database is only reported as an error event, before the
      // answer to a command sent after it: refuse to run on the wrong database.
      await Promise.all([commands.ping(), feed.ping()]);
      if (lastError !== undefined) throw asError(lastError);
      // On a cluster this also opens the connection to the master of the hub's slot.
      const lastSeen = await lastGeneratedId(
        commands,
        `${hubKeyPrefix(options.keyPrefix, commands instanceof Cluster)}stream`,
      );
      opened = true;
      return new RedisBackend(commands, feed, options, lastSeen);
    } catch (error) {
      commands.disconnect();
      feed.disconnect();
      throw new StoreOpenError(
        `Cannot use the Redis store ${shown}: ${describe(lastError ?? error)}.`,
        { cause: error },
      );
    }
  }

  /** The cluster-wide limits, on a connection of their own to the same Redis. */
  async openSharedLimits(): Promise<SharedLimitStore> {
    if (this.#closed) throw storeClosed();
    return RedisLimitStore.open(this.#commands, this.#options.keyPrefix);
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  // A method, so that checks after an await are not narrowed away by the one before it.
  #isClosed(): boolean {
    return this.#closed;
  }

  async append(updates: readonly NewUpdate[]): Promise<readonly Update[]> {
    if (this.#closed) throw storeClosed();
    const args: (string | number)[] = [
      this.#options.refuseDuplicateIds === true ? '1' : '0',
      updates.length,
    ];
    for (const update of updates) {
      if (update.id !== undefined && STREAM_ID_SHAPE.test(update.id)) {
        await this.#refuseStreamShapedId(update.id);
      }
      const fields = encodeEntry(update);
      args.push(update.id ?? '', fields.length, ...fields);
    }
    const wanted = this.#options.minReplicas ?? 0;
    const timeoutMs = this.#options.minReplicasTimeoutMs ?? DEFAULT_MIN_REPLICAS_TIMEOUT_MS;
    let assigned: unknown;
    let confirmed: number | Error | undefined;
    try {
      if (wanted > 0) {
        ({ result: assigned, confirmed } = await APPEND.runThenWait(
          this.#commands,
          this.#keys,
          args,
          wanted,
          timeoutMs,
        ));
      } else {
        assigned = await APPEND.run(this.#commands, this.#keys, args);
      }
    } catch (error) {
      const duplicate = duplicateIndex(error);
      if (duplicate !== undefined) {
        throw duplicateId(updates[duplicate]?.id ?? '', error);
      }
      throw storeFailed(reasonOf(error), error);
    }
    const streamIds = assigned as string[];
    if (confirmed !== undefined) refuseUnreplicated(updates.length, confirmed, wanted, timeoutMs);
    return updates.map((update, i) => ({
      ...update,
      id: update.id ?? wireIdOf(streamIds[i] ?? ''),
    }));
  }

  /**
   * A publisher may not choose an id shaped like those Redis assigns (`digits-digits`): Redis
   * could later assign the same one. When duplicates are refused it is refused as taken when it
   * names a kept update (as any store refuses a taken id); else as invalid.
   */
  async #refuseStreamShapedId(id: string): Promise<never> {
    const streamId = streamIdOf(id);
    const kept =
      this.#options.refuseDuplicateIds === true &&
      streamId !== undefined &&
      (
        (await this.#call(() =>
          this.#commands.xrange(this.#keys[1], streamId, streamId),
        )) as RawEntry[]
      ).length > 0;
    if (kept) {
      throw duplicateId(id);
    }
    throw new HeraldError(
      'HERALD_ERR_INVALID_ID',
      `The id "${id}" has the shape of the ids this hub assigns (digits-digits); choose another.`,
    );
  }

  async readAfter(lastEventId: string): Promise<HistoryRead> {
    if (this.#closed) throw storeClosed();
    let mode: 'earliest' | 'given' | 'stream';
    let id = lastEventId;
    if (lastEventId === EARLIEST) {
      mode = 'earliest';
    } else if (STREAM_ID_SHAPE.test(lastEventId)) {
      const streamId = streamIdOf(lastEventId);
      if (streamId === undefined) return NOT_FOUND;
      mode = 'stream';
      id = streamId;
    } else {
      mode = 'given';
    }
    const reply = (await this.#call(() =>
      READ_START.run(this.#commands, this.#keys, [mode, id, PAGE_SIZE]),
    )) as [found: 0 | 1, newest?: string, page?: RawEntry[], after?: RawEntry[]];
    if (reply[0] === 0) return NOT_FOUND;
    const [, newest = '', page = [], [afterEntry] = []] = reply;
    const after = afterEntry === undefined ? undefined : decodeEntry(afterEntry[0], afterEntry[1]);
    if (newest === '') return { found: true, after, updates: [], reached: BEFORE_ALL };
    // Live updates reach this node after the fact: some in this read, or ones the client had,
    // may be on their way to the hub still. Once the feed is past the read's end, every one of
    // them has arrived, at or before the position reached, and none arrives later.
    await this.#feedPast(newest);
    return { found: true, after, updates: this.#pages(page, newest), reached: positionOf(newest) };
  }

  /** Pages of history after `first`, up to `newest`: updates stored later reach readers live. */
  async *#pages(first: RawEntry[], newest: string): AsyncIterable<Update> {
    let page = first;
    for (;;) {
      for (const [id, fields] of page) yield decodeEntry(id, fields);
      const last = page.at(-1);
      if (last === undefined || page.length < PAGE_SIZE) return;
      // A read cut short by close() must not pass for one that reached its end.
      if (this.#closed) throw storeClosed();
      page = await this.#call(() =>
        this.#commands.xrange(this.#keys[0], `(${last[0]}`, newest, 'COUNT', PAGE_SIZE),
      );
    }
  }

  async lastEventId(): Promise<string | undefined> {
    if (this.#closed) throw storeClosed();
    const [newest] = (await this.#call(() =>
      this.#commands.xrevrange(this.#keys[1], '+', '-', 'COUNT', 1),
    )) as RawEntry[];
    if (newest === undefined) return undefined;
    const given = newest[1][1];
    return given === undefined || given === '' ? wireIdOf(newest[0]) : given;
  }

  async historySize(): Promise<number> {
    if (this.#closed) throw storeClosed();
    return this.#call(() => this.#commands.xlen(this.#keys[0]));
  }

  onUpdate(listener: (update: Update, position: Position) => void): () => void {
    return this.#listeners.add(listener);
  }

  onFeedGap(listener: (gap: FeedGap) => void): () => void {
    return this.#gapListeners.add(listener);
  }

  /**
   * The live feed: reads the stream after the last update delivered, hands each update to the
   * listeners in stream order, and when Redis is away retries until it is back, then goes on
   * from the same place, so every update stored meanwhile (by any node) is delivered, in order.
   */
  async #readFeed(): Promise<void> {
    let failures = 0;
    while (!this.#closed) {
      let reply: [key: string, entries: RawEntry[]][] | null;
      let trimmedThrough: string | null;
      try {
        // Where retention has got to, read just before the stream in the same round trip:
        // past the last update delivered, this node missed the updates in between (a gap).
        const results = await this.#feed
          .pipeline()
          .get(this.#keys[3])
          .xread(
            'COUNT',
            FEED_COUNT,
            'BLOCK',
            FEED_BLOCK_MS,
            'STREAMS',
            this.#keys[0],
            this.#lastSeen,
          )
          .exec();
        const [[trimmedError, trimmed] = [], [readError, read] = []] = results ?? [];
        if (trimmedError || readError) throw asError(trimmedError ?? readError);
        trimmedThrough = trimmed as string | null;
        reply = read as [string, RawEntry[]][] | null;
        failures = 0;
      } catch {
        // close() cuts the connection while a read waits: that is the end, not a failure.
        if (this.#isClosed()) return;
        failures++;
        await delay(retryDelay(failures));
        continue;
      }
      if (trimmedThrough !== null && compareStreamIds(trimmedThrough, this.#lastSeen) > 0) {
        const gap: FeedGap = { after: this.#lastSeen, through: trimmedThrough };
        // Nothing at or before the gap's end can be delivered now: go on after it.
        this.#lastSeen = trimmedThrough;
        this.#gapListeners.emit(gap);
      }
      for (const [, entries] of reply ?? []) {
        for (const [id, fields] of entries) {
          if (this.#isClosed()) return;
          this.#lastSeen = id;
          const update = decodeEntry(id, fields);
          this.#listeners.emit(update, positionOf(id));
        }
      }
      for (const wake of [...this.#feedWaiters]) wake();
    }
  }

  /** Resolves once the live feed has delivered the update `streamId` and all before it. */
  async #feedPast(streamId: string): Promise<void> {
    const deadline = Date.now() + (this.#options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS);
    while (compareStreamIds(this.#lastSeen, streamId) < 0) {
      if (this.#isClosed()) throw storeClosed();
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw storeFailed('the live feed lags behind the store');
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#feedWaiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, remaining);
        this.#feedWaiters.add(wake);
      });
    }
  }

  /**
   * Resolves once this node's listeners have been handed every update stored before the call
   * (or `timeoutMs` has passed). For tests and tooling: appends are delivered asynchronously.
   */
  async caughtUp(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const [newest] = (await this.#call(() =>
      this.#commands.xrevrange(this.#keys[1], '+', '-', 'COUNT', 1),
    )) as RawEntry[];
    if (newest === undefined) return;
    while (!this.#closed && compareStreamIds(this.#lastSeen, newest[0]) < 0) {
      if (Date.now() >= deadline) return;
      await delay(5);
    }
  }

  /**
   * Applies retention now; returns how many updates were removed. Runs on a timer; exposed for
   * tests and tooling. `ignoreGrace` also removes updates younger than the grace period: only
   * safe once every node has delivered them (see `caughtUp`).
   */
  trim(options: { readonly ignoreGrace?: boolean } = {}): Promise<number> {
    // One run at a time: a slow Redis must not pile runs up.
    this.#trimming ??= this.#trimPasses(options.ignoreGrace === true).finally(() => {
      this.#trimming = undefined;
    });
    return this.#trimming;
  }

  async #trimPasses(ignoreGrace: boolean): Promise<number> {
    const { maxEvents, maxAgeMs } = this.#options;
    if (maxEvents === null && maxAgeMs === null) return 0;
    let removed = 0;
    for (let pass = 0; pass < TRIM_PASSES_PER_RUN && !this.#closed; pass++) {
      const grace = ignoreGrace ? -1 : (this.#options.trimGraceMs ?? TRIM_GRACE_MS);
      const count = (await this.#call(() =>
        TRIM.run(this.#commands, this.#keys, [maxEvents ?? -1, maxAgeMs ?? -1, grace, TRIM_BATCH]),
      )) as number;
      removed += count;
      if (count < TRIM_BATCH) break;
    }
    return removed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const wake of [...this.#feedWaiters]) wake();
    clearInterval(this.#trimTimer);
    this.#listeners.close();
    this.#gapListeners.close();
    // The live read may be blocked in Redis: cut it rather than wait.
    this.#feed.disconnect();
    await this.#feedLoop;
    await this.#trimming?.catch(() => undefined);
    try {
      await this.#commands.quit();
    } catch {
      this.#commands.disconnect();
    }
  }

  /** Runs a Redis call, turning any failure into HERALD_ERR_BACKEND_UNAVAILABLE. */
  async #call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw storeFailed(reasonOf(error), error);
    }
  }
}

/**
 * With `minReplicas`, an append is acknowledged only once that many replicas hold it: Redis
 * replicates asynchronously, so the master's answer alone can be lost when a replica is
 * promoted. `WAIT`, sent right after the append on the same connection, covers every write
 * that connection made before it, so the append. When too few replicas confirm in time the
 * append is still stored on the master (and may be delivered), but it is not acknowledged: the
 * publisher gets 503 and may retry.
 */
function refuseUnreplicated(
  count: number,
  confirmed: number | Error,
  wanted: number,
  timeoutMs: number,
): void {
  const what = count === 1 ? 'The update was' : `The ${count} updates were`;
  if (confirmed instanceof Error) {
    throw new HeraldError(
      'HERALD_ERR_BACKEND_UNAVAILABLE',
      `${what} stored on the Redis master, but waiting for ${wanted} replica(s) to confirm failed (${reasonOf(confirmed)}): not acknowledged. ${MAY_STILL_BE_DELIVERED}`,
      { cause: confirmed },
    );
  }
  if (confirmed < wanted) {
    throw new HeraldError(
      'HERALD_ERR_BACKEND_UNAVAILABLE',
      `${what} stored on the Redis master, but only ${confirmed} of the ${wanted} replica(s) this hub requires confirmed within ${timeoutMs} ms: not acknowledged. ${MAY_STILL_BE_DELIVERED}`,
    );
  }
}

/** A connection as the URL says: one server, the master the Sentinels name, or a cluster. */
function connect(url: string, options: RedisOptions, opened: () => boolean): RedisConnection {
  if (isClusterUrl(url)) return new Cluster(...clusterOptions(url, options, opened));
  if (isSentinelUrl(url)) return new Redis({ ...options, ...sentinelOptions(url, opened) });
  return new Redis(url, options);
}

/**
 * For a Cluster URL: ioredis's own Cluster support. It learns which master holds each slot from
 * the listed nodes, follows MOVED and ASK answers (refreshing its slot map), and when a master
 * dies it finds the promoted replica through the next MOVED. What it would do beyond that is
 * turned off where it could break a promise of this store:
 * - a command whose connection was lost is never sent again (`retryDelayOnFailover: 0`): it
 *   may have run, and an append must never be stored twice; the publish fails with 503;
 * - nor retried while the cluster is down (`retryDelayOnClusterDown: 0`), nor queued while it
 *   reconnects (`enableOfflineQueue: false`): a publish fails fast, as on one server.
 * Node connections get `options` (credentials, timeouts, TLS); each is opened on first use.
 */
function clusterOptions(
  url: string,
  options: RedisOptions,
  opened: () => boolean,
): [{ host: string; port: number }[], ClusterOptions] {
  const target = parseClusterUrl(url);
  if (typeof target === 'string') throw new Error(target);
  // What a cluster decides for its nodes itself (it never reconnects a lost node: the next
  // MOVED names its successor), or has no meaning there (one database).
  const nodeOptions: RedisOptions = { ...options };
  delete nodeOptions.retryStrategy;
  delete nodeOptions.enableOfflineQueue;
  delete nodeOptions.lazyConnect;
  delete nodeOptions.db;
  return [
    target.nodes.map(({ host, port }) => ({ host, port })),
    {
      lazyConnect: true,
      enableOfflineQueue: false,
      retryDelayOnFailover: 0,
      retryDelayOnClusterDown: 0,
      // At start-up no reachable node is an error to report; once running, keep trying.
      clusterRetryStrategy: (attempt) => (opened() ? retryDelay(attempt) : null),
      slotsRefreshTimeout: CONNECT_TIMEOUT_MS,
      redisOptions: {
        ...nodeOptions,
        // A command waiting for its node's connection must not outlive its own timeout and
        // then be sent all the same.
        connectTimeout: Math.min(CONNECT_TIMEOUT_MS, options.commandTimeout ?? CONNECT_TIMEOUT_MS),
        ...(target.username === undefined ? {} : { username: target.username }),
        ...(target.password === undefined ? {} : { password: target.password }),
        ...(target.tls ? { tls: {} } : {}),
      },
      // With TLS, connect to the names given (which the certificates name), not their addresses.
      ...(target.tls
        ? {
            dnsLookup: (address: string, callback: (error: null, address: string) => void) => {
              callback(null, address);
            },
          }
        : {}),
    },
  ];
}

/**
 * For a Sentinel URL: ioredis's own Sentinel support, which asks the Sentinels for the master
 * on every (re)connection, so both connections follow a failover without a restart. Empty for
 * a one-server URL.
 */
function sentinelOptions(url: string, opened: () => boolean): RedisOptions {
  const target = parseSentinelUrl(url);
  if (typeof target === 'string') return {};
  return {
    sentinels: target.sentinels.map(({ host, port }) => ({ host, port })),
    name: target.name,
    role: 'master',
    db: target.db,
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.password === undefined ? {} : { password: target.password }),
    ...(target.tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
    // At start-up no reachable Sentinel is an error to report; once running, keep asking.
    sentinelRetryStrategy: (attempt) => (opened() ? retryDelay(attempt) : null),
    sentinelCommandTimeout: CONNECT_TIMEOUT_MS,
    // Drop the connection as soon as the Sentinels announce a new master, rather than when the
    // old one's socket finally fails (it may be alive but demoted, or cut off).
    failoverDetector: true,
    // A demoted master answers writes with READONLY: reconnect (asking the Sentinels again),
    // never resending the command, whose publish has already failed with 503.
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 1 : false),
  };
}

/** A read of an id history does not hold: it reaches no update. */
const NOT_FOUND: HistoryRead = { found: false, updates: [], reached: BEFORE_ALL };

/** The stream id Redis issued last (0-0 for a stream that does not exist yet). */
async function lastGeneratedId(redis: RedisConnection, stream: string): Promise<string> {
  if ((await redis.exists(stream)) === 0) return '0-0';
  const info = (await redis.xinfo('STREAM', stream)) as unknown[];
  const at = info.indexOf('last-generated-id');
  const id = info[at + 1];
  if (at < 0 || typeof id !== 'string') throw new Error(`XINFO STREAM ${stream} gave no last id`);
  return id;
}

function duplicateIndex(error: unknown): number | undefined {
  if (!(error instanceof Error) || !error.message.startsWith(`${DUPLICATE_REPLY} `)) {
    return undefined;
  }
  return Number(error.message.slice(DUPLICATE_REPLY.length + 1));
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

function retryDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 10), MAX_RETRY_DELAY_MS);
}

/** Why a Redis call failed, in words (`reasonOf`, and for a cluster no node answered, which). */
/**
 * Why Redis could not be used, for the start-up message: `reasonOf`, except when no listed
 * cluster node described the cluster, which ioredis words as a slot cache failure.
 */
function describe(error: unknown): string {
  const message = reasonOf(error);
  if (error instanceof Error && error.name === 'ClusterAllFailedError') {
    // The last node's failure says little ("Connection is closed"), but is all ioredis keeps.
    const cause = (error as { lastNodeError?: unknown }).lastNodeError;
    const detail = cause === undefined ? '' : `: ${reasonOf(cause)}`;
    return `none of the listed cluster nodes described the cluster (${message}${detail})`;
  }
  return message;
}
