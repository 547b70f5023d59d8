import { SignJWT } from 'jose';
import type { JwtAlgorithm } from '../config.ts';
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

/** Signs a Mercure token, for development mode, `herald token` and tests. */
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
