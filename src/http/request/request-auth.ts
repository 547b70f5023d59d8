import type { Dialect } from '../../core/dialect.ts';
import type { Grants } from '../../auth/grants.ts';
import { ANONYMOUS } from '../../auth/grants.ts';
import { findToken } from '../../auth/token-source.ts';
import type { FoundToken } from '../../auth/token-source.ts';
import { tokenDialect } from '../../auth/token-verifier.ts';
import type { TokenRole } from '../../auth/token-verifier.ts';
import { HeraldError } from '../../core/errors.ts';
import type { BearerChallenge } from '../../core/errors.ts';
import type { RouteContext } from '../context.ts';
import { hubIdentity } from './hub-identity.ts';
import type { HubRequest } from '../http-message.ts';

export interface AuthorizeOptions {
  readonly role: TokenRole;
  /** The request's dialect by its shape; `undefined` when its shape does not tell. */
  readonly dialect: Dialect | undefined;
  /** False where anonymous access is allowed: no token then means public-only grants. */
  readonly requireToken: boolean;
  /** The refusal when a required token is missing. */
  readonly missingToken: string;
}

export interface Authorization {
  readonly grants: Grants;
  /** The token and where it came from; `undefined` for an anonymous request. */
  readonly found: FoundToken | undefined;
  /**
   * The dialect the request's answers follow: the request's own, else its token's. Draft-08
   * refusals carry an RFC 6750 challenge (see `withChallenge`).
   */
  readonly dialect: Dialect | undefined;
}

/**
 * Finds and verifies a request's token. The `authorization` query parameter is draft-07's: a
 * draft-08 request carrying it is refused (400 invalid_request) whatever else it carries, as is
 * a draft-08 access token put there, and the hub may switch it off (`queryToken: false`).
 * Draft-08 requests read only the draft-08 cookie.
 *
 * Answers at once, without a promise, when nothing needs to wait: an anonymous request, or a
 * token the verifier has verified before for the same use (see verified-token-cache.ts).
 */
export function authorize(
  context: RouteContext,
  req: HubRequest,
  url: URL,
  options: AuthorizeOptions,
): Authorization | Promise<Authorization> {
  const { config } = context;
  const { dialect } = options;
  if (dialect === '08' && url.searchParams.has('authorization')) {
    throw new HeraldError(
      'HERALD_ERR_TOKEN_PRESENTATION',
      `A draft-08 request may not carry a token in its URL (RFC 9700): send it in the Authorization header or the ${config.accessTokenCookie} cookie.`,
      { challenge: { error: 'invalid_request' } },
    );
  }
  const cookieNames =
    dialect === '08' ? [config.accessTokenCookie] : [config.accessTokenCookie, config.cookieName];
  const found = findToken(req.headers, url.searchParams, { cookieNames });
  if (found === undefined) {
    if (!options.requireToken) return { grants: ANONYMOUS, found, dialect };
    throw new HeraldError('HERALD_ERR_UNAUTHORIZED', options.missingToken, {
      challenge: dialect === '07' ? undefined : {},
    });
  }
  const answerDialect = dialect ?? tokenDialect(found.token);
  if (found.source === 'query') {
    if (answerDialect === '08') {
      throw new HeraldError(
        'HERALD_ERR_TOKEN_PRESENTATION',
        'A draft-08 access token may not be carried in the URL (RFC 9700): send it in the Authorization header or the cookie.',
        { challenge: { error: 'invalid_request' } },
      );
    }
    if (!config.queryToken) {
      throw new HeraldError(
        'HERALD_ERR_TOKEN_PRESENTATION',
        'This hub does not accept tokens in the authorization query parameter: send the token in the Authorization header or a cookie.',
      );
    }
  }
  const identity = hubIdentity(config, req);
  const tokenContext = { resource: identity.resource, hubUrl: identity.hubUrl, dialect };
  const known = context.verifier.verifiedBefore(found.token, options.role, tokenContext);
  if (known !== undefined) return { grants: known, found, dialect: answerDialect };
  return context.verifier.verify(found.token, options.role, tokenContext).then(
    (grants) => ({ grants, found, dialect: answerDialect }),
    (error: unknown) => {
      throw answerDialect === '08' ? withChallenge(error) : error;
    },
  );
}

const CHALLENGES: Partial<Record<HeraldError['code'], BearerChallenge>> = {
  HERALD_ERR_UNAUTHORIZED: {},
  HERALD_ERR_INVALID_TOKEN: { error: 'invalid_token' },
  HERALD_ERR_FORBIDDEN: { error: 'insufficient_scope' },
  HERALD_ERR_TOKEN_PRESENTATION: { error: 'invalid_request' },
};

/**
 * The same refusal with the RFC 6750 challenge its code calls for, for a draft-08 request;
 * errors that are not about the token pass unchanged.
 */
export function withChallenge(error: unknown): unknown {
  if (!(error instanceof HeraldError) || error.challenge !== undefined) return error;
  const challenge = CHALLENGES[error.code];
  if (challenge === undefined) return error;
  return new HeraldError(error.code, error.message, {
    cause: error.cause,
    reason: error.reason,
    challenge,
  });
}

/** The `WWW-Authenticate` value of a challenge, pointing to the hub's metadata (RFC 9728 §5.1). */
export function bearerChallenge(challenge: BearerChallenge, metadataUrl: string): string {
  const parameters = [
    ...(challenge.error === undefined ? [] : [`error="${challenge.error}"`]),
    `resource_metadata="${metadataUrl}"`,
  ];
  return `Bearer ${parameters.join(', ')}`;
}
