/**
 * The one catalog of errors Herald reports to clients. Every code is stable: once shipped it
 * keeps its meaning and is never reused. `docs/errors.md` documents each one, and a test keeps
 * the two in step.
 */
export const ERROR_CATALOG = {
  HERALD_ERR_MISSING_TOPIC: { status: 400, title: 'At least one topic is required' },
  HERALD_ERR_INVALID_ID: { status: 400, title: 'Invalid update id' },
  HERALD_ERR_INVALID_TYPE: { status: 400, title: 'Invalid update type' },
  HERALD_ERR_INVALID_TOPIC: { status: 400, title: 'Invalid topic' },
  HERALD_ERR_RESERVED_TOPIC: { status: 400, title: 'Topic reserved for the hub' },
  HERALD_ERR_INVALID_RETRY: { status: 400, title: 'Invalid retry value' },
  HERALD_ERR_MALFORMED_BODY: { status: 400, title: 'Malformed request body' },
  HERALD_ERR_TOO_MANY_TOPICS: { status: 400, title: 'Too many topics in one update' },
  HERALD_ERR_TOO_MANY_UPDATES: { status: 400, title: 'Too many updates in one batch' },
  HERALD_ERR_TOO_MANY_SELECTORS: { status: 400, title: 'Too many topic selectors' },
  HERALD_ERR_SELECTOR_TOO_LARGE: { status: 400, title: 'Topic selector too large' },
  HERALD_ERR_MALFORMED_REQUEST: { status: 400, title: 'Malformed HTTP request' },
  HERALD_ERR_MALFORMED_PATH: { status: 400, title: 'Request path not in normal form' },
  HERALD_ERR_UNKNOWN_MATCHER: { status: 400, title: 'Unknown topic matcher parameter' },
  HERALD_ERR_INVALID_MATCHER: { status: 400, title: 'Invalid topic matcher' },
  HERALD_ERR_MATCHER_TOO_LONG: { status: 400, title: 'Topic matcher too long' },
  HERALD_ERR_MATCHER_TOO_COMPLEX: { status: 400, title: 'Topic matcher too complex' },
  HERALD_ERR_MIXED_DIALECTS: { status: 400, title: 'Draft-07 and draft-08 parameters mixed' },
  HERALD_ERR_DIALECT_NOT_SERVED: { status: 400, title: 'Protocol dialect not served' },
  HERALD_ERR_TOKEN_PRESENTATION: { status: 400, title: 'Token presented in a way not accepted' },
  HERALD_ERR_UNAUTHORIZED: { status: 401, title: 'Authorization required' },
  HERALD_ERR_INVALID_TOKEN: { status: 401, title: 'Invalid token' },
  HERALD_ERR_FORBIDDEN: { status: 403, title: 'Not allowed' },
  HERALD_ERR_CSRF: { status: 403, title: 'Cross-site request refused' },
  HERALD_ERR_NOT_FOUND: { status: 404, title: 'Not found' },
  HERALD_ERR_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  HERALD_ERR_REQUEST_TIMEOUT: { status: 408, title: 'Request not received in time' },
  HERALD_ERR_DUPLICATE_ID: { status: 409, title: 'An update with this id already exists' },
  HERALD_ERR_BODY_TOO_LARGE: { status: 413, title: 'Request body too large' },
  HERALD_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported content type' },
  HERALD_ERR_TOO_MANY_STREAMS: { status: 429, title: 'Too many open streams from this client' },
  HERALD_ERR_RATE_LIMITED: { status: 429, title: 'Publish rate limit exceeded' },
  HERALD_ERR_PRESENCE_RATE_LIMITED: {
    status: 429,
    title: 'Subscription event rate limit exceeded',
  },
  HERALD_ERR_HEADERS_TOO_LARGE: { status: 431, title: 'Request headers too large' },
  HERALD_ERR_BACKEND_UNAVAILABLE: { status: 503, title: 'History backend unavailable' },
  HERALD_ERR_SHUTTING_DOWN: { status: 503, title: 'Hub is shutting down' },
  HERALD_ERR_KEYS_UNAVAILABLE: { status: 503, title: 'Token keys unavailable' },
  HERALD_ERR_INTERNAL: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/**
 * Why a token was refused: the `reason` of a `HERALD_ERR_INVALID_TOKEN` problem. Stable like the
 * codes; `docs/errors.md` lists them and a test keeps the two in step.
 */
export const TOKEN_REFUSAL_REASONS = [
  'malformed',
  'algorithm-not-allowed',
  'bad-signature',
  'unknown-key',
  'expired',
  'not-yet-valid',
  'wrong-issuer',
  'wrong-audience',
  'invalid-claims',
  // Draft-08 access tokens (RFC 9068):
  'wrong-type',
  'unknown-issuer',
  'missing-claim',
  'invalid-authorization-details',
] as const;

/**
 * The RFC 6750 answer a draft-08 request gets: `{}` is the bare challenge (no token was sent),
 * otherwise the `error` the `WWW-Authenticate: Bearer` challenge carries.
 */
export interface BearerChallenge {
  readonly error?: 'invalid_token' | 'insufficient_scope' | 'invalid_request';
}

export type TokenRefusalReason = (typeof TOKEN_REFUSAL_REASONS)[number];

/** An error meant for a client: a stable code, its HTTP status and a human explanation. */
export class HeraldError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  /** For `HERALD_ERR_INVALID_TOKEN`: which check the token failed. */
  readonly reason: TokenRefusalReason | undefined;
  /** For 429 and 503 answers: whole seconds (at least 1) before a retry may succeed. */
  readonly retryAfterSeconds: number | undefined;
  /**
   * Set on the refusals of draft-08 requests: the answer carries an RFC 6750 challenge (with the
   * hub's `resource_metadata`) besides the problem document. Draft-07 answers have none.
   */
  readonly challenge: BearerChallenge | undefined;

  constructor(
    code: ErrorCode,
    detail: string,
    options?: {
      cause?: unknown;
      reason?: TokenRefusalReason | undefined;
      retryAfterSeconds?: number;
      challenge?: BearerChallenge | undefined;
    },
  ) {
    super(detail, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HeraldError';
    this.code = code;
    this.status = ERROR_CATALOG[code].status;
    this.title = ERROR_CATALOG[code].title;
    this.reason = options?.reason;
    this.challenge = options?.challenge;
    this.retryAfterSeconds =
      options?.retryAfterSeconds === undefined
        ? undefined
        : Math.max(1, Math.ceil(options.retryAfterSeconds));
  }
}

export function isHeraldError(error: unknown): error is HeraldError {
  return error instanceof HeraldError;
}
