import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Backend, NodeLeases } from './backend.ts';
import { EARLIEST } from './backend.ts';
import type { HubObserver, SubscribeRequest } from './hub.ts';
import { matchSubscriptionDocument, matchSubscriptionEvent } from './match-subscription-events.ts';
import { Presence } from './presence.ts';
import type { Subscriber } from './subscriber.ts';
import { subscriptionDocument, subscriptionEvent } from './subscription-events.ts';
import type { NewUpdate, Update } from './update.ts';
import type { MatchType } from './url-pattern.ts';

/** How long a node's lease lasts unless told: its subscriptions outlive a crash at most this. */
export const DEFAULT_PRESENCE_LEASE_MS = 15_000;
/** Subscriptions ended per append when an earlier run's are ended at start-up. */
const ORPHANS_PER_APPEND = 500;
/** A node checks for expired leases (and renews its own) at least this often. */
const LEASE_CHECK_MS = 1_000;

export interface PresenceServiceOptions {
  /** Told when a subscription event cannot be stored; the subscription itself goes on. */
  readonly onError?: ((error: unknown) => void) | undefined;
  /**
   * On a store shared by several nodes that keeps leases (`capabilities.nodeLeases`): how long
   * this node's lease lasts. It is renewed every third of it (or every second, whichever is
   * sooner); once it has expired, the nodes that remain end this node's subscriptions.
   */
  readonly leaseMs?: number | undefined;
  /** Told when the lease cannot be renewed (the store is away), once per outage. */
  readonly onLeaseError?: ((error: unknown) => void) | undefined;
  /** Told when this node ended the subscriptions of a node whose lease expired. */
  readonly onNodeSettled?: ((node: string, subscribers: number) => void) | undefined;
  /** Told when this node's own lease had lapsed: it announces its subscriptions again. */
  readonly onLeaseLapsed?: ((subscribers: number) => void) | undefined;
}

/**
 * One subscription as announced: in the draft-07 form under `topic` (the selector, or a
 * draft-08 matcher's value), and in the draft-08 form when draft-08 can express it (a URI
 * template selector has no draft-08 matcher type, so it has no draft-08 form).
 */
interface AnnouncedSubject {
  readonly topic: string;
  readonly matchType: MatchType | undefined;
  readonly payload: unknown;
}

/** What this node announced for one of its subscribers. */
interface Announcement {
  /** The subscriber's `urn:uuid:`, the same for each of its selectors. */
  readonly id: string;
  /** What is announced, one entry per selector or matcher (see `subjectsOf`). */
  readonly subjects: readonly AnnouncedSubject[];
  /** Settles once the start is stored: the end is stored after it. */
  started: Promise<void>;
}

/**
 * Mercure's active subscriptions as a service beside the hub: announces each subscription's
 * start and end (subscription events, stored through the backend like any publish), keeps the
 * cluster's active set (`subscriptions`) from the events of every node's feed, loads it at
 * start-up, and settles what the store says was left open:
 *   - on a store this process has alone (`capabilities.exclusive`), whatever history shows open
 *     was left by an earlier run that crashed, and is ended at start-up;
 *   - on a store with node leases (`capabilities.nodeLeases`), this node holds a lease under
 *     which it keeps the ends of its subscriptions; when a node dies, its lease expires and one
 *     of the nodes that remain stores those ends, so every node stops listing them.
 * The hub knows nothing of it: it tells its observer (this) of every subscription and update.
 */
export class PresenceService implements HubObserver {
  /** The active subscriptions of every node, as the subscription API answers them. */
  readonly subscriptions = new Presence();
  /** This process's name in the store's leases: one per process, new at every start. */
  readonly node = crypto.randomUUID();
  readonly #backend: Backend;
  readonly #options: PresenceServiceOptions;
  readonly #leases: NodeLeases | undefined;
  readonly #announced = new Map<Subscriber, Announcement>();
  /** Subscription events being stored, awaited by `settle()` before the backend closes. */
  readonly #inFlight = new Set<Promise<void>>();
  #leaseTimer: NodeJS.Timeout | undefined;
  #renewing: Promise<void> | undefined;
  #renewed = false;
  #leaseFailing = false;
  #closed = false;

