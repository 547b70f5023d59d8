import { backoffDelay } from './backoff.ts';
import { HeraldClientError, readProblem, statusError } from './errors.ts';
import { EventQueue } from './event-queue.ts';
import { createEventStreamDecoder } from './event-stream-decoder.ts';
import { fromHeaderBytes, toHeaderBytes } from './header-bytes.ts';
import type { ResolvedSubscribeOptions, SubscribeOptions } from './options.ts';
import { resolveSubscribeOptions, subscriptionUrl } from './options.ts';
import type { ConnectionState, StateChange } from './state.ts';
import { StateMachine } from './state.ts';

/** An event as the subscription hands it out. */
export interface HeraldEvent {
  /** The update's `type`, or `message` when it has none (as EventSource names it). */
  readonly type: string;
  readonly data: string;
  /**
   * The last id the stream set, as EventSource's `lastEventId`: for every Herald update, the
   * update's own id. `''` before the stream set any.
   */
  readonly id: string;
}

export type EventHandler = (event: HeraldEvent) => void;

/** What `subscribe()` returns: handlers, an async iterator, the state, and `close()`. */
export interface Subscription extends AsyncIterable<HeraldEvent, undefined> {
  /** The connection's state; see {@link ConnectionState}. */
  readonly state: ConnectionState;
  /** The id sent as `Last-Event-ID` on the next connection (`''`: none). */
  readonly lastEventId: string;
  /** The reconnection time the hub last set with a `retry` field, if any. */
  readonly serverRetry: number | undefined;
  /** Why the subscription stopped by itself; `undefined` while it runs or after `close()`. */
  readonly error: HeraldClientError | undefined;
  /** Resolves once the state is `closed`, by `close()`, the signal, or a fatal error. */
  readonly closed: Promise<void>;
  /** Calls `handler` for every event of type `type` (`message` for untyped events). */
  on(type: string, handler: EventHandler): () => void;
  /** Calls `listener` on every state change, with the old and the new state. */
  onState(listener: (change: StateChange) => void): () => void;
  /**
   * Calls `listener` with every error: those the client recovers from by reconnecting, the one
   * that stops it, and exceptions thrown by handlers.
   */
  onError(listener: (error: HeraldClientError) => void): () => void;
  /** Stops everything: the request is aborted, no timer is left, iterators finish. */
  close(): void;
  /**
   * Every event, in order, from the moment the iterator is created. Leaving the loop early
   * (`break`, `return`, a throw) closes the subscription. After a fatal error, the iterator
   * delivers what it holds, then throws that error.
   */
  [Symbol.asyncIterator](): AsyncIterator<HeraldEvent, undefined>;
}

/**
 * Subscribes to `topics` (draft-07 selectors: exact topics, URI templates, or `*`), or with the
 * `match` / `match_urlpattern` options to draft-08 matchers (then `topics` is `[]`), on the hub
 * at `hubUrl`, and keeps the subscription alive until `close()`: reconnects with capped, jittered
 * backoff, resumes with `Last-Event-ID`, refreshes the token once on 401/403, replaces stalled
 * connections.
 *
 * @throws HeraldClientError `HERALD_CLIENT_ERR_INVALID_OPTION` at once for a bad option.
 */
export function subscribe(
  hubUrl: string | URL,
  topics: string | readonly string[],
  options: SubscribeOptions = {},
): Subscription {
  return new HeraldSubscription(
    subscriptionUrl(hubUrl, topics, options),
    resolveSubscribeOptions(options),
  );
}

/** How one connection attempt ended. */
type Outcome =
  | { readonly kind: 'closed' }
  | { readonly kind: 'retry'; readonly opened: boolean; readonly error: HeraldClientError }
  | { readonly kind: 'auth'; readonly error: HeraldClientError }
  | { readonly kind: 'fatal'; readonly error: HeraldClientError };

interface StallWatch {
  /** A byte arrived. */
  touch(): void;
  stop(): void;
  readonly stalled: boolean;
}

