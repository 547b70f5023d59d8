import type { TestContext } from 'node:test';
import type { EventSourceMessage } from 'eventsource-parser';
import { createParser } from 'eventsource-parser';
import { fetch } from 'undici';
import type { Headers } from 'undici';
import { WAIT_TIMEOUT_MS } from './wait.ts';

export interface StreamEvent {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: string;
}

/**
 * A subscriber over undici's fetch, parsing with eventsource-parser (an SSE parser independent
 * of Herald's encoder), that collects events and lets a test wait for them.
 */
export class EventStream {
  readonly status: number;
  readonly headers: Headers;
  readonly events: StreamEvent[] = [];
  /** Comments seen (heartbeats, the opening comment). */
  comments = 0;
  #ended = false;
  #waiters: (() => void)[] = [];
  readonly #abort: AbortController;
  readonly done: Promise<void>;

  private constructor(
    status: number,
    headers: Headers,
    abort: AbortController,
    body: ReadableStream<Uint8Array> | null,
  ) {
    this.status = status;
    this.headers = headers;
    this.#abort = abort;
    const parser = createParser({
      onEvent: (message: EventSourceMessage) => {
        this.events.push({ id: message.id, event: message.event, data: message.data });
        this.#wake();
      },
      onComment: () => {
        this.comments++;
        this.#wake();
      },
    });
    this.done = (async () => {
      if (body === null) return;
      const decoder = new TextDecoder();
      try {
        for await (const chunk of body) parser.feed(decoder.decode(chunk, { stream: true }));
      } catch {
        // Aborted by the test or cut by the server: either way the stream has ended.
      } finally {
        this.#ended = true;
        this.#wake();
      }
    })();
  }

  /** Opens a stream; when the answer is not 200 the body is read as text into `errorBody`. */
  static async open(
    t: TestContext,
    url: string,
    headers: Record<string, string> = {},
  ): Promise<EventStream & { errorBody?: string }> {
    const abort = new AbortController();
    const response = await fetch(url, { headers, signal: abort.signal });
    if (response.status !== 200) {
      const stream = new EventStream(response.status, response.headers, abort, null);
      return Object.assign(stream, { errorBody: await response.text() });
    }
    const stream = new EventStream(
      response.status,
      response.headers,
      abort,
      response.body as ReadableStream<Uint8Array> | null,
    );
    t.after(() => {
      stream.close();
    });
    await stream.until(() => stream.comments > 0, 'the opening comment');
    return stream;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Resolves once `count` events have arrived; fails after `timeoutMs`. */
  async waitForEvents(count: number, timeoutMs = WAIT_TIMEOUT_MS): Promise<StreamEvent[]> {
    await this.until(() => this.events.length >= count, `${count} events`, timeoutMs);
    return this.events.slice(0, count);
  }

  async waitForEnd(timeoutMs = WAIT_TIMEOUT_MS): Promise<void> {
    await this.until(() => this.#ended, 'the end of the stream', timeoutMs);
  }

  /**
   * The proof that nothing else came: resolves once the event whose data is `marker` has
   * arrived (an update the test published after whatever must not arrive; the hub delivers
   * in publish order) and returns every event before it.
   */
  async eventsBefore(marker: string, timeoutMs = WAIT_TIMEOUT_MS): Promise<StreamEvent[]> {
    const at = () => this.events.findIndex((event) => event.data === marker);
    await this.until(() => at() >= 0, `the marker "${marker}"`, timeoutMs);
    return this.events.slice(0, at());
  }

  async until(condition: () => boolean, what: string, timeoutMs = WAIT_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (this.#ended && !condition()) {
        throw new Error(`stream ended before ${what} (have ${this.events.length} events)`);
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new Error(`timed out waiting for ${what} (have ${this.events.length} events)`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.#abort.abort();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
