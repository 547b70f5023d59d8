/**
 * The buffer behind one async iterator of a subscription: events pushed while nobody awaits
 * wait here, in order; `end()` lets the consumer drain what is left, then finish (or throw the
 * error that stopped the subscription).
 */
export class EventQueue<T> implements AsyncIterator<T, undefined> {
  /** Items not yet taken start at `#head`: taking one is O(1), however long the backlog. */
  #items: T[] = [];
  #head = 0;
  #ended = false;
  #error: Error | undefined;
  #waiter:
    | { resolve: (result: IteratorResult<T, undefined>) => void; reject: (e: Error) => void }
    | undefined;
  readonly #onReturn: () => void;

  /** `onReturn` runs when the consumer stops early (`break` out of `for await`). */
  constructor(onReturn: () => void) {
    this.#onReturn = onReturn;
  }

  push(item: T): void {
    if (this.#ended) return;
    const waiter = this.#waiter;
    if (waiter === undefined) {
      this.#items.push(item);
      return;
    }
    this.#waiter = undefined;
    waiter.resolve({ done: false, value: item });
  }

  end(error?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter === undefined) return;
    const failure = this.#takeError();
    if (failure === undefined) waiter.resolve({ done: true, value: undefined });
    else waiter.reject(failure);
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#head < this.#items.length) {
      const value = this.#items[this.#head] as T;
      this.#head++;
      if (this.#head === this.#items.length) {
        this.#items = [];
        this.#head = 0;
      } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.#ended) {
      const failure = this.#takeError();
      return failure === undefined
        ? Promise.resolve({ done: true, value: undefined })
        : Promise.reject(failure);
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T, undefined>> {
    this.#items = [];
    this.#head = 0;
    this.end();
    this.#onReturn();
    return Promise.resolve({ done: true, value: undefined });
  }

  /** The error is thrown once; the iterator is done after that. */
  #takeError(): Error | undefined {
    const error = this.#error;
    this.#error = undefined;
    return error;
  }
}
