import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyOptions, ProtectedHeaderParameters } from 'jose';
import { createSecretKey, webcrypto } from 'node:crypto';
import type { JwtAlgorithm } from '../config.ts';
import { HeraldError } from '../core/errors.ts';
import type { TokenRefusalReason } from '../core/errors.ts';
import { compileSelector } from '../core/topic-selector.ts';
import { AuthorizationDetailsError, readAuthorizationDetails } from './authorization-details.ts';
import type { Dialect } from '../core/dialect.ts';
import type { Grants } from './grants.ts';
import type { VerificationKey } from './jwt-key.ts';
import { VerifiedTokenCache } from './verified-token-cache.ts';

export type TokenRole = 'publisher' | 'subscriber';

/** How one role's tokens are verified. */
export interface RoleVerification {
  /** Loaded (and checked against the algorithm) by `loadVerificationKey`. */
  readonly key: VerificationKey;
  /** The one algorithm tokens must be signed with; every other one, `none` included, is refused. */
  readonly algorithm: JwtAlgorithm;
}

/**
 * A trusted issuer of draft-08 access tokens and the keys that verify its tokens, per role. A
 * token's signature is checked only with the keys of the issuer its `iss` names.
 */
export interface IssuerVerification {
  readonly issuer: string;
  /** Tried in order (several while keys rotate); empty: the issuer's tokens cannot publish. */
  readonly publisher: readonly RoleVerification[];
  readonly subscriber: readonly RoleVerification[];
}

export interface TokenVerifierOptions {
  /** The keys of draft-07 tokens (the `mercure` claim). */
  readonly publisher: RoleVerification;
  readonly subscriber: RoleVerification;
  /** The `iss` every draft-07 token must carry; `null` or absent: not checked. */
  readonly issuer?: string | null | undefined;
  /** An `aud` every draft-07 token must carry; `null` or absent: not checked. */
  readonly audience?: string | null | undefined;
  /** Clock skew allowed on `exp` and `nbf`, in milliseconds; absent: none. */
  readonly clockToleranceMs?: number | undefined;
  /** The trusted issuers of draft-08 access tokens; none: every access token is refused. */
  readonly issuers?: readonly IssuerVerification[] | undefined;
  /** Whether draft-07 tokens are accepted at all (false on a draft-08-only hub). */
  readonly acceptMercureClaim?: boolean | undefined;
  /** Whether draft-08 access tokens are accepted at all (false on a draft-07-only hub). */
  readonly acceptAccessTokens?: boolean | undefined;
  /**
   * Successful verifications remembered, by token (see verified-token-cache.ts for what may be
   * cached and for how long); 0 verifies every time. Default: 10,000.
   */
  readonly cacheEntries?: number | undefined;
}

const DEFAULT_CACHE_ENTRIES = 10_000;

/** What a draft-08 access token is checked against, which may depend on the request. */
export interface AccessTokenContext {
  /** The hub's resource identifier: the token's `aud` must hold it. */
  readonly resource: string;
  /** The hub's URL, against which relative URL patterns resolve. */
  readonly hubUrl: string;
  /** The request's dialect: a draft-08 request takes draft-08 tokens only. */
  readonly dialect: Dialect | undefined;
}

export interface TokenVerifier {
  /**
   * Verifies a token for a role and returns its grants; throws HERALD_ERR_INVALID_TOKEN with a
   * `reason`, or HERALD_ERR_KEYS_UNAVAILABLE when a JWKS cannot be fetched. A token is a
   * draft-08 access token when its header's `typ` is `at+jwt`; otherwise a draft-07 token.
   * Without `context`, only draft-07 tokens are accepted.
   */
  verify(token: string, role: TokenRole, context?: AccessTokenContext): Promise<Grants>;
  /**
   * The grants of a token this verifier already verified for the same role and context, while
   * they hold, without waiting; `undefined` otherwise (then `verify` it).
   */
  verifiedBefore(token: string, role: TokenRole, context?: AccessTokenContext): Grants | undefined;
}

