import { decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyOptions } from 'jose';
import type { JwtAlgorithm } from '../config.ts';
import { HeraldError } from '../core/errors.ts';
import type { TokenRefusalReason } from '../core/errors.ts';
import { compileSelector } from '../core/topic-selector.ts';
import type { Grants } from './grants.ts';
import type { VerificationKey } from './jwt-key.ts';

export type TokenRole = 'publisher' | 'subscriber';

/** How one role's tokens are verified. */
export interface RoleVerification {
  /** Loaded (and checked against the algorithm) by `loadVerificationKey`. */
  readonly key: VerificationKey;
  /** The one algorithm tokens must be signed with; every other one, `none` included, is refused. */
  readonly algorithm: JwtAlgorithm;
}

export interface TokenVerifierOptions {
  readonly publisher: RoleVerification;
  readonly subscriber: RoleVerification;
  /** The `iss` every token must carry; `null` or absent: not checked. */
  readonly issuer?: string | null | undefined;
  /** An `aud` every token must carry; `null` or absent: not checked. */
  readonly audience?: string | null | undefined;
  /** Clock skew allowed on `exp` and `nbf`, in milliseconds; absent: none. */
  readonly clockToleranceMs?: number | undefined;
}

export interface TokenVerifier {
  /**
   * Verifies a token for a role and returns its grants; throws HERALD_ERR_INVALID_TOKEN with a
   * `reason`, or HERALD_ERR_KEYS_UNAVAILABLE when a JWKS cannot be fetched.
   */
  verify(token: string, role: TokenRole): Promise<Grants>;
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

  return {
    async verify(token: string, role: TokenRole): Promise<Grants> {
      if (token === '') {
        throw refusal('malformed', 'The token is empty or not a Bearer token.');
      }
      const { key } = options[role];
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
      return grantsFrom(payload, toleranceMs);
    },
  };
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
    switch (error.claim) {
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
    publish: selectorsClaim(mercure, 'publish'),
    subscribe: selectorsClaim(mercure, 'subscribe'),
    payload: mercure['payload'],
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
