import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { JwtAlgorithm } from '../config.ts';
import { MERCURE_DETAIL_TYPE } from './authorization-details.ts';
import { loadSigningKey } from './jwt-key.ts';
import type { SigningKey } from './jwt-key.ts';

export interface MintTokenOptions {
  /** The HMAC secret (HS*), or a private key: PEM text, a PEM file's path, or a KeyObject. */
  readonly key: string | SigningKey;
  readonly algorithm: JwtAlgorithm;
  readonly publish?: readonly string[] | undefined;
  readonly subscribe?: readonly string[] | undefined;
  readonly payload?: unknown;
  /** Lifetime in seconds; `undefined` mints a token that never expires (development only). */
  readonly ttlSeconds?: number | undefined;
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
  /** The `kid` header: which key of a JWKS verifies the token. */
  readonly keyId?: string | undefined;
}

/** Signs a draft-07 Mercure token (the `mercure` claim), for development mode, `herald token` and tests. */
export async function mintToken(options: MintTokenOptions): Promise<string> {
  const mercure: Record<string, unknown> = {};
  if (options.publish !== undefined) mercure['publish'] = options.publish;
  if (options.subscribe !== undefined) mercure['subscribe'] = options.subscribe;
  if (options.payload !== undefined) mercure['payload'] = options.payload;
  const jwt = new SignJWT({ mercure })
    .setProtectedHeader({
      alg: options.algorithm,
      ...(options.keyId === undefined ? {} : { kid: options.keyId }),
    })
    .setIssuedAt();
  if (options.ttlSeconds !== undefined) jwt.setExpirationTime(`${options.ttlSeconds}s`);
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt.setAudience(options.audience);
  const key =
    typeof options.key === 'string'
      ? loadSigningKey(options.key, options.algorithm, 'key')
      : options.key;
  return jwt.sign(key);
}

/** One topic matcher of an authorization detail; `match_type` absent means `exact`. */
export interface MintMatcher {
  readonly match: string;
  readonly matchType?: 'exact' | 'urlpattern' | undefined;
}

export interface MintAccessTokenOptions {
  /** The HMAC secret (HS*), or a private key: PEM text, a PEM file's path, or a KeyObject. */
  readonly key: string | SigningKey;
  readonly algorithm: JwtAlgorithm;
  /** `iss`: the issuer the hub trusts with this key (also the `client_id`). */
  readonly issuer: string;
  /** `aud`: the hub's resource identifier. */
  readonly audience: string;
  /** Lifetime in seconds: access tokens always expire. */
  readonly ttlSeconds: number;
  /** `sub`; absent: a fresh `urn:uuid:`. */
  readonly subject?: string | undefined;
  readonly publish?: readonly MintMatcher[] | undefined;
  readonly subscribe?: readonly MintMatcher[] | undefined;
  /** A JSON object attached to the `subscribe` detail (shown in subscription events). */
  readonly payload?: Readonly<Record<string, unknown>> | undefined;
  readonly keyId?: string | undefined;
}

/**
 * Signs a draft-08 access token (RFC 9068: `typ` `at+jwt`, with `iss`, `aud`, `exp`, `sub`,
 * `client_id`, `iat` and `jti`) whose `authorization_details` grant what is asked.
 */
export async function mintAccessToken(options: MintAccessTokenOptions): Promise<string> {
  const topics = (matchers: readonly MintMatcher[]) =>
    matchers.map(({ match, matchType }) =>
      matchType === undefined || matchType === 'exact'
        ? { match }
        : { match, match_type: matchType },
    );
  const details: Record<string, unknown>[] = [];
  if (options.publish !== undefined && options.publish.length > 0) {
    details.push({
      type: MERCURE_DETAIL_TYPE,
      actions: ['publish'],
      topics: topics(options.publish),
    });
  }
  if (options.subscribe !== undefined && options.subscribe.length > 0) {
    details.push({
      type: MERCURE_DETAIL_TYPE,
      actions: ['subscribe'],
      topics: topics(options.subscribe),
      ...(options.payload === undefined ? {} : { payload: options.payload }),
    });
  }
  const key =
    typeof options.key === 'string'
      ? loadSigningKey(options.key, options.algorithm, 'key')
      : options.key;
  return new SignJWT({ client_id: options.issuer, authorization_details: details })
    .setProtectedHeader({
      alg: options.algorithm,
      typ: 'at+jwt',
      ...(options.keyId === undefined ? {} : { kid: options.keyId }),
    })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(options.subject ?? `urn:uuid:${randomUUID()}`)
    .setJti(`urn:uuid:${randomUUID()}`)
    .setIssuedAt()
    .setExpirationTime(`${options.ttlSeconds}s`)
    .sign(key);
}