// Mercure reads its claims under `mercure`; the URI form is the namespaced spelling some
// publishers use.
const CLAIM_NAMES = ['mercure', 'https://mercure.rocks/'] as const;

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const toleranceMs = options.clockToleranceMs ?? 0;
  const checks = (role: TokenRole): JWTVerifyOptions => ({
    algorithms: [options[role].algorithm],
    // jose counts in seconds; `iat` is not checked (no maximum token age is set).
    clockTolerance: toleranceMs / 1000,
    ...(options.issuer == null ? {} : { issuer: options.issuer }),
    ...(options.audience == null ? {} : { audience: options.audience }),
  });
  const roleChecks: Record<TokenRole, JWTVerifyOptions> = {
    publisher: checks('publisher'),
    subscriber: checks('subscriber'),
  };

  const issuers = new Map<string, IssuerVerification>();
  for (const entry of options.issuers ?? []) {
    const known = issuers.get(entry.issuer);
    issuers.set(
      entry.issuer,
      known === undefined
        ? entry
        : {
            issuer: entry.issuer,
            publisher: [...known.publisher, ...entry.publisher],
            subscriber: [...known.subscriber, ...entry.subscriber],
          },
    );
  }
  const acceptMercureClaim = options.acceptMercureClaim ?? true;
  const acceptAccessTokens = options.acceptAccessTokens ?? true;
  const cache = new VerifiedTokenCache(options.cacheEntries ?? DEFAULT_CACHE_ENTRIES);

  async function verifyAccessToken(
    token: string,
    role: TokenRole,
    context: AccessTokenContext,
  ): Promise<Grants> {
    let claimed: JWTPayload;
    try {
      claimed = decodeJwt(token);
    } catch (error) {
      throw refusal('malformed', 'The token is malformed.', error);
    }
    // The unverified `iss` only chooses whose keys are tried; the signature then proves it.
    const trusted = typeof claimed.iss === 'string' ? issuers.get(claimed.iss) : undefined;
    if (trusted === undefined) {
      throw refusal('unknown-issuer', 'The token\'s "iss" is not a trusted issuer of this hub.');
    }
    const keys = trusted[role];
    if (keys.length === 0) {
      throw refusal('unknown-issuer', `The token's issuer is trusted, but not for ${role} tokens.`);
    }
    let payload: JWTPayload | undefined;
    let failure: unknown;
    let remote = false;
    for (const verification of keys) {
      const checks: JWTVerifyOptions = {
        algorithms: [verification.algorithm],
        clockTolerance: toleranceMs / 1000,
        issuer: trusted.issuer,
        audience: context.resource,
        typ: 'at+jwt',
        requiredClaims: ['exp', 'iss', 'aud'],
      };
      const key = joseKey(verification.key, verification.algorithm);
      try {
        remote = typeof key === 'function';
        ({ payload } =
          typeof key === 'function'
            ? await jwtVerify(token, key, checks)
            : await jwtVerify(token, key, checks));
        break;
      } catch (error) {
        // Another of the issuer's keys (one being rotated in) may fit the signature; a claim
        // that fails with one key fails with all.
        const keyMismatch =
          error instanceof joseErrors.JWSSignatureVerificationFailed ||
          error instanceof joseErrors.JOSEAlgNotAllowed ||
          error instanceof joseErrors.JWKSNoMatchingKey;
        failure ??= error;
        if (!keyMismatch) {
          failure = error;
          break;
        }
      }
    }
    if (payload === undefined) {
      const [first] = keys as [RoleVerification];
      throw translate(failure, token, role, first.algorithm, typeof first.key === 'function');
    }
    let details;
    try {
      details = readAuthorizationDetails(payload['authorization_details'], context.hubUrl);
    } catch (error) {
      if (!(error instanceof AuthorizationDetailsError)) throw error;
      throw refusal('invalid-authorization-details', error.message, error);
    }
    const grants: Grants = {
      dialect: '08',
      publish: details.publish,
      subscribe: details.subscribe,
      payload: undefined,
      subscribeDetails: details.subscribeDetails,
      expiresAt: (payload.exp as number) * 1000 + toleranceMs,
      // Qualified by the issuer: two issuers' subjects of the same name are not one publisher.
      subject: typeof payload.sub === 'string' ? `${trusted.issuer} ${payload.sub}` : undefined,
    };
    // A remote key set may drop the key at any moment: only fixed keys' verifications are kept.
    if (!remote) cache.set(token, role, context, grants);
    return grants;
  }

  return {
    verifiedBefore(token: string, role: TokenRole, context?: AccessTokenContext) {
      return cache.get(token, role, context);
    },

    async verify(token: string, role: TokenRole, context?: AccessTokenContext): Promise<Grants> {
      const cached = cache.get(token, role, context);
      if (cached !== undefined) return cached;
      if (token === '') {
        throw refusal('malformed', 'The token is empty or not a Bearer token.');
      }
      const form = tokenForm(token);
      if (form === 'access-token') {
        if (!acceptAccessTokens) {
          throw refusal(
            'wrong-type',
            'This hub speaks draft-07 only: it takes tokens with a "mercure" claim, not access tokens.',
          );
        }
        if (context === undefined) {
          throw refusal('wrong-type', 'This endpoint takes draft-07 tokens only.');
        }
        return verifyAccessToken(token, role, context);
      }
      if (form === 'untyped-details') {
        throw refusal(
          'wrong-type',
          'The token carries "authorization_details" but its "typ" is not "at+jwt" (RFC 9068).',
        );
      }
      if (context?.dialect === '08') {
        throw refusal(
          'wrong-type',
          'A draft-08 request needs an RFC 9068 access token ("typ": "at+jwt").',
        );
      }
      if (!acceptMercureClaim) {
        throw refusal(
          'wrong-type',
          'This hub speaks draft-08 only: it needs an RFC 9068 access token ("typ": "at+jwt").',
        );
      }
      const key = joseKey(options[role].key, options[role].algorithm);
      let payload: JWTPayload;
      try {
        // Two calls rather than a union: jose types a key and a key-lookup function apart.
        ({ payload } =
          typeof key === 'function'
            ? await jwtVerify(token, key, roleChecks[role])
            : await jwtVerify(token, key, roleChecks[role]));
      } catch (error) {
        throw translate(error, token, role, options[role].algorithm, typeof key === 'function');
      }
      const grants = grantsFrom(payload, toleranceMs);
      // A remote key set may drop the key at any moment: only fixed keys' verifications are kept.
      if (typeof key !== 'function') cache.set(token, role, context, grants);
      return grants;
    },
  };
}

