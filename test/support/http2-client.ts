import { once } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http2';
import { connect } from 'node:http2';
import type { ClientHttp2Session, ClientHttp2Stream, OutgoingHttpHeaders } from 'node:http2';
import type { TestContext } from 'node:test';
import { createParser } from 'eventsource-parser';
import type { StreamEvent } from './event-stream.ts';
import { WAIT_TIMEOUT_MS } from './wait.ts';

/** Opens one HTTP/2 connection (ALPN h2) trusting `ca`; destroyed when the test ends. */
export async function connectHttp2(
  t: TestContext,
  origin: string,
  ca: string,
): Promise<ClientHttp2Session> {
  const session = connect(origin, { ca });
  t.after(() => {
    session.destroy();
  });
  await once(session, 'connect');
  return session;
}

export interface Http2Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One request on a session, read to its end. */
export async function http2Request(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  body?: string,
): Promise<Http2Answer> {
  const stream = session.request(headers, { endStream: body === undefined });
  if (body !== undefined) stream.end(body);
  const [responseHeaders] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  stream.setEncoding('utf8');
  let text = '';
  for await (const chunk of stream as AsyncIterable<string>) text += chunk;
  return { status: Number(responseHeaders[':status']), headers: responseHeaders, body: text };
}

/**
 * An event stream on an HTTP/2 connection, parsed with eventsource-parser (independent of
 * Herald's encoder), that collects events and lets a test wait for them.
 */
export class Http2EventStream {
  readonly stream: ClientHttp2Stream;
  readonly headers: IncomingHttpHeaders;
  readonly events: StreamEvent[] = [];
  comments = 0;
  ended = false;
  #wake: () => void = () => undefined;

  private constructor(stream: ClientHttp2Stream, headers: IncomingHttpHeaders) {
    this.stream = stream;
    this.headers = headers;
    const parser = createParser({
      onEvent: (message) => {
        this.events.push({ id: message.id, event: message.event, data: message.data });
        this.#wake();
      },
      onComment: () => {
        this.comments++;
        this.#wake();
      },
    });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      parser.feed(chunk);
    });
    stream.on('close', () => {
      this.ended = true;
      this.#wake();
    });
  }

  get status(): number {
    return Number(this.headers[':status']);
  }

  /** Opens `path` (with its query) on `session`; resolves once the response headers came. */
  static async open(
    session: ClientHttp2Session,
    path: string,
    headers: OutgoingHttpHeaders = {},
  ): Promise<Http2EventStream> {
    const stream = session.request({ ':path': path, ...headers });
    const [responseHeaders] = (await once(stream, 'response')) as [IncomingHttpHeaders];
    return new Http2EventStream(stream, responseHeaders);
  }

  async until(condition: () => boolean, what: string, timeoutMs = WAIT_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const remaining = deadline - Date.now();
      if (this.ended || remaining <= 0) {
        throw new Error(
          `${this.ended ? 'stream ended' : 'timed out'} before ${what} (have ${this.events.length} events)`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  async waitForEvents(count: number, timeoutMs = WAIT_TIMEOUT_MS): Promise<StreamEvent[]> {
    await this.until(() => this.events.length >= count, `${count} events`, timeoutMs);
    return this.events.slice(0, count);
  }

  async waitForEnd(timeoutMs = WAIT_TIMEOUT_MS): Promise<void> {
    await this.until(() => this.ended, 'the end of the stream', timeoutMs);
  }
}
