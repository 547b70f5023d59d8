import type { Backend, HistoryRead, Position } from './backend.ts';
import { BEFORE_ALL, EARLIEST } from './backend.ts';
import { HeraldError } from './errors.ts';
import { PopularTopics } from './popular-topics.ts';
import type { ReplaySlot } from './replay-scheduler.ts';
import { ReplayScheduler } from './replay-scheduler.ts';
import { PendingLive } from './pending-live.ts';
import { encodeFrame } from './sse-frame.ts';
import { isReservedTopic } from './subscription-events.ts';
import type { FrameSink, SubscriberGrants } from './subscriber.ts';
import { Subscriber } from './subscriber.ts';
import { TopicIndex } from './topic-index.ts';
import type { TopicRate } from './topic-rates.ts';
import { TopicRates } from './topic-rates.ts';
import { compileSelectors } from './topic-selector.ts';
import type { TopicSelector } from './topic-selector.ts';
import type { MatchType } from './url-pattern.ts';
import type { NewUpdate, Update } from './update.ts';
import { validateNewUpdate } from './update.ts';
import { WORK_SLICE_MS } from './work-slice.ts';

export interface HubOptions {
  /** Topics one update may carry (canonical + alternates). */
  readonly maxTopicsPerUpdate: number;
  /** Updates one publish request may carry (Herald's JSON batch). */
  readonly maxUpdatesPerPublish: number;
  /** Topic selectors one subscription may carry. */
  readonly maxSelectorsPerSubscription: number;
  /**
   * Bytes of live frames a subscriber may have waiting while its history replays; past it the
   * subscription is closed and the client resumes later.
   */
  readonly maxPendingBytes: number;
  /**
   * History replays that may run at once; more wait for a slot in arrival order (the client has
   * no response head until then). Default: `DEFAULT_MAX_CONCURRENT_REPLAYS`.
   */
  readonly maxConcurrentReplays?: number | undefined;
  /** Called after each live update was written to every matching local subscriber. */
  readonly observeFanout?: ((seconds: number, deliveries: number) => void) | undefined;
  /**
   * Told of every subscription and every update of the feed: how a service beside the hub
   * (presence, `core/presence-service.ts`) follows it.
   */
  readonly observer?: HubObserver | undefined;
  /**
   * Longest the hub dispatches live updates in one go before letting the event loop go round
   * (default `WORK_SLICE_MS`); the rest of a burst (a JSON batch, a page of the Redis feed)
   * waits for the next turn, in order.
   */
  readonly dispatchSliceMs?: number | undefined;
  /**
   * Keep what `busiestTopics()` answers from: per-topic update rates in a bounded sketch and
   * the most subscribed topics (the web UI's dashboard). Costs a map lookup per topic of each
   * update and of each subscribe; off unless asked for.
   */
  readonly topicActivity?: boolean | undefined;
}

/**
 * What a service that follows the hub is told. Called in the hub's own order: a subscription's
 * start before it joins delivery, its end once it has left, each update before any subscriber
 * gets it.
 */
export interface HubObserver {
  /**
   * A subscription is starting: awaited before it joins delivery (nothing is written to its sink
   * before). Resolves with the id the observer gives the subscriber (`subscriberId`).
   */
  subscriptionStarting(subscriber: Subscriber, request: SubscribeRequest): Promise<string>;
  /** The subscription has left delivery (once, from `unsubscribe`). */
  subscriptionEnded(subscriber: Subscriber): void;
  /** An update of the feed, from any node, before it is delivered. */
  updateArriving(update: Update): void;
}

/** One of the busiest topics, as the dashboard lists them. */
export interface BusyTopic {
  readonly topic: string;
  /** Subscribers with exactly this topic as a selector (templates and `*` are not counted). */
  readonly subscribers: number;
  readonly updatesPerSecond: number;
  /** Frames per second its updates caused, to subscribers of any selector. */
  readonly deliveriesPerSecond: number;
}

// How many topics each side of the busiest-topics bookkeeping keeps.
const POPULAR_TOPICS_KEPT = 64;
const TOPIC_RATES_KEPT = 256;