  constructor(backend: Backend, options: PresenceServiceOptions = {}) {
    this.#backend = backend;
    this.#options = options;
    this.#leases = backend.capabilities.nodeLeases;
  }

  /** The lease in effect, in milliseconds; `undefined` on a store without leases. */
  get leaseMs(): number | undefined {
    return this.#leases === undefined
      ? undefined
      : (this.#options.leaseMs ?? DEFAULT_PRESENCE_LEASE_MS);
  }

  /**
   * At start-up, before serving: takes this node's lease, fills the set from history (so that a
   * node joining a running cluster lists what the others announced before it started, as long as
   * history still holds their start), and, on a store this process has alone, ends what an
   * earlier run left open. Resolves with how many subscriptions it ended so.
   */
  async start(): Promise<number> {
    if (this.#leases !== undefined) await this.#renew();
    const history = await this.#backend.readAfter(EARLIEST);
    await this.subscriptions.warmUp(history.updates);
    const ended = this.#backend.capabilities.exclusive ? await this.#endOrphans() : 0;
    // With no history, a client resuming from the API's first lastEventID replays nothing.
    this.subscriptions.seed(await this.#backend.lastEventId());
    const leaseMs = this.leaseMs;
    if (leaseMs !== undefined) {
      this.#leaseTimer = setInterval(
        () => {
          this.#renewing ??= this.#renew().finally(() => {
            this.#renewing = undefined;
          });
        },
        Math.min(Math.floor(leaseMs / 3), LEASE_CHECK_MS),
      );
      this.#leaseTimer.unref();
    }
    return ended;
  }

  updateArriving(update: Update): void {
    this.subscriptions.observe(update);
  }

  /** Announces the start (stored before the stream opens); resolves with the subscriber id. */
  async subscriptionStarting(subscriber: Subscriber, request: SubscribeRequest): Promise<string> {
    const announcement: Announcement = {
      id: `urn:uuid:${crypto.randomUUID()}`,
      subjects: subjectsOf(subscriber, request),
      started: Promise.resolve(),
    };
    const started = this.#announceStart(announcement);
    announcement.started = started;
    this.#announced.set(subscriber, announcement);
    this.#track(started);
    await started;
    return announcement.id;
  }

  /** Announces the end, after the start was stored. */
  subscriptionEnded(subscriber: Subscriber): void {
    const announcement = this.#announced.get(subscriber);
    if (announcement === undefined) return;
    this.#announced.delete(subscriber);
    this.#track(announcement.started.then(() => this.#announceEnd(announcement)));
  }

  /** Resolves once every subscription event started so far is stored (or failed). */
  async settle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  /**
   * After the hub's streams have ended: stores their ends, then gives the lease up (nothing is
   * left under it for the other nodes to settle). Before the backend closes.
   */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#leaseTimer);
    await this.#renewing;
    await this.settle();
    if (this.#leases === undefined || !this.#renewed) return;
    try {
      await this.#leases.drop(this.node);
    } catch (error) {
      // The lease then expires and another node settles what it still holds (nothing, or ends
      // already stored: applying an end twice changes nothing).
      this.#options.onLeaseError?.(error);
    }
  }

