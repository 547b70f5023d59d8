/** One topic's counts in the sketch. */
interface TopicCounts {
  /** Updates and deliveries since the last tick. */
  updates: number;
  deliveries: number;
  /** Per second, smoothed over the last few ticks. */
  updatesPerSecond: number;
  deliveriesPerSecond: number;
}

export interface TopicRate {
  readonly topic: string;
  readonly updatesPerSecond: number;
  readonly deliveriesPerSecond: number;
}

// Each tick keeps half of the previous rate: a burst fades over a few seconds, not at once.
const SMOOTHING = 0.5;
// Below this a topic is forgotten.
const NEGLIGIBLE_PER_SECOND = 0.01;

/**
 * The topics that receive the most updates, in bounded memory and constant time per update,
 * however many topics there are: a heavy-hitters sketch of at most `capacity` topics. When it is
 * full, a new topic makes room by evicting the less active half at once (a sort of `capacity`
 * entries every `capacity / 2` new topics: amortised O(log capacity) per update). A topic that
 * receives a steady share of the updates stays; the rare ones come and go, which is what a
 * "busiest" list needs.
 */
export class TopicRates {
  readonly #capacity: number;
  readonly #counts = new Map<string, TopicCounts>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Counts one dispatched update on each of its topics. */
  count(topics: readonly string[], deliveries: number): void {
    for (const topic of topics) {
      let counts = this.#counts.get(topic);
      if (counts === undefined) {
        if (this.#counts.size >= this.#capacity) this.#evictHalf();
        counts = { updates: 0, deliveries: 0, updatesPerSecond: 0, deliveriesPerSecond: 0 };
        this.#counts.set(topic, counts);
      }
      counts.updates++;
      counts.deliveries += deliveries;
    }
  }

  /** Closes one interval of `elapsedMs`: folds its counts into the rates, forgets idle topics. */
  tick(elapsedMs: number): void {
    if (elapsedMs <= 0) return;
    const perSecond = 1000 / elapsedMs;
    for (const [topic, counts] of this.#counts) {
      counts.updatesPerSecond =
        counts.updatesPerSecond * SMOOTHING + counts.updates * perSecond * (1 - SMOOTHING);
      counts.deliveriesPerSecond =
        counts.deliveriesPerSecond * SMOOTHING + counts.deliveries * perSecond * (1 - SMOOTHING);
      counts.updates = 0;
      counts.deliveries = 0;
      if (counts.updatesPerSecond < NEGLIGIBLE_PER_SECOND) this.#counts.delete(topic);
    }
  }

  /** Updates per second of `topic`, 0 when it is not among the busiest. */
  rateOf(topic: string): TopicRate | undefined {
    const counts = this.#counts.get(topic);
    if (counts === undefined) return undefined;
    return {
      topic,
      updatesPerSecond: counts.updatesPerSecond,
      deliveriesPerSecond: counts.deliveriesPerSecond,
    };
  }

  /** The topics the sketch holds. */
  topics(): IterableIterator<string> {
    return this.#counts.keys();
  }

  #evictHalf(): void {
    const activity = (counts: TopicCounts) => counts.updatesPerSecond + counts.updates;
    const ranked = [...this.#counts].sort((a, b) => activity(b[1]) - activity(a[1]));
    for (const [topic] of ranked.slice(Math.floor(this.#capacity / 2))) this.#counts.delete(topic);
  }
}