class HeraldSubscription implements Subscription {
  readonly #url: URL;
  readonly #options: ResolvedSubscribeOptions;
  readonly #machine = new StateMachine();
  readonly #handlers = new Map<string, Set<EventHandler>>();
  readonly #errorListeners = new Set<(error: HeraldClientError) => void>();
  readonly #queues = new Set<EventQueue<HeraldEvent>>();
  #lastEventId: string;
  #serverRetry: number | undefined;
  #error: HeraldClientError | undefined;
  /** Aborts the attempt under way (request and body). */
  #attempt: AbortController | undefined;
  #sleepTimer: unknown;
  #wakeSleeper: (() => void) | undefined;
  readonly #onAbort = () => {
    this.close();
  };
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;

  constructor(url: URL, options: ResolvedSubscribeOptions) {
    this.#url = url;
    this.#options = options;
    this.#lastEventId = options.lastEventId;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    if (options.signal?.aborted === true) {
      this.close();
      return;
    }
    options.signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#run().catch((cause: unknown) => {
      this.#stop(
        new HeraldClientError('HERALD_CLIENT_ERR_NETWORK', 'The connection loop failed.', {
          cause,
        }),
      );
    });
  }

  get state(): ConnectionState {
    return this.#machine.state;
  }

  get lastEventId(): string {
    return this.#lastEventId;
  }

  get serverRetry(): number | undefined {
    return this.#serverRetry;
  }

  get error(): HeraldClientError | undefined {
    return this.#error;
  }

  on(type: string, handler: EventHandler): () => void {
    let handlers = this.#handlers.get(type);
    if (handlers === undefined) {
      handlers = new Set();
      this.#handlers.set(type, handlers);
    }
    const set = handlers;
    set.add(handler);
    return () => set.delete(handler);
  }

  onState(listener: (change: StateChange) => void): () => void {
    return this.#machine.listen((change) => {
      try {
        listener(change);
      } catch (cause) {
        this.#reportHandlerError(cause);
      }
    });
  }

  onError(listener: (error: HeraldClientError) => void): () => void {
    this.#errorListeners.add(listener);
    return () => this.#errorListeners.delete(listener);
  }

  close(): void {
    this.#stop(undefined);
  }

  [Symbol.asyncIterator](): AsyncIterator<HeraldEvent, undefined> {
    const queue: EventQueue<HeraldEvent> = new EventQueue(() => {
      this.#queues.delete(queue);
      this.close();
    });
    if (this.state === 'closed') queue.end(this.#error);
    else this.#queues.add(queue);
    return queue;
  }

  /** The connection loop: one attempt at a time until closed. */
  async #run(): Promise<void> {
    let attempt = 0; // failed attempts since the stream was last open
    let refreshed = false; // a 401/403 already led to a fresh token since then
    while (!this.#isClosed()) {
      const outcome = await this.#connect();
      if (outcome.kind === 'closed' || this.#isClosed()) return;
      if (outcome.kind === 'retry' && outcome.opened) {
        attempt = 0;
        refreshed = false;
      }
      if (outcome.kind === 'fatal') {
        this.#stop(outcome.error);
        return;
      }
      if (outcome.kind === 'auth') {
        // A fresh token can only come from a function; a fixed one would be refused again.
        if (refreshed || !this.#canRefresh()) {
          this.#stop(outcome.error);
          return;
        }
        refreshed = true;
        this.#report(outcome.error);
        this.#machine.moveTo('reconnecting', outcome.error);
        continue; // at once: the token function runs again before the next request
      }
      this.#report(outcome.error);
      this.#machine.moveTo('reconnecting', outcome.error);
      await this.#sleep(
        backoffDelay(attempt, {
          initialDelay: this.#options.initialRetryDelay,
          maxDelay: this.#options.maxRetryDelay,
          serverRetry: this.#serverRetry,
          random: this.#options.random,
        }),
      );
      attempt++;
    }
  }

  /** One connection attempt, from the credentials to the end of the stream. */
  async #connect(): Promise<Outcome> {
    const controller = new AbortController();
    this.#attempt = controller;
    const stall = this.#watchStall(controller);
    try {
      let headers: Headers;
      try {
        headers = await this.#requestHeaders();
      } catch (cause) {
        return {
          kind: 'retry',
          opened: false,
          error: new HeraldClientError(
            'HERALD_CLIENT_ERR_CREDENTIALS',
            'The token or headers function failed.',
            { cause },
          ),
        };
      }
      if (controller.signal.aborted) return this.#interrupted(stall, undefined, false);
      let response: Response;
      try {
        const init: RequestInit = { headers, signal: controller.signal };
        if (this.#options.credentials !== undefined) init.credentials = this.#options.credentials;
        response = await this.#options.fetch(this.#url, init);
      } catch (cause) {
        return this.#interrupted(stall, cause, false);
      }
      stall.touch();
      if (response.status === 200) return await this.#readStream(response, controller, stall);
      if (response.status === 204) {
        await response.body?.cancel().catch(() => undefined);
        return {
          kind: 'fatal',
          error: new HeraldClientError(
            'HERALD_CLIENT_ERR_NO_CONTENT',
            'The hub answered 204 No Content: it asks this client not to reconnect.',
            { status: 204 },
          ),
        };
      }
      const problem = await readProblem(response).catch(() => undefined);
      const error = statusError(response.status, problem, 'Subscribing failed');
      switch (error.code) {
        case 'HERALD_CLIENT_ERR_UNAUTHORIZED':
        case 'HERALD_CLIENT_ERR_FORBIDDEN':
          return { kind: 'auth', error };
        case 'HERALD_CLIENT_ERR_RETRYABLE_STATUS':
          return { kind: 'retry', opened: false, error };
        default:
          return { kind: 'fatal', error };
      }
    } finally {
      stall.stop();
      controller.abort();
      if (this.#attempt === controller) this.#attempt = undefined;
    }
  }

  async #readStream(
    response: Response,
    controller: AbortController,
    stall: StallWatch,
  ): Promise<Outcome> {
    if (!isEventStream(response.headers.get('content-type'))) {
      await response.body?.cancel().catch(() => undefined);
      return {
        kind: 'fatal',
        error: new HeraldClientError(
          'HERALD_CLIENT_ERR_CONTENT_TYPE',
          `The hub answered 200 with ${response.headers.get('content-type') ?? 'no Content-Type'}, not text/event-stream.`,
          { status: 200 },
        ),
      };
    }
    if (response.body === null) {
      return {
        kind: 'retry',
        opened: false,
        error: new HeraldClientError('HERALD_CLIENT_ERR_NETWORK', 'The hub sent no body.'),
      };
    }
    const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
    // Draft-08 hubs answer Mercure-Last-Event-ID, draft-07 ones Last-Event-ID.
    const resumedAfter =
      response.headers.get('mercure-last-event-id') ?? response.headers.get('last-event-id');
    this.#machine.moveTo(
      'open',
      undefined,
      resumedAfter === null ? undefined : fromHeaderBytes(resumedAfter),
    );
    const decoder = createEventStreamDecoder(
      {
        onId: (id) => {
          this.#lastEventId = id;
        },
        onEvent: (event) => {
          if (controller.signal.aborted) return; // close() from a handler: deliver no more
          this.#dispatch({
            type: event.type ?? 'message',
            data: event.data,
            id: this.#lastEventId,
          });
        },
        onRetry: (milliseconds) => {
          this.#serverRetry = milliseconds;
        },
      },
      this.#options.maxBufferSize,
    );
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        stall.touch();
        if (!decoder.feed(value)) {
          return {
            kind: 'fatal',
            error: new HeraldClientError(
              'HERALD_CLIENT_ERR_BUFFER_LIMIT',
              `A line or an event of the stream passed maxBufferSize (${this.#options.maxBufferSize} characters).`,
            ),
          };
        }
        if (controller.signal.aborted) return this.#interrupted(stall, undefined, true);
      }
      decoder.end();
      return {
        kind: 'retry',
        opened: true,
        error: new HeraldClientError('HERALD_CLIENT_ERR_NETWORK', 'The hub ended the stream.'),
      };
    } catch (cause) {
      return this.#interrupted(stall, cause, true);
    } finally {
      reader.releaseLock();
    }
  }

  /** A request or a read that failed or was aborted: by close(), by the stall timer, or not. */
  #interrupted(stall: StallWatch, cause: unknown, opened: boolean): Outcome {
    if (this.state === 'closed') return { kind: 'closed' };
    if (stall.stalled) {
      return {
        kind: 'retry',
        opened,
        error: new HeraldClientError(
          'HERALD_CLIENT_ERR_STALLED',
          `No byte arrived for ${this.#options.stallTimeout} ms: the connection is replaced.`,
        ),
      };
    }
    return {
      kind: 'retry',
      opened,
      error: new HeraldClientError(
        'HERALD_CLIENT_ERR_NETWORK',
        opened ? 'The stream was cut.' : 'The request failed.',
        { cause },
      ),
    };
  }

  async #requestHeaders(): Promise<Headers> {
    const source = this.#options.headers;
    const headers = new Headers(typeof source === 'function' ? await source() : source);
    headers.set('Accept', 'text/event-stream');
    const token = this.#options.token;
    const value = typeof token === 'function' ? await token() : token;
    if (value !== undefined) headers.set('Authorization', `Bearer ${value}`);
    if (this.#lastEventId !== '') {
      headers.set('Last-Event-ID', toHeaderBytes(this.#lastEventId));
    }
    return headers;
  }

  /** A method, not `this.state`, so that TypeScript does not narrow it across an await. */
  #isClosed(): boolean {
    return this.#machine.state === 'closed';
  }

  #canRefresh(): boolean {
    return typeof this.#options.token === 'function' || typeof this.#options.headers === 'function';
  }

  /**
   * One timer per attempt, re-armed only when it fires (not on every chunk): it compares the
   * time of the last byte with the timeout and aborts the attempt when nothing came.
   */
  #watchStall(controller: AbortController): StallWatch {
    const timeout = this.#options.stallTimeout;
    if (timeout === null) return { touch() {}, stop() {}, stalled: false };
    let last = performance.now();
    let stalled = false;
    const timers = this.#options.timers;
    let timer: unknown;
    const check = () => {
      const idle = performance.now() - last;
      if (idle >= timeout) {
        timer = undefined;
        stalled = true;
        controller.abort();
        return;
      }
      timer = timers.setTimeout(check, timeout - idle);
    };
    timer = timers.setTimeout(check, timeout);
    return {
      touch() {
        last = performance.now();
      },
      stop() {
        timers.clearTimeout(timer);
        timer = undefined;
      },
      get stalled() {
        return stalled;
      },
    };
  }

  #sleep(milliseconds: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.#options.timers.clearTimeout(this.#sleepTimer);
        this.#sleepTimer = undefined;
        this.#wakeSleeper = undefined;
        resolve();
      };
      this.#wakeSleeper = wake;
      this.#sleepTimer = this.#options.timers.setTimeout(wake, milliseconds);
    });
  }

  #dispatch(event: HeraldEvent): void {
    const handlers = this.#handlers.get(event.type);
    if (handlers !== undefined) {
      for (const handler of [...handlers]) {
        try {
          handler(event);
        } catch (cause) {
          this.#reportHandlerError(cause);
        }
      }
    }
    for (const queue of this.#queues) queue.push(event);
  }

  #reportHandlerError(cause: unknown): void {
    this.#report(new HeraldClientError('HERALD_CLIENT_ERR_HANDLER', 'A handler threw.', { cause }));
  }

  #report(error: HeraldClientError): void {
    for (const listener of [...this.#errorListeners]) {
      try {
        listener(error);
      } catch {
        // An error listener that throws has nowhere left to report to.
      }
    }
  }

  /** The one way to `closed`: by `close()` (no error) or by a fatal error. */
  #stop(error: HeraldClientError | undefined): void {
    if (this.state === 'closed') return;
    this.#error = error;
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    this.#attempt?.abort();
    this.#wakeSleeper?.();
    if (error !== undefined) this.#report(error);
    this.#machine.moveTo('closed', error);
    for (const queue of this.#queues) queue.end(error);
    this.#queues.clear();
    this.#resolveClosed();
  }
}

/** `text/event-stream`, parameters and case aside. */
function isEventStream(contentType: string | null): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'text/event-stream';
}
