import { JwtKeyError, loadVerificationKey } from '../auth/jwt-key.ts';
import type { JwtAlgorithm, JwtKeySource } from '../config.ts';
import { JWT_ALGORITHMS } from '../config.ts';
import { OptionError } from './option-reading.ts';
import type { PickOption } from './option-reading.ts';

/** The key and algorithm flags `herald serve` and `herald token` share. */
export const JWT_FLAGS = {
  'jwt-key': { type: 'string' },
  'publisher-jwt-key': { type: 'string' },
  'subscriber-jwt-key': { type: 'string' },
  'jwks-url': { type: 'string' },
  'publisher-jwks-url': { type: 'string' },
  'subscriber-jwks-url': { type: 'string' },
  'jwt-alg': { type: 'string' },
  'publisher-jwt-alg': { type: 'string' },
  'subscriber-jwt-alg': { type: 'string' },
  'jwt-issuer': { type: 'string' },
  'jwt-audience': { type: 'string' },
} as const;

export type JwtFlag = keyof typeof JWT_FLAGS;

export const JWT_HELP = `  --jwt-key <key>            key for publisher and subscriber tokens: the HMAC secret (HS*), or for
                             RS*, PS*, ES* and EdDSA a public key as PEM text or a PEM file's path
                                                                   HERALD_JWT_KEY
  --publisher-jwt-key <key>  key for publisher tokens only         HERALD_PUBLISHER_JWT_KEY
  --subscriber-jwt-key <key> key for subscriber tokens only        HERALD_SUBSCRIBER_JWT_KEY
  --jwks-url <url>           verify with a JSON Web Key Set instead of a key (cached; fetched again
                             for an unknown kid)                   HERALD_JWKS_URL
  --publisher-jwks-url <url>, --subscriber-jwks-url <url>         HERALD_{PUBLISHER,SUBSCRIBER}_JWKS_URL
  --jwt-alg <alg>            HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512 or EdDSA;
                             tokens signed otherwise are refused   HERALD_JWT_ALG (HS256)
  --publisher-jwt-alg <alg>, --subscriber-jwt-alg <alg>           HERALD_{PUBLISHER,SUBSCRIBER}_JWT_ALG
  --jwt-issuer <iss>         tokens must carry this "iss"          HERALD_JWT_ISSUER
  --jwt-audience <aud>       tokens must carry this "aud"          HERALD_JWT_AUDIENCE`;

/** One role's key and algorithm, each with the name of the flag or variable that gave it. */
export interface RoleJwtOptions {
  readonly key: { readonly name: string; readonly source: JwtKeySource } | undefined;
  readonly algorithm: { readonly name: string; readonly value: JwtAlgorithm } | undefined;
}

export interface JwtOptions {
  readonly publisher: RoleJwtOptions;
  readonly subscriber: RoleJwtOptions;
  readonly issuer: string | undefined;
  readonly audience: string | undefined;
}

/**
 * Reads the key flags: a role-specific key or JWKS URL wins over the shared one; a role's
 * algorithm flag wins over `--jwt-alg`.
 */
export function parseJwtOptions(pick: PickOption<JwtFlag>): JwtOptions {
  const shared = roleKey(pick('jwt-key', 'HERALD_JWT_KEY'), pick('jwks-url', 'HERALD_JWKS_URL'));
  const sharedAlgorithm = algorithm(pick('jwt-alg', 'HERALD_JWT_ALG'));
  const role = (name: 'publisher' | 'subscriber'): RoleJwtOptions => {
    const upper = name.toUpperCase();
    return {
      key:
        roleKey(
          pick(`${name}-jwt-key`, `HERALD_${upper}_JWT_KEY`),
          pick(`${name}-jwks-url`, `HERALD_${upper}_JWKS_URL`),
        ) ?? shared,
      algorithm: algorithm(pick(`${name}-jwt-alg`, `HERALD_${upper}_JWT_ALG`)) ?? sharedAlgorithm,
    };
  };
  return {
    publisher: role('publisher'),
    subscriber: role('subscriber'),
    issuer: pick('jwt-issuer', 'HERALD_JWT_ISSUER')?.[1],
    audience: pick('jwt-audience', 'HERALD_JWT_AUDIENCE')?.[1],
  };
}

/**
 * Loads a role's key as the hub will, so that a PEM that does not parse, or a key that does not
 * fit the algorithm, stops start-up with a message naming the flag.
 */
export function checkVerificationKey(role: RoleJwtOptions): void {
  if (role.key === undefined) return;
  try {
    loadVerificationKey(role.key.source, role.algorithm?.value ?? 'HS256', role.key.name, {
      jwksCooldownMs: 0,
    });
  } catch (error) {
    throw asOptionError(error, role);
  }
}

/** A JwtKeyError as an OptionError, naming the algorithm's flag when it is at fault too. */
export function asOptionError(error: unknown, role: RoleJwtOptions): unknown {
  if (!(error instanceof JwtKeyError)) return error;
  const algorithm =
    role.algorithm === undefined
      ? '--jwt-alg is HS256 by default'
      : `${role.algorithm.name} is ${role.algorithm.value}`;
  return new OptionError(`${error.message.replace(/\.$/, '')} (${algorithm}).`);
}

function roleKey(
  key: [string, string] | undefined,
  jwks: [string, string] | undefined,
): RoleJwtOptions['key'] {
  if (key !== undefined && jwks !== undefined) {
    throw new OptionError(`${key[0]} and ${jwks[0]} exclude each other: give a key or a JWKS URL.`);
  }
  if (key !== undefined) return { name: key[0], source: key[1] };
  if (jwks !== undefined) return { name: jwks[0], source: { jwksUrl: jwks[1] } };
  return undefined;
}

function algorithm(found: [string, string] | undefined): RoleJwtOptions['algorithm'] {
  if (found === undefined) return undefined;
  const [name, value] = found;
  if (!(JWT_ALGORITHMS as readonly string[]).includes(value)) {
    throw new OptionError(`${name} must be one of ${JWT_ALGORITHMS.join(', ')}; got "${value}".`);
  }
  return { name, value: value as JwtAlgorithm };
}
