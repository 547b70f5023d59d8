/**
 * Why the client stopped, or why one attempt failed. Codes are stable: once shipped, a code
 * keeps its meaning and is never reused.
 */
export type ClientErrorCode =
  /** The hub answered 204 No Content: it asks this client not to reconnect. */
  | 'HERALD_CLIENT_ERR_NO_CONTENT'
  /** The hub answered 401, and a fresh token (when one could be had) did not help. */
  | 'HERALD_CLIENT_ERR_UNAUTHORIZED'
  /** The hub answered 403, and a fresh token (when one could be had) did not help. */
  | 'HERALD_CLIENT_ERR_FORBIDDEN'
  /** Any other status that retrying cannot fix (4xx but 408 and 429), or a refused publish. */
  | 'HERALD_CLIENT_ERR_HTTP_STATUS'
  /** A 200 answer that is not `text/event-stream`. */
  | 'HERALD_CLIENT_ERR_CONTENT_TYPE'
  /** A line or an event longer than `maxBufferSize`. */
  | 'HERALD_CLIENT_ERR_BUFFER_LIMIT'
  /** The request failed before any answer: network down, DNS, connection reset, stall. */
  | 'HERALD_CLIENT_ERR_NETWORK'
  /** The hub answered with a status worth retrying (408, 429, 5xx). */
  | 'HERALD_CLIENT_ERR_RETRYABLE_STATUS'
  /** No byte arrived for `stallTimeout` milliseconds, not even a heartbeat comment. */
  | 'HERALD_CLIENT_ERR_STALLED'
  /** The token or headers function threw or rejected. */
  | 'HERALD_CLIENT_ERR_CREDENTIALS'
  /** An event handler threw; the subscription goes on. */
  | 'HERALD_CLIENT_ERR_HANDLER'
  /** An option is invalid; reported when the subscription or publish is created. */
  | 'HERALD_CLIENT_ERR_INVALID_OPTION';

/** The hub's RFC 9457 problem document, as Herald sends it with every error. */
export interface Problem {
  readonly type?: string | undefined;
  readonly title?: string | undefined;
  readonly status?: number | undefined;
  /** Herald's stable error code, e.g. `HERALD_ERR_FORBIDDEN` (see the hub's docs/errors.md). */
  readonly code?: string | undefined;
  readonly detail?: string | undefined;
}

export interface HeraldClientErrorOptions {
  readonly status?: number | undefined;
  readonly problem?: Problem | undefined;
  readonly cause?: unknown;
}

/** Every error the client reports or throws. */
export class HeraldClientError extends Error {
  override readonly name = 'HeraldClientError';
  readonly code: ClientErrorCode;
  /** The HTTP status of the answer that caused the error, when there was one. */
  readonly status: number | undefined;
  /** The hub's problem document, when the answer carried one. */
  readonly problem: Problem | undefined;

  constructor(code: ClientErrorCode, message: string, options: HeraldClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.problem = options.problem;
  }

  /** The hub's own error code (`HERALD_ERR_…`) from its problem document, if any. */
  get hubCode(): string | undefined {
    return this.problem?.code;
  }
}

/**
 * Reads a problem document from an error answer. Never throws: a body that is missing, not
 * JSON, or too large to matter gives `undefined`.
 */
export async function readProblem(response: Response): Promise<Problem | undefined> {
  const mediaType = response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/problem+json' && mediaType !== 'application/json') {
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(await response.text());
    if (typeof value !== 'object' || value === null) return undefined;
    const fields = value as Record<string, unknown>;
    const text = (name: string) => (typeof fields[name] === 'string' ? fields[name] : undefined);
    return {
      type: text('type'),
      title: text('title'),
      status: typeof fields['status'] === 'number' ? fields['status'] : undefined,
      code: text('code'),
      detail: text('detail'),
    };
  } catch {
    return undefined;
  }
}

/** The error a non-2xx answer turns into, with the hub's problem document when it sent one. */
export function statusError(
  status: number,
  problem: Problem | undefined,
  what: string,
): HeraldClientError {
  const code: ClientErrorCode =
    status === 401
      ? 'HERALD_CLIENT_ERR_UNAUTHORIZED'
      : status === 403
        ? 'HERALD_CLIENT_ERR_FORBIDDEN'
        : isRetryableStatus(status)
          ? 'HERALD_CLIENT_ERR_RETRYABLE_STATUS'
          : 'HERALD_CLIENT_ERR_HTTP_STATUS';
  const because = problem?.detail ?? problem?.title;
  const message = `${what}: the hub answered ${status}${because === undefined ? '' : ` (${because})`}.`;
  return new HeraldClientError(code, message, { status, problem });
}

/** 408, 429 and 5xx are worth retrying; other 4xx would fail the same way again. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