/** Replays that may run at once unless told otherwise. */
export const DEFAULT_MAX_CONCURRENT_REPLAYS = 32;

/** An update the backend handed over, waiting for its turn to be dispatched. */
interface Waiting {
  readonly update: Update;
  readonly position: Position;
  readonly seq: number;
}

/**
 * Running totals for observability: plain numbers that a metrics endpoint reads when scraped,
 * so that counting costs the delivery path a few additions per update, not a call per frame.
 */
export interface HubStats {
  /** Updates stored through this hub (published on this node). */
  published: number;
  /** Live updates dispatched to this hub's subscribers (from any node). */
  updatesDispatched: number;
  /** Frames queued to subscribers, live and replayed. */
  deliveries: number;
  /** Bytes of those frames. */
  bytesDelivered: number;
}

/** One draft-08 topic matcher of a subscription, compiled (see url-pattern.ts). */
export interface SubscribeMatcher {
  readonly match: string;
  readonly matchType: MatchType;
  readonly selector: TopicSelector;
  /**
   * The payload its subscription events carry (draft-08: the first `subscribe` detail of the
   * token whose topics match the matcher); absent: the request's `payload`.
   */
  readonly payload?: unknown;
}

export interface SubscribeRequest {
  /** Draft-07 topic selectors, as sent. */
  readonly selectors: readonly string[];
  /** Draft-08: the request's topic matchers; when present, `selectors` is not read. */
  readonly matchers?: readonly SubscribeMatcher[] | undefined;
  readonly grants: SubscriberGrants;
  readonly sink: FrameSink;
  /** Resume strictly after this id; `earliest` replays all kept history. */
  readonly lastEventId?: string | undefined;
  /** The token's `mercure.payload`, shown in subscription events. */
  readonly payload?: unknown;
}

/** A subscription that has joined the live stream and knows where its replay starts. */
export interface OpenedSubscription {
  readonly subscriber: Subscriber;
  /** With an observer: the id it gave this subscriber (presence: its `urn:uuid:`). */
  readonly subscriberId: string | undefined;
  /**
   * Only when the request asked to resume: the id the stream resumes after, or `earliest`
   * when the requested id is not in history. Sent back as the `Last-Event-ID` header.
   */
  readonly resumedAfter: string | undefined;
  /** Writes the history to replay, then the live frames that arrived meanwhile; then live. */
  start(): Promise<void>;
}

/**
 * The hub: validates and stores publishes through the backend, and delivers every stored
 * update to the subscribers whose selectors and grants admit it. Pure: no sockets, no files.
 */
export class Hub {
  readonly #backend: Backend;
  readonly #options: HubOptions;
  readonly #index: TopicIndex;
  readonly #popular: PopularTopics | undefined;
  /** With `topicActivity`: update rates of the busiest topics; the dashboard ticks it. */
  readonly topicRates: TopicRates | undefined;
  readonly #unlisten: () => void;
  /** Encoded frames of recent updates, shared by live delivery and replays of the same objects. */
  readonly #frames = new WeakMap<Update, Uint8Array>();
  /**
   * How many live updates the backend has handed over: each update's sequence number. Every
   * subscriber's `lastDispatch` starts at the figure when it joined, so that it receives live
   * only updates handed over after (earlier ones are history's to replay).
   */
  #handedOver = 0;
  /** The sequence number of the newest update dispatched. */
  #dispatched = 0;
  /** Updates handed over while a slice was spent, waiting for the next turn, oldest first. */
  #backlog: (Waiting | undefined)[] = [];
  #backlogHead = 0;
  #drainScheduled = false;
  /** When the current slice of dispatch ends; `undefined` until something is dispatched. */
  #sliceEndsAt: number | undefined;
  /** History reads waiting for the backlog to be dispatched (see `#dispatchedThrough`). */
  readonly #dispatchWaiters: { readonly seq: number; readonly resolve: () => void }[] = [];
  #closed = false;
  readonly #observer: HubObserver | undefined;
  /** Paces and bounds history replays (a resume storm must not freeze the hub). */
  readonly replays: ReplayScheduler;
  /** The replay slot of each subscriber whose history is being replayed. */
  readonly #replaying = new Map<Subscriber, ReplaySlot>();
  readonly stats: HubStats = {
    published: 0,
    updatesDispatched: 0,
    deliveries: 0,
    bytesDelivered: 0,
  };

