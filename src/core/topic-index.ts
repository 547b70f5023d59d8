import type { PopularTopics } from './popular-topics.ts';
import type { Subscriber } from './subscriber.ts';

/**
 * Finds the subscribers an update may concern without looking at all of them: exact selectors
 * are keys of a map, and only subscribers with a template or `*` selector are tested one by
 * one. A publish therefore costs O(subscribers of its topics + pattern subscribers).
 */
export class TopicIndex {
  readonly #byTopic = new Map<string, Set<Subscriber>>();
  readonly #withPatterns = new Set<Subscriber>();
  /** When the dashboard asks for it: the most subscribed exact topics, kept as counts change. */
  readonly #popular: PopularTopics | undefined;
  #size = 0;

  constructor(popular?: PopularTopics) {
    this.#popular = popular;
  }

  get size(): number {
    return this.#size;
  }

  get topicCount(): number {
    return this.#byTopic.size;
  }

  add(subscriber: Subscriber): void {
    this.#size++;
    for (const selector of subscriber.selectors) {
      if (selector.kind !== 'exact') {
        this.#withPatterns.add(subscriber);
        continue;
      }
      let subscribers = this.#byTopic.get(selector.source);
      if (subscribers === undefined) {
        subscribers = new Set();
        this.#byTopic.set(selector.source, subscribers);
      }
      subscribers.add(subscriber);
      this.#popular?.offer(selector.source, subscribers.size);
    }
  }

  delete(subscriber: Subscriber): void {
    this.#size--;
    this.#withPatterns.delete(subscriber);
    for (const selector of subscriber.selectors) {
      const subscribers = this.#byTopic.get(selector.source);
      if (subscribers === undefined) continue;
      subscribers.delete(subscriber);
      if (subscribers.size === 0) this.#byTopic.delete(selector.source);
      this.#popular?.offer(selector.source, subscribers.size);
    }
  }

  /** Subscribers whose selectors include exactly `topic` (templates and `*` not counted). */
  subscribersOf(topic: string): number {
    return this.#byTopic.get(topic)?.size ?? 0;
  }

  /**
   * Calls `visit` for every subscriber that may match one of `topics`. A subscriber can be
   * visited more than once; the caller deduplicates (see Subscriber.lastDispatch).
   */
  forCandidates(topics: readonly string[], visit: (subscriber: Subscriber) => void): void {
    for (const topic of topics) {
      const subscribers = this.#byTopic.get(topic);
      if (subscribers !== undefined) for (const subscriber of subscribers) visit(subscriber);
    }
    for (const subscriber of this.#withPatterns) visit(subscriber);
  }
}
