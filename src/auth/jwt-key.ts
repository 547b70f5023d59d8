import type { KeyObject } from 'node:crypto';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import type { JwtAlgorithm, JwtKeySource } from '../config.ts';

/**
 * A key that cannot serve its algorithm, found at start-up. The message names the option at
 * fault (a CLI flag, or a `startHerald()` option) and never holds the key itself.
 */
export class JwtKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JwtKeyError';
  }
}

/** An HMAC secret, a public key, or a remote key set looked up by the token's `kid`. */
export type VerificationKey = Uint8Array | KeyObject | JWTVerifyGetKey;

/** An HMAC secret or a private key. */
export type SigningKey = Uint8Array | KeyObject;

export function isHmacAlgorithm(algorithm: JwtAlgorithm): boolean {
  return algorithm.startsWith('HS');
}

export interface LoadKeyOptions {
  /** See `HeraldConfig.jwksCooldownMs`. */
  readonly jwksCooldownMs: number;
}

/**
 * Loads the key that verifies one role's tokens and checks, once, that it fits the algorithm:
 * an HMAC secret for HS*, an RSA key for RS and PS, an EC key on the algorithm's curve for ES,
 * an Ed25519 key for EdDSA. `name` names the option in error messages.
 */
export function loadVerificationKey(
  source: JwtKeySource,
  algorithm: JwtAlgorithm,
  name: string,
  options: LoadKeyOptions,
): VerificationKey {
  if (typeof source !== 'string') {
    if (isHmacAlgorithm(algorithm)) {
      throw new JwtKeyError(
        `${name} is a JWKS URL, which serves public keys: the algorithm must be one of RS*, PS*, ES* or EdDSA, not ${algorithm}.`,
      );
    }
    return createRemoteJWKSet(jwksUrl(source.jwksUrl, name), {
      cooldownDuration: options.jwksCooldownMs,
      timeoutDuration: 5_000,
    });
  }
  if (isHmacAlgorithm(algorithm)) return hmacSecret(source, algorithm, name);
  const pem = readPem(source, algorithm, name);
  let key: KeyObject;
  try {
    // A private key or a certificate works too: its public half verifies.
    key = createPublicKey(pem);
  } catch (error) {
    throw new JwtKeyError(
      `${name} does not hold a PEM key that parses (${(error as Error).message}).`,
    );
  }
  assertKeyFits(key, algorithm, name);
  return key;
}

/** Loads the key `herald token` signs with: the HMAC secret, or a private key in PEM. */
export function loadSigningKey(source: string, algorithm: JwtAlgorithm, name: string): SigningKey {
  if (isHmacAlgorithm(algorithm)) return hmacSecret(source, algorithm, name);
  const pem = readPem(source, algorithm, name);
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new JwtKeyError(
      `${name} must hold a private key in PEM to sign ${algorithm} tokens (${(error as Error).message}).`,
    );
  }
  assertKeyFits(key, algorithm, name);
  return key;
}

function hmacSecret(source: string, algorithm: JwtAlgorithm, name: string): Uint8Array {
  if (source.includes('-----BEGIN')) {
    // Using a public key's PEM text as an HMAC secret is the HS/RS confusion attack's premise.
    throw new JwtKeyError(
      `${name} holds a PEM key, but ${algorithm} is an HMAC algorithm: choose RS*, PS*, ES* or EdDSA to verify with a public key.`,
    );
  }
  if (source === '') throw new JwtKeyError(`${name} is empty.`);
  const secret = new TextEncoder().encode(source);
  // RFC 7518 §3.2: a key shorter than the hash output weakens the MAC; it may be guessed offline
  // from any one token.
  const least = HMAC_KEY_BYTES[algorithm] ?? 64;
  if (secret.byteLength < least) {
    throw new JwtKeyError(
      `${name} is ${secret.byteLength} bytes; ${algorithm} needs a secret of at least ${least} bytes (RFC 7518 §3.2). Make one with: openssl rand -base64 48`,
    );
  }
  return secret;
}

/** The shortest HMAC secret per algorithm: the size of its hash output. */
const HMAC_KEY_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };

/** PEM text as given, or read from the file the value names. */
function readPem(source: string, algorithm: JwtAlgorithm, name: string): string {
  if (source.trimStart().startsWith('-----BEGIN')) return source;
  try {
    return readFileSync(source, 'utf8');
  } catch (error) {
    // The value is not echoed: it may be a secret given where a path was expected.
    throw new JwtKeyError(
      `${name} must be a PEM key or the path of a PEM file for ${algorithm}; the file cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`,
    );
  }
}

const CURVES: Readonly<Record<string, string>> = {
  ES256: 'prime256v1',
  ES384: 'secp384r1',
  ES512: 'secp521r1',
};

function assertKeyFits(key: KeyObject, algorithm: JwtAlgorithm, name: string): void {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails;
  const family = algorithm.slice(0, 2);
  let fits: boolean;
  let wanted: string;
  if (family === 'RS' || family === 'PS') {
    fits = type === 'rsa' || (family === 'PS' && type === 'rsa-pss');
    wanted = 'an RSA key';
    if (fits && (details?.modulusLength ?? 0) < 2048) {
      throw new JwtKeyError(`${name} is an RSA key under 2048 bits, too short for ${algorithm}.`);
    }
  } else if (family === 'ES') {
    fits = type === 'ec' && details?.namedCurve === CURVES[algorithm];
    wanted = `an EC key on ${CURVES[algorithm] ?? '?'}`;
  } else {
    fits = type === 'ed25519';
    wanted = 'an Ed25519 key';
  }
  if (!fits) {
    const got =
      type === 'ec' ? `an EC key on ${details?.namedCurve ?? '?'}` : `a key of type ${type ?? '?'}`;
    throw new JwtKeyError(`${name} is ${got}, but ${algorithm} needs ${wanted}.`);
  }
}

function jwksUrl(value: string, name: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new JwtKeyError(`${name} must be an http(s) URL; got "${value}".`);
  }
  return url;
}
