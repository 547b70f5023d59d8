import { errors as joseErrors, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import { HeraldError } from '../core/errors.ts';
import { compileSelector } from '../core/topic-selector.ts';
import type { Grants } from './grants.ts';

export type TokenRole = 'publisher' | 'subscriber';

export interface TokenVerifierOptions {
  readonly publisherKey: string;
  readonly subscriberKey: string;
  /** The one algorithm tokens must be signed with; every other one, `none` included, is refused. */
  readonly algorithm: 'HS256' | 'HS384' | 'HS512';
}

export interface TokenVerifier {
  /** Verifies a token for a role and returns its grants; throws HERALD_ERR_INVALID_TOKEN. */
  verify(token: string, role: TokenRole): Promise<Grants>;
}

// Mercure reads its claims under `mercure`; the URI form is the namespaced spelling some
// publishers use.
const CLAIM_NAMES = ['mercure', 'https://mercure.rocks/'] as const;

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const encoder = new TextEncoder();
  const keys: Record<TokenRole, Uint8Array> = {
    publisher: encoder.encode(options.publisherKey),
    subscriber: encoder.encode(options.subscriberKey),
  };
  const algorithms = [options.algorithm];

  return {
    async verify(token: string, role: TokenRole): Promise<Grants> {
      if (token === '') {
        throw new HeraldError(
          'HERALD_ERR_INVALID_TOKEN',
          'The token is empty or not a Bearer token.',
        );
      }
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys[role], { algorithms }));
      } catch (error) {
        throw new HeraldError('HERALD_ERR_INVALID_TOKEN', describeJoseError(error), {
          cause: error,
        });
      }
      return grantsFrom(payload);
    },
  };
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'The token has expired.';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return `The token's "${error.claim}" claim is not valid.`;
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) {
    return 'The token is signed with an algorithm this hub does not accept.';
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return 'The token signature is not valid.';
  }
  return 'The token is malformed.';
}

function grantsFrom(payload: JWTPayload): Grants {
  const claim = CLAIM_NAMES.map((name) => payload[name]).find((value) => value !== undefined);
  if (
    claim !== undefined &&
    (typeof claim !== 'object' || claim === null || Array.isArray(claim))
  ) {
    throw new HeraldError('HERALD_ERR_INVALID_TOKEN', 'The "mercure" claim must be an object.');
  }
  const mercure = (claim ?? {}) as Record<string, unknown>;
  return {
    publish: selectorsClaim(mercure, 'publish'),
    subscribe: selectorsClaim(mercure, 'subscribe'),
    payload: mercure['payload'],
    expiresAt: payload.exp === undefined ? undefined : payload.exp * 1000,
  };
}

function selectorsClaim(mercure: Record<string, unknown>, name: string) {
  const value = mercure[name];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new HeraldError(
      'HERALD_ERR_INVALID_TOKEN',
      `The "mercure.${name}" claim must be an array of strings.`,
    );
  }
  return value.map(compileSelector);
}
