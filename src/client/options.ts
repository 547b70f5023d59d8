import { HeraldClientError } from './errors.ts';

/** `fetch`, or anything shaped like it (undici's, a test double, a fetch with a proxy agent). */
export type FetchFunction = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** `fetch`'s credentials mode (spelled out: Node's types have no DOM `RequestCredentials`). */
export type CredentialsMode = 'omit' | 'same-origin' | 'include';

/**
 * A bearer token: a value, or a function called before every connection attempt, so that an
 * expiring token can be refreshed. `undefined` sends no `Authorization` header.
 */
export type TokenSource =
  string | (() => string | undefined | Promise<string | undefined>) | undefined;

/** Request headers: a value, or a function called before every connection attempt. */
/**
 * The timer functions the client schedules with (backoff sleeps and the stall watch). Injectable
 * so that a test can see the delays asked for instead of measuring wall-clock gaps, and so that a
 * runtime with its own scheduling can take part.
 */
export interface ClientTimers {
  setTimeout(callback: () => void, milliseconds: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The runtime's own timers, looked up when called (so that fake-timer libraries still work). */
const GLOBAL_TIMERS: ClientTimers = {
  setTimeout: (callback, milliseconds) => globalThis.setTimeout(callback, milliseconds),
  clearTimeout: (handle) => {
    globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>);
  },
};

export type HeadersSource =
  | Readonly<Record<string, string>>
  | (() => Readonly<Record<string, string>> | Promise<Readonly<Record<string, string>>>);

export interface SubscribeOptions {
  /**
   * Draft-08 (Mercure 1.0) exact matchers, sent as `match=`: topics compared byte for byte.
   * With `match` or `match_urlpattern`, `topics` must be empty (a hub refuses both at once).
   */
  readonly match?: string | readonly string[] | undefined;
  /** Draft-08 URL Pattern matchers (`https://example.com/books/:id`), sent as `match_urlpattern=`. */
  readonly match_urlpattern?: string | readonly string[] | undefined;
  /**
   * The `fetch` to use.
   *
   * @defaultValue `globalThis.fetch`, looked up when `subscribe()` is called
   */
  readonly fetch?: FetchFunction | undefined;
  /** Extra request headers, e.g. a custom `Authorization` scheme. */
  readonly headers?: HeadersSource | undefined;
  /** Sent as `Authorization: Bearer <token>`; overrides an `Authorization` from `headers`. */
  readonly token?: TokenSource;
  /**
   * `fetch`'s credentials mode, for the `mercureAuthorization` cookie in browsers.
   *
   * @defaultValue `fetch`'s own (`same-origin`), or `include` when `withCredentials` is true
   */
  readonly credentials?: CredentialsMode | undefined;
  /** EventSource's spelling of `credentials: 'include'`. */
  readonly withCredentials?: boolean | undefined;
  /** Resume after this id from the first connection on (`earliest` replays all history). */
  readonly lastEventId?: string | undefined;
  /** Aborting it closes the subscription, as `close()` does. */
  readonly signal?: AbortSignal | undefined;
  /**
   * The first backoff window, in milliseconds (see `backoffDelay`).
   *
   * @defaultValue `1000`
   */
  readonly initialRetryDelay?: number | undefined;
  /**
   * The largest backoff window, in milliseconds.
   *
   * @defaultValue `30000`
   */
  readonly maxRetryDelay?: number | undefined;
  /**
   * Milliseconds without a single byte (event, heartbeat comment or headers) after which the
   * connection is taken for dead and replaced. Keep it above the hub's heartbeat interval
   * (20 s by default). `null` never gives up on a silent connection.
   *
   * @defaultValue `45000`
   */
  readonly stallTimeout?: number | null | undefined;
  /**
   * The most characters one line or one event may hold. A stream that passes it stops the
   * subscription with `HERALD_CLIENT_ERR_BUFFER_LIMIT` (reconnecting would only fetch the same
   * event again). `null` sets no limit.
   *
   * @defaultValue `4194304` (4 Mi characters: the hub's default publish body is 1 MiB)
   */
  readonly maxBufferSize?: number | null | undefined;
  /**
   * The source of backoff jitter, uniform in [0, 1).
   *
   * @defaultValue `Math.random`
   */
  readonly random?: (() => number) | undefined;
  /**
   * The timers backoff sleeps and the stall watch are scheduled with.
   *
   * @defaultValue the global `setTimeout` and `clearTimeout`
   */
  readonly timers?: ClientTimers | undefined;
}

export interface ResolvedSubscribeOptions {
  readonly fetch: FetchFunction;
  readonly headers: HeadersSource | undefined;
  readonly token: TokenSource;
  readonly credentials: CredentialsMode | undefined;
  readonly lastEventId: string;
  readonly signal: AbortSignal | undefined;
  readonly initialRetryDelay: number;
  readonly maxRetryDelay: number;
  readonly stallTimeout: number | null;
  readonly maxBufferSize: number | null;
  readonly random: () => number;
  readonly timers: ClientTimers;
}

export const SUBSCRIBE_DEFAULTS = Object.freeze({
  initialRetryDelay: 1000,
  maxRetryDelay: 30_000,
  stallTimeout: 45_000,
  maxBufferSize: 4 * 1024 * 1024,
});

/** Defaults applied once and every value checked once, when the subscription is created. */
export function resolveSubscribeOptions(options: SubscribeOptions): ResolvedSubscribeOptions {
  const fetchFunction = options.fetch ?? defaultFetch();
  const initialRetryDelay = positive(
    'initialRetryDelay',
    options.initialRetryDelay ?? SUBSCRIBE_DEFAULTS.initialRetryDelay,
  );
  const maxRetryDelay = positive(
    'maxRetryDelay',
    options.maxRetryDelay ?? SUBSCRIBE_DEFAULTS.maxRetryDelay,
  );
  if (maxRetryDelay < initialRetryDelay) {
    throw invalid('maxRetryDelay must not be smaller than initialRetryDelay.');
  }
  const stallTimeout =
    options.stallTimeout === null
      ? null
      : positive('stallTimeout', options.stallTimeout ?? SUBSCRIBE_DEFAULTS.stallTimeout);
  const maxBufferSize =
    options.maxBufferSize === null
      ? null
      : positive('maxBufferSize', options.maxBufferSize ?? SUBSCRIBE_DEFAULTS.maxBufferSize);
  return {
    fetch: fetchFunction,
    headers: options.headers,
    token: options.token,
    credentials: options.credentials ?? (options.withCredentials === true ? 'include' : undefined),
    lastEventId: options.lastEventId ?? '',
    signal: options.signal,
    initialRetryDelay,
    maxRetryDelay,
    stallTimeout,
    maxBufferSize,
    random: options.random ?? Math.random,
    timers: options.timers ?? GLOBAL_TIMERS,
  };
}

/** `globalThis.fetch`, bound so that browsers do not refuse it as an illegal invocation. */
export function defaultFetch(): FetchFunction {
  if (typeof globalThis.fetch !== 'function') {
    throw invalid('No global fetch here: pass one as the `fetch` option.');
  }
  return globalThis.fetch.bind(globalThis);
}

/**
 * The hub URL and the topics (draft-07 `topic=`) or the matchers (draft-08 `match=`,
 * `match_urlpattern=`), as a subscription URL.
 */
export function subscriptionUrl(
  hubUrl: string | URL,
  topics: string | readonly string[],
  matchers: Pick<SubscribeOptions, 'match' | 'match_urlpattern'> = {},
): URL {
  const list = typeof topics === 'string' ? [topics] : topics;
  const exact = asList(matchers.match);
  const patterns = asList(matchers.match_urlpattern);
  const draft08 = exact.length + patterns.length > 0;
  if (draft08 && list.length > 0) {
    throw invalid(
      'Subscribe with topics (draft-07) or with match / match_urlpattern (draft-08), not both.',
    );
  }
  if (!draft08 && list.length === 0) throw invalid('Subscribe to at least one topic selector.');
  let url: URL;
  try {
    url = new URL(hubUrl);
  } catch (cause) {
    throw new HeraldClientError(
      'HERALD_CLIENT_ERR_INVALID_OPTION',
      `Not a URL: ${String(hubUrl)}`,
      { cause },
    );
  }
  for (const topic of list) url.searchParams.append('topic', topic);
  for (const match of exact) url.searchParams.append('match', match);
  for (const pattern of patterns) url.searchParams.append('match_urlpattern', pattern);
  return url;
}

function asList(value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw invalid(`${name} must be a positive number of milliseconds or characters, not ${value}.`);
  }
  return value;
}

function invalid(message: string): HeraldClientError {
  return new HeraldClientError('HERALD_CLIENT_ERR_INVALID_OPTION', message);
}