  constructor(backend: Backend, options: HubOptions) {
    this.#backend = backend;
    this.#options = options;
    if (options.topicActivity === true) {
      this.#popular = new PopularTopics(POPULAR_TOPICS_KEPT);
      this.topicRates = new TopicRates(TOPIC_RATES_KEPT);
    }
    this.#index = new TopicIndex(this.#popular);
    this.replays = new ReplayScheduler({
      maxConcurrent: options.maxConcurrentReplays ?? DEFAULT_MAX_CONCURRENT_REPLAYS,
      // One replay's slice per turn: a resume storm holds the loop no longer than any job.
      sliceMs: WORK_SLICE_MS,
    });
    const observer = options.observer;
    this.#observer = observer;
    this.#unlisten = backend.onUpdate((update, position) => {
      // Before delivery: a client that receives a subscription event finds the API agreeing.
      observer?.updateArriving(update);
      this.#receive(update, position);
    });
  }

  get subscriberCount(): number {
    return this.#index.size;
  }

  /** Distinct exact topics subscribed to (template and `*` selectors are not counted). */
  get topicCount(): number {
    return this.#index.topicCount;
  }

  /**
   * With `topicActivity`: the busiest topics, by deliveries per second, then subscribers. Looks
   * only at the topics the bookkeeping keeps (a few hundred), never at every topic.
   */
  busiestTopics(limit: number): BusyTopic[] {
    const candidates = new Set<string>(this.topicRates?.topics());
    for (const [topic] of this.#popular?.top(POPULAR_TOPICS_KEPT) ?? []) candidates.add(topic);
    const idle: Omit<TopicRate, 'topic'> = { updatesPerSecond: 0, deliveriesPerSecond: 0 };
    return [...candidates]
      .map((topic) => ({
        topic,
        subscribers: this.#index.subscribersOf(topic),
        ...idle,
        ...this.topicRates?.rateOf(topic),
      }))
      .sort(
        (a, b) =>
          b.deliveriesPerSecond - a.deliveriesPerSecond ||
          b.subscribers - a.subscribers ||
          b.updatesPerSecond - a.updatesPerSecond,
      )
      .slice(0, limit);
  }

  /** Validates, stores and (through the backend) delivers updates; resolves with their ids. */
  async publish(updates: readonly NewUpdate[]): Promise<readonly Update[]> {
    if (updates.length === 0) {
      throw new HeraldError('HERALD_ERR_MALFORMED_BODY', 'The request holds no update.');
    }
    if (updates.length > this.#options.maxUpdatesPerPublish) {
      throw new HeraldError(
        'HERALD_ERR_TOO_MANY_UPDATES',
        `A publish may carry at most ${this.#options.maxUpdatesPerPublish} updates; this one has ${updates.length}.`,
      );
    }
    // Refuses, among others, topics in the hub's reserved namespace: only hubs write there,
    // and the subscription API trusts what it reads on these topics.
    const valid = updates.map((update) => validateNewUpdate(update, this.#options));
    const stored = await this.#backend.append(valid);
    this.stats.published += stored.length;
    return stored;
  }

  /**
   * Joins the live stream first, then looks up history, so that no update can fall between
   * the replay and live delivery: live frames wait in `pending` until `start()` has replayed,
   * and those at or before the position the read reached are dropped, as the replay covers them.
   */
  async subscribe(request: SubscribeRequest): Promise<OpenedSubscription> {
    const { matchers } = request;
    const count = matchers?.length ?? request.selectors.length;
    if (count === 0) {
      throw new HeraldError(
        'HERALD_ERR_MISSING_TOPIC',
        matchers === undefined
          ? 'Subscribe to at least one topic selector.'
          : 'Subscribe with at least one topic matcher: match=, match_exact= or match_urlpattern=.',
      );
    }
    if (count > this.#options.maxSelectorsPerSubscription) {
      throw new HeraldError(
        'HERALD_ERR_TOO_MANY_SELECTORS',
        `A subscription may have at most ${this.#options.maxSelectorsPerSubscription} topic selectors; this one has ${count}.`,
      );
    }
    const selectors =
      matchers === undefined
        ? compileSelectors(request.selectors)
        : [...new Set(matchers.map((matcher) => matcher.selector))];
    const subscriber = new Subscriber(
      selectors,
      request.grants,
      request.sink,
      matchers === undefined ? '07' : '08',
    );
    // Announced before joining: nothing may be written to the sink before the caller is ready.
    const subscriberId = await this.#observer?.subscriptionStarting(subscriber, request);
    const { lastEventId } = request;
    if (lastEventId === undefined) {
      this.#join(subscriber);
      return { subscriber, subscriberId, resumedAfter: undefined, start: () => Promise.resolve() };
    }

    // Waits its turn: only so many replays run at once, whatever the storm.
    const slot = await this.replays.acquireSlot();
    if (request.sink.closed) {
      // Gone while waiting: nothing to replay. The caller sees the closed sink and unsubscribes.
      slot.release();
      this.#join(subscriber);
      return { subscriber, subscriberId, resumedAfter: EARLIEST, start: () => Promise.resolve() };
    }
    this.#replaying.set(subscriber, slot);
    const pending = new PendingLive();
    subscriber.pending = pending;
    this.#join(subscriber);
    let history: HistoryRead;
    try {
      history = await this.#backend.readAfter(lastEventId);
      // Every update handed over by now (the read's included) is dispatched, into `pending`,
      // before the replay starts: none can reach the subscriber after the replay as well.
      await this.#dispatchedThrough(this.#handedOver);
    } catch (error) {
      this.unsubscribe(subscriber);
      throw error;
    }
    // An id this subscriber may not see is answered exactly as an unknown one: otherwise the
    // answer would tell an anonymous client that a private update with that id exists.
    if (history.after !== undefined && !subscriber.maySee(history.after)) history = UNKNOWN_ID;
    const resumedAfter = history.found ? lastEventId : EARLIEST;
    pending.coverThrough(history.reached);
    const { updates } = history;
    const start = async (): Promise<void> => {
      try {
        await this.#replay(subscriber, updates, slot);
      } finally {
        slot.release();
        this.#replaying.delete(subscriber);
      }
    };
    return { subscriber, subscriberId, resumedAfter, start };
  }

  /**
   * Removes a subscriber from delivery; the HTTP layer calls it once when the stream ends.
   * The observer is told (presence announces the end).
   */
  unsubscribe(subscriber: Subscriber): void {
    this.#index.delete(subscriber);
    this.#replaying.get(subscriber)?.release();
    this.#replaying.delete(subscriber);
    this.#observer?.subscriptionEnded(subscriber);
  }

  /** Stops delivering. Open streams are the HTTP layer's to end. */
  close(): void {
    this.#closed = true;
    this.#unlisten();
    this.#backlog = [];
    this.#backlogHead = 0;
    for (const waiter of this.#dispatchWaiters.splice(0)) waiter.resolve();
  }

  /** Adds a subscriber to live delivery: it receives updates handed over from now on. */
  #join(subscriber: Subscriber): void {
    subscriber.lastDispatch = this.#handedOver;
    this.#index.add(subscriber);
  }

  /**
   * Takes an update from the backend's live feed. Dispatched at once while the current slice
   * lasts and nothing waits; otherwise queued behind the waiting ones, for the next turn. A
   * backend hands a whole batch over in one synchronous run: this is what keeps that run short.
   */
  #receive(update: Update, position: Position): void {
    const seq = ++this.#handedOver;
    if (this.#backlogHead === this.#backlog.length && this.#sliceOpen()) {
      this.#dispatch(update, position, seq);
      return;
    }
    this.#backlog.push({ update, position, seq });
    if (!this.#drainScheduled) {
      this.#drainScheduled = true;
      setImmediate(this.#drain);
    }
  }

  /** Whether the current synchronous run may dispatch more; the first call opens a slice. */
  #sliceOpen(): boolean {
    const now = performance.now();
    if (this.#sliceEndsAt === undefined) {
      this.#sliceEndsAt = now + (this.#options.dispatchSliceMs ?? WORK_SLICE_MS);
      // The slice lasts for this synchronous run only: the next one starts a slice of its own.
      queueMicrotask(() => {
        this.#sliceEndsAt = undefined;
      });
      return true;
    }
    return now < this.#sliceEndsAt;
  }

  /** Dispatches waiting updates, oldest first, for one slice; the rest wait for the next turn. */
  readonly #drain = (): void => {
    this.#drainScheduled = false;
    while (this.#backlogHead < this.#backlog.length) {
      if (!this.#sliceOpen()) {
        this.#drainScheduled = true;
        setImmediate(this.#drain);
        break;
      }
      const next = this.#backlog[this.#backlogHead];
      // Dispatched ones are let go at once: a long backlog does not pin their frames.
      this.#backlog[this.#backlogHead++] = undefined;
      if (next !== undefined) this.#dispatch(next.update, next.position, next.seq);
    }
    if (this.#backlogHead === this.#backlog.length) {
      this.#backlog = [];
      this.#backlogHead = 0;
    }
  };

  /** Resolves once every update up to `seq` has been dispatched (or the hub closed). */
  #dispatchedThrough(seq: number): Promise<void> {
    if (this.#dispatched >= seq || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#dispatchWaiters.push({ seq, resolve });
    });
  }

  /**
   * Writes the history, a slice at a time (see ReplayScheduler), then the live frames that
   * arrived meanwhile and that the history does not cover; from then on the subscriber is live.
   */
  async #replay(
    subscriber: Subscriber,
    updates: AsyncIterable<Update> | Iterable<Update>,
    slot: ReplaySlot,
  ): Promise<void> {
    const { sink } = subscriber;
    for await (const update of updates) {
      if (sink.closed || slot.released) return;
      if (subscriber.accepts(update)) {
        const frame = this.#frameOf(update);
        this.stats.deliveries++;
        this.stats.bytesDelivered += frame.byteLength;
        // A client that reads slowly holds no slot while its socket drains.
        if (!sink.write(frame)) await slot.releaseWhile(sink.drained());
      }
      if (slot.sliceSpent) await slot.yield();
    }
    const frames = subscriber.pending?.frames() ?? [];
    subscriber.pending = undefined;
    for (const frame of frames) sink.write(frame);
  }

  #frameOf(update: Update): Uint8Array {
    let frame = this.#frames.get(update);
    if (frame === undefined) {
      frame = encodeFrame(update);
      this.#frames.set(update, frame);
    }
    return frame;
  }

  #dispatch(update: Update, position: Position, seq: number): void {
    const started = this.#options.observeFanout === undefined ? 0 : performance.now();
    let frame: Uint8Array | undefined;
    let deliveries = 0;
    this.#index.forCandidates(update.topics, (subscriber) => {
      // Sent already (a second selector matched), or handed over before the subscriber joined.
      if (subscriber.lastDispatch >= seq) return;
      subscriber.lastDispatch = seq;
      if (!subscriber.accepts(update)) return;
      frame ??= this.#frameOf(update);
      deliveries++;
      const pending = subscriber.pending;
      if (pending === undefined) {
        subscriber.sink.write(frame);
        return;
      }
      pending.hold(frame, position);
      if (pending.bytes > this.#options.maxPendingBytes) subscriber.sink.close();
    });
    this.stats.updatesDispatched++;
    this.stats.deliveries += deliveries;
    this.stats.bytesDelivered += deliveries * (frame?.byteLength ?? 0);
    // The hub's own subscription events are not traffic anyone published.
    if (this.topicRates !== undefined && !isReservedTopic(update.topics[0] ?? '')) {
      this.topicRates.count(update.topics, deliveries);
    }
    this.#options.observeFanout?.((performance.now() - started) / 1000, deliveries);
    this.#dispatched = seq;
    const waiters = this.#dispatchWaiters;
    while (waiters.length > 0 && (waiters[0]?.seq ?? Infinity) <= seq) waiters.shift()?.resolve();
  }
}

/** What a read of an id history does not hold looks like: it covers no live update. */
const UNKNOWN_ID: HistoryRead = { found: false, updates: [], reached: BEFORE_ALL };
