import { setImmediate as nextTurn } from 'node:timers/promises';
import type { MatchSubscriptionDocument } from './match-subscription-events.ts';
import { matchCollectionId, readMatchSubscriptionEvent } from './match-subscription-events.ts';
import type { SubscriptionDocument } from './subscription-events.ts';
import { readSubscriptionEvent } from './subscription-events.ts';
import type { Update } from './update.ts';
import { WORK_SLICE_MS } from './work-slice.ts';

/**
 * The active subscriptions of the whole cluster, derived from the subscription events in the
 * live feed. Every node sees every node's events (Backend.onUpdate), so every node holds the
 * same set and the subscription API answers the same everywhere; nothing is kept only for the
 * subscriptions of this process. Pure: fed update by update, in feed order.
 *
 * Known limit: a node that dies without shutting down cannot publish `active: false` for its
 * subscriptions; they stay listed until they are announced again as ended (see
 * docs/protocol.md, "Active subscriptions").
 */
export class Presence {
  /** Active subscriptions by topic selector, then by id, in the order they started. */
  readonly #byTopic = new Map<string, Map<string, SubscriptionDocument>>();
  /**
   * The same subscriptions in the draft-08 form (every one draft-08 can express), by the id of
   * their matcher's collection, then by id. Not counted in `size`: each is also in `#byTopic`.
   */
  readonly #byMatch = new Map<string, Map<string, MatchSubscriptionDocument>>();
  #size = 0;
  #lastEventId: string | undefined;
  /** While history is read at start-up: the live updates that arrived meanwhile, in order. */
  #warming: Update[] | undefined;

  /** How many subscriptions are active. */
  get size(): number {
    return this.#size;
  }

  /**
   * The id of the last update of the feed applied: the state is exactly that of the feed up to
   * it, so a client resuming after it misses no subscription event. `undefined` before any.
   */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  /**
   * Sets where the feed stood when this node started, unless an update was already seen: a
   * client resuming from it then replays none of the history of earlier runs.
   */
  seed(lastEventId: string | undefined): void {
    this.#lastEventId ??= lastEventId;
  }

  /**
   * Applies history (oldest first), then the live updates that arrived while it was read. The
   * live feed holds every update stored since this node listened, so replaying all of it after
   * history leaves each subscription in the state of its last event, whether or not history
   * also held it (applying an event again changes nothing). Read a slice at a time
   * (`WORK_SLICE_MS`), each in its own turn of the event loop: a store's pages may be read
   * synchronously (SQLite), which alone would hold the loop for the whole history.
   */
  async warmUp(history: AsyncIterable<Update> | Iterable<Update>): Promise<void> {
    const live: Update[] = [];
    this.#warming = live;
    try {
      let sliceStart = performance.now();
      for await (const update of history) {
        this.#apply(update);
        if (performance.now() - sliceStart >= WORK_SLICE_MS) {
          await nextTurn();
          sliceStart = performance.now();
        }
      }
    } finally {
      this.#warming = undefined;
      for (const update of live) this.#apply(update);
    }
  }

  /** Applies one update of the live feed: every update moves `lastEventId`. */
  observe(update: Update): void {
    if (this.#warming !== undefined) {
      this.#warming.push(update);
      return;
    }
    this.#apply(update);
  }

  #apply(update: Update): void {
    this.#lastEventId = update.id;
    const matchDocument = readMatchSubscriptionEvent(update);
    if (matchDocument !== undefined) {
      this.#applyMatch(matchDocument);
      return;
    }
    const document = readSubscriptionEvent(update);
    if (document === undefined) return;
    let forTopic = this.#byTopic.get(document.topic);
    if (document.active) {
      if (forTopic === undefined) {
        forTopic = new Map();
        this.#byTopic.set(document.topic, forTopic);
      }
      if (!forTopic.has(document.id)) this.#size++;
      forTopic.set(document.id, document);
      return;
    }
    if (forTopic?.delete(document.id) !== true) return;
    this.#size--;
    if (forTopic.size === 0) this.#byTopic.delete(document.topic);
  }

  #applyMatch(document: MatchSubscriptionDocument): void {
    const collection = matchCollectionId(document.match_type, document.match);
    let forMatch = this.#byMatch.get(collection);
    if (document.active) {
      if (forMatch === undefined) {
        forMatch = new Map();
        this.#byMatch.set(collection, forMatch);
      }
      forMatch.set(document.id, document);
      return;
    }
    if (forMatch?.delete(document.id) === true && forMatch.size === 0) {
      this.#byMatch.delete(collection);
    }
  }

  /**
   * Draft-08 form: every active subscription, or those of one matcher's collection (by its id,
   * `/.well-known/mercure/subscriptions/{match_type}/{match}`).
   */
  listMatches(collection?: string): MatchSubscriptionDocument[] {
    if (collection !== undefined) return [...(this.#byMatch.get(collection)?.values() ?? [])];
    const all: MatchSubscriptionDocument[] = [];
    for (const forMatch of this.#byMatch.values()) all.push(...forMatch.values());
    return all;
  }

  /** Draft-08 form: one active subscription, by its collection and id. */
  getMatch(collection: string, id: string): MatchSubscriptionDocument | undefined {
    return this.#byMatch.get(collection)?.get(id);
  }

  /** Every active subscription, or those of one topic selector (compared as strings). */
  list(topic?: string): SubscriptionDocument[] {
    if (topic !== undefined) return [...(this.#byTopic.get(topic)?.values() ?? [])];
    const all: SubscriptionDocument[] = [];
    for (const forTopic of this.#byTopic.values()) all.push(...forTopic.values());
    return all;
  }

  /** At most `limit` active subscriptions, without building the whole list. */
  first(limit: number): SubscriptionDocument[] {
    const some: SubscriptionDocument[] = [];
    for (const forTopic of this.#byTopic.values()) {
      for (const document of forTopic.values()) {
        if (some.length === limit) return some;
        some.push(document);
      }
    }
    return some;
  }

  /** One active subscription, by its id. */
  get(topic: string, id: string): SubscriptionDocument | undefined {
    return this.#byTopic.get(topic)?.get(id);
  }
}