// HMAC secrets as WebCrypto keys, made once per secret (see joseKey).
const hmacKeys = new WeakMap<Uint8Array, webcrypto.CryptoKey>();

/**
 * The key to hand jose. jose verifies through WebCrypto, and imports an HMAC secret given as
 * bytes into a CryptoKey on every verification (an async import per token); a CryptoKey made
 * once, here, is used as it is. Other keys pass unchanged: jose keeps its own CryptoKey of a
 * KeyObject, and a JWKS resolves its keys itself.
 */
function joseKey(
  key: VerificationKey,
  algorithm: JwtAlgorithm,
): VerificationKey | webcrypto.CryptoKey {
  if (!(key instanceof Uint8Array) || !algorithm.startsWith('HS')) return key;
  let prepared = hmacKeys.get(key);
  if (prepared === undefined) {
    prepared = createSecretKey(key).toCryptoKey(
      { name: 'HMAC', hash: `SHA-${algorithm.slice(2)}` },
      false,
      ['verify'],
    );
    hmacKeys.set(key, prepared);
  }
  return prepared;
}

/**
 * The dialect a token is meant for, read without verifying it: draft-08 for an access token
 * (`typ` `at+jwt`) and for a token with `authorization_details` (then refused for its `typ`).
 */
export function tokenDialect(token: string): Dialect {
  return tokenForm(token) === 'mercure-claim' ? '07' : '08';
}

/**
 * What a token claims to be, read before any verification: `typ` `at+jwt` (or
 * `application/at+jwt`, any case) makes it a draft-08 access token; `authorization_details`
 * without that `typ` is a draft-08 token of the wrong type; anything else is draft-07's.
 */
function tokenForm(token: string): 'access-token' | 'untyped-details' | 'mercure-claim' {
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    // Left to jose, which reports the malformed token.
    return 'mercure-claim';
  }
  if (typeof header.typ === 'string') {
    const typ = header.typ.toLowerCase().replace(/^application\//, '');
    if (typ === 'at+jwt') return 'access-token';
  }
  try {
    if (decodeJwt(token)['authorization_details'] !== undefined) return 'untyped-details';
  } catch {
    // Malformed: as above.
  }
  return 'mercure-claim';
}

