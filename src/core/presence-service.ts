import type { Backend } from './backend.ts';
import { EARLIEST } from './backend.ts';
import type { HubObserver, SubscribeRequest } from './hub.ts';
import { matchSubscriptionDocument, matchSubscriptionEvent } from './match-subscription-events.ts';
import { Presence } from './presence.ts';
import type { Subscriber } from './subscriber.ts';
import { subscriptionDocument, subscriptionEvent } from './subscription-events.ts';
import type { NewUpdate, Update } from './update.ts';
import type { MatchType } from './url-pattern.ts';

export interface PresenceServiceOptions {
  /** Told when a subscription event cannot be stored; the subscription itself goes on. */
  readonly onError?: ((error: unknown) => void) | undefined;
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
 * start-up, and, on a store this process has alone (`capabilities.exclusive`), ends what history
 * shows open: an earlier run that crashed left it.
 * The hub knows nothing of it: it tells its observer (this) of every subscription and update.
 */
export class PresenceService implements HubObserver {
  /** The active subscriptions of every node, as the subscription API answers them. */
  readonly subscriptions = new Presence();
  readonly #backend: Backend;
  readonly #options: PresenceServiceOptions;
  readonly #announced = new Map<Subscriber, Announcement>();
  /** Subscription events being stored, awaited by `settle()` before the backend closes. */
  readonly #inFlight = new Set<Promise<void>>();
  constructor(backend: Backend, options: PresenceServiceOptions = {}) {
    this.#backend = backend;
    this.#options = options;
  }

  /**
   * At start-up, before serving: fills the set from history (so that a
   * node joining a running cluster lists what the others announced before it started, as long as
   * history still holds their start), and, on a store this process has alone, ends what an
   * earlier run left open. Resolves with how many subscriptions it ended so.
   */
  async start(): Promise<number> {
    const history = await this.#backend.readAfter(EARLIEST);
    await this.subscriptions.warmUp(history.updates);
    const ended = this.#backend.capabilities.exclusive ? await this.#endOrphans() : 0;
    // With no history, a client resuming from the API's first lastEventID replays nothing.
    this.subscriptions.seed(await this.#backend.lastEventId());
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

  /** After the hub's streams have ended: stores their ends. Before the backend closes. */
  async close(): Promise<void> {
    await this.settle();
  }

  /**
   * For a store this process has alone, after loading: every subscription still listed was left
   * open by an earlier run that crashed and could not announce its end. Announces it, so that
   * the API and clients replaying history see them end.
   */
  async #endOrphans(): Promise<number> {
    const orphans = this.subscriptions.list();
    const matchOrphans = this.subscriptions.listMatches();
    if (orphans.length + matchOrphans.length > 0) {
      await this.#backend.append([
        ...orphans.map((document) => subscriptionEvent({ ...document, active: false })),
        ...matchOrphans.map((document) => matchSubscriptionEvent({ ...document, active: false })),
      ]);
    }
    return orphans.length;
  }

  async #announceStart(announcement: Announcement): Promise<void> {
    try {
      await this.#backend.append(eventsOf(announcement, true));
    } catch (error) {
      this.#options.onError?.(error);
    }
  }

  async #announceEnd(announcement: Announcement): Promise<void> {
    try {
      await this.#backend.append(eventsOf(announcement, false));
    } catch (error) {
      this.#options.onError?.(error);
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
