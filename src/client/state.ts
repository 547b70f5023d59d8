/**
 * - `connecting`: the first connection attempt is under way.
 * - `open`: the hub answered with an event stream; events flow.
 * - `reconnecting`: the stream was lost (or an attempt failed); waiting for the backoff delay,
 *   or a new attempt is under way.
 * - `closed`: final. Nothing runs any more: no request, no timer.
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** What a `state` listener receives. */
export interface StateChange {
  readonly from: ConnectionState;
  readonly to: ConnectionState;
  /** Why the connection left `open` or `connecting`, or why it closed; none for `close()`. */
  readonly error?: Error | undefined;
  /**
   * On `open`: the hub's `Last-Event-ID` (draft-08: `Mercure-Last-Event-ID`) answer when the request resumed, i.e. the id it resumed
   * after, or `earliest` when it did not know the id sent (history trimmed, or another hub): then
   * events may have been missed, and the application should refetch its state.
   */
  readonly resumedAfter?: string | undefined;
}

const TRANSITIONS: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  connecting: ['open', 'reconnecting', 'closed'],
  open: ['reconnecting', 'closed'],
  reconnecting: ['open', 'closed'],
  closed: [],
};

/** The connection's state and the only place that changes it; illegal moves are bugs. */
export class StateMachine {
  #state: ConnectionState = 'connecting';
  readonly #listeners = new Set<(change: StateChange) => void>();

  get state(): ConnectionState {
    return this.#state;
  }

  /** Moves to `to` and tells every listener; staying in the same state is a no-op. */
  moveTo(to: ConnectionState, error?: Error, resumedAfter?: string): void {
    const from = this.#state;
    if (from === to) return;
    if (!TRANSITIONS[from].includes(to)) {
      throw new Error(`Herald client bug: no transition from ${from} to ${to}`);
    }
    this.#state = to;
    const change: StateChange = { from, to, error, resumedAfter };
    for (const listener of [...this.#listeners]) listener(change);
  }

  listen(listener: (change: StateChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