function refusal(reason: TokenRefusalReason, detail: string, cause?: unknown): HeraldError {
  return new HeraldError('HERALD_ERR_INVALID_TOKEN', detail, {
    reason,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** A jose error as a refusal; the token itself never goes into the message. */
function translate(
  error: unknown,
  token: string,
  role: TokenRole,
  algorithm: JwtAlgorithm,
  remote: boolean,
): HeraldError {
  if (error instanceof joseErrors.JWTExpired) {
    return refusal('expired', 'The token has expired.', error);
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    // Only access tokens require `exp` (a missing `iss` or `aud` is a wrong one, as in draft-07).
    if (error.reason === 'missing' && error.claim === 'exp') {
      return refusal(
        'missing-claim',
        'The token has no "exp" claim; access tokens must expire.',
        error,
      );
    }
    switch (error.claim) {
      case 'typ':
        return refusal('wrong-type', 'The token\'s "typ" is not "at+jwt".', error);
      case 'nbf':
        return refusal('not-yet-valid', 'The token is not valid yet ("nbf").', error);
      case 'iss':
        return refusal(
          'wrong-issuer',
          'The token\'s "iss" claim is not the expected issuer.',
          error,
        );
      case 'aud':
        return refusal(
          'wrong-audience',
          'The token\'s "aud" claim lacks the expected audience.',
          error,
        );
      default:
        return refusal('invalid-claims', `The token's "${error.claim}" claim is not valid.`, error);
    }
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) {
    return refusal(
      'algorithm-not-allowed',
      `The token is signed with ${describeAlgorithm(token)}; this hub accepts only ${algorithm} for ${role} tokens.`,
      error,
    );
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return refusal('bad-signature', 'The token signature is not valid.', error);
  }
  if (
    error instanceof joseErrors.JWKSNoMatchingKey ||
    error instanceof joseErrors.JWKSMultipleMatchingKeys
  ) {
    return refusal(
      'unknown-key',
      'No key of the key set matches the token\'s "kid" and "alg".',
      error,
    );
  }
  if (
    remote &&
    (error instanceof joseErrors.JWKSTimeout ||
      error instanceof joseErrors.JWKSInvalid ||
      error instanceof joseErrors.JWKInvalid ||
      error instanceof TypeError ||
      (error instanceof joseErrors.JOSEError && error.code === 'ERR_JOSE_GENERIC'))
  ) {
    // The key server is down or answers nonsense: the token may well be good, so not a 401.
    return new HeraldError(
      'HERALD_ERR_KEYS_UNAVAILABLE',
      'The key set that verifies tokens cannot be fetched; retry shortly.',
      { cause: error },
    );
  }
  return refusal('malformed', 'The token is malformed.', error);
}

function describeAlgorithm(token: string): string {
  try {
    const { alg } = decodeProtectedHeader(token);
    return typeof alg === 'string' ? `"${alg.slice(0, 20)}"` : 'no algorithm';
  } catch {
    return 'an unreadable header';
  }
}

/*
 * RFC 7519 §4.1: the registered claims that are strings (jose checks the numeric dates, and
 * `iss`/`aud` only when told which to expect). A `sub` of another type would otherwise be
 * ignored, and the publisher would silently lose its rate-limit identity.
 */
const STRING_CLAIMS = ['iss', 'sub', 'jti'] as const;

function assertRegisteredClaimTypes(payload: JWTPayload): void {
  for (const name of STRING_CLAIMS) {
    if (payload[name] !== undefined && typeof payload[name] !== 'string') {
      throw refusal('invalid-claims', `The token's "${name}" claim must be a string.`);
    }
  }
  const { aud } = payload;
  if (
    aud !== undefined &&
    typeof aud !== 'string' &&
    !(Array.isArray(aud) && aud.every((item) => typeof item === 'string'))
  ) {
    throw refusal(
      'invalid-claims',
      'The token\'s "aud" claim must be a string or an array of strings.',
    );
  }
}

function grantsFrom(payload: JWTPayload, toleranceMs: number): Grants {
  assertRegisteredClaimTypes(payload);
  const claim = CLAIM_NAMES.map((name) => payload[name]).find((value) => value !== undefined);
  if (
    claim !== undefined &&
    (typeof claim !== 'object' || claim === null || Array.isArray(claim))
  ) {
    throw refusal('invalid-claims', 'The "mercure" claim must be an object.');
  }
  const mercure = (claim ?? {}) as Record<string, unknown>;
  return {
    dialect: '07',
    publish: selectorsClaim(mercure, 'publish'),
    subscribe: selectorsClaim(mercure, 'subscribe'),
    payload: mercure['payload'],
    subscribeDetails: [],
    // jose accepted the token until exp + tolerance: the stream lives exactly as long.
    expiresAt: payload.exp === undefined ? undefined : payload.exp * 1000 + toleranceMs,
    subject: typeof payload.sub === 'string' ? payload.sub : undefined,
  };
}

function selectorsClaim(mercure: Record<string, unknown>, name: string) {
  const value = mercure[name];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw refusal('invalid-claims', `The "mercure.${name}" claim must be an array of strings.`);
  }
  try {
    return value.map(compileSelector);
  } catch (error) {
    // A selector past the matcher's limits makes the whole token invalid, as any bad claim does.
    if (error instanceof HeraldError && error.code === 'HERALD_ERR_SELECTOR_TOO_LARGE') {
      throw refusal('invalid-claims', `The "mercure.${name}" claim: ${error.message}`, error);
    }
    throw error;
  }
}