  /**
   * For a store this process has alone, after loading: every subscription still listed was left
   * open by an earlier run that crashed and could not announce its end. Announces it, so that
   * the API and clients replaying history see them end.
   */
  async #endOrphans(): Promise<number> {
    const orphans = this.subscriptions.list();
    const ends = [
      ...this.subscriptions
        .listMatches()
        .map((document) => matchSubscriptionEvent({ ...document, active: false })),
      ...orphans.map((document) => subscriptionEvent({ ...document, active: false })),
    ];
    // In pages, each in its own turn: thousands at once would be one long write.
    for (let at = 0; at < ends.length; at += ORPHANS_PER_APPEND) {
      if (at > 0) await nextTurn();
      await this.#backend.append(ends.slice(at, at + ORPHANS_PER_APPEND));
    }
    return orphans.length;
  }

  /**
   * With leases, the end is kept under this node's lease before the start is stored: whenever
   * the start is in the store, so is what ends it should this node die.
   */
  async #announceStart(announcement: Announcement): Promise<void> {
    try {
      await this.#leases?.hold(this.node, announcement.id, eventsOf(announcement, false));
      await this.#backend.append(eventsOf(announcement, true));
    } catch (error) {
      this.#options.onError?.(error);
    }
  }

  /** Stores the end, then forgets it from the lease (dying in between ends it twice: harmless). */
  async #announceEnd(announcement: Announcement): Promise<void> {
    try {
      await this.#backend.append(eventsOf(announcement, false));
      await this.#leases?.release(this.node, announcement.id);
    } catch (error) {
      this.#options.onError?.(error);
    }
  }

  /**
   * Renews this node's lease and settles the expired leases of others. A lapsed lease (this node
   * was paused, or cut off from the store, for longer than the lease) may have had its
   * subscriptions ended by another node: they are held and announced again, since their
   * streams are still open here.
   */
  async #renew(): Promise<void> {
    const leases = this.#leases;
    const leaseMs = this.leaseMs;
    if (leases === undefined || leaseMs === undefined || this.#closed) return;
    try {
      const { lapsed, expired } = await leases.renew(this.node, leaseMs, !this.#renewed);
      this.#renewed = true;
      this.#leaseFailing = false;
      if (lapsed) await this.#announceAgain();
      for (const node of expired) {
        const ended = await leases.settle(node);
        if (ended > 0) this.#options.onNodeSettled?.(node, ended);
      }
    } catch (error) {
      if (!this.#leaseFailing) this.#options.onLeaseError?.(error);
      this.#leaseFailing = true;
      // At start-up a store that cannot keep the lease is a store that cannot be used.
      if (!this.#renewed) throw error;
    }
  }

  async #announceAgain(): Promise<void> {
    const announced = [...this.#announced];
    this.#options.onLeaseLapsed?.(announced.length);
    for (const [subscriber, announcement] of announced) {
      if (this.#closed) return;
      await announcement.started;
      // Ended meanwhile: its end is stored (or being stored) after the start it follows.
      if (this.#announced.get(subscriber) !== announcement) continue;
      const again = this.#announceStart(announcement);
      this.#track(again);
      announcement.started = announcement.started.then(() => again);
      await again;
    }
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }
}

/**
 * One subscription event per selector or matcher, in one batch: both forms, each seen by the
 * subscribers of its dialect only (Subscriber.accepts). The draft-08 ones first: any batch then
 * ends on an event its draft-07 watchers saw.
 */
function eventsOf(announcement: Announcement, active: boolean): NewUpdate[] {
  const events: NewUpdate[] = [];
  for (const { topic, matchType, payload } of announcement.subjects) {
    if (matchType === undefined) continue;
    events.push(
      matchSubscriptionEvent(
        matchSubscriptionDocument(matchType, topic, announcement.id, active, payload),
      ),
    );
  }
  for (const { topic, payload } of announcement.subjects) {
    events.push(subscriptionEvent(subscriptionDocument(topic, announcement.id, active, payload)));
  }
  return events;
}

/**
 * What to announce for a subscription: each distinct selector of a draft-07 one (exact topics
 * and `*` also in the draft-08 form, as `exact` matchers); each distinct matcher of a draft-08
 * one (also in the draft-07 form, its value as the topic selector). One draft-07 event per
 * topic, one draft-08 event per matcher type and value.
 */
function subjectsOf(subscriber: Subscriber, request: SubscribeRequest): AnnouncedSubject[] {
  const { matchers } = request;
  if (matchers === undefined) {
    return subscriber.selectors.map((selector) => ({
      topic: selector.source,
      matchType: selector.kind === 'template' ? undefined : 'exact',
      payload: request.payload,
    }));
  }
  const subjects: AnnouncedSubject[] = [];
  const seen = new Set<string>();
  for (const matcher of matchers) {
    const key = `${matcher.matchType}\u0000${matcher.match}`;
    if (seen.has(key)) continue;
    seen.add(key);
    subjects.push({
      topic: matcher.match,
      matchType: matcher.matchType,
      payload: matcher.payload === undefined ? request.payload : matcher.payload,
    });
  }
  return subjects;
}
