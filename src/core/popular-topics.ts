/**
 * The exact topics with the most subscribers, kept as they change rather than found by looking
 * at every topic: the topic index offers a topic each time its subscriber count changes, and
 * this keeps the `capacity` largest it was offered. Each offer costs a map lookup and a
 * comparison; only a topic that beats the smallest member costs a pass over the members (a
 * few dozen). Approximate in one way: a topic that was left out while smaller comes back only
 * when its own count next changes.
 */
export class PopularTopics {
  readonly #capacity: number;
  /** Member topics and their subscriber counts, exact for members. */
  readonly #members = new Map<string, number>();
  /** The smallest count among the members once full: an offer at or below it is ignored. */
  #floor = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Tells the current subscriber count of `topic`; 0 forgets it. */
  offer(topic: string, count: number): void {
    const members = this.#members;
    if (count === 0) {
      members.delete(topic);
      if (members.size < this.#capacity) this.#floor = 0;
      return;
    }
    if (members.has(topic)) {
      members.set(topic, count);
      if (count < this.#floor) this.#floor = count;
      return;
    }
    if (members.size < this.#capacity) {
      members.set(topic, count);
      if (members.size === this.#capacity) this.#floor = this.#smallest()[1];
      return;
    }
    if (count <= this.#floor) return;
    members.delete(this.#smallest()[0]);
    members.set(topic, count);
    this.#floor = this.#smallest()[1];
  }

  /** The members, most subscribed first. */
  top(limit: number): [topic: string, subscribers: number][] {
    return [...this.#members].sort((a, b) => b[1] - a[1]).slice(0, limit);
  }

  #smallest(): [string, number] {
    let smallest: [string, number] = ['', Number.POSITIVE_INFINITY];
    for (const member of this.#members) if (member[1] < smallest[1]) smallest = member;
    return smallest;
  }
}
