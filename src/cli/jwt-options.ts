import { JwtKeyError, loadVerificationKey } from '../auth/jwt-key.ts';
import type { JwtAlgorithm, JwtKeySource, TrustedIssuer } from '../config.ts';
import { JWT_ALGORITHMS } from '../config.ts';
import { SIGNING_OPTIONS } from '../options/option-table.ts';
import { OptionError } from './option-reading.ts';
import { flagTable, pickerOf } from './option-sources.ts';
import type { GivenOption, GivenOptions } from './option-sources.ts';
import { readGiven } from './option-values.ts';

/** The key, algorithm and claim flags `herald serve` and `herald token` share. */
export const SIGNING_FLAGS = flagTable(SIGNING_OPTIONS);

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
 * Reads the key options: a role-specific key or JWKS URL wins over the shared one; a role's
 * algorithm wins over `--jwt-alg`.
 */
export function parseJwtOptions(given: GivenOptions): JwtOptions {
  const pick = pickerOf(given);
  const shared = roleKey(pick('jwt-key'), pick('jwks-url'));
  const sharedAlgorithm = algorithm(given.get('jwt-alg'));
  const role = (name: 'publisher' | 'subscriber'): RoleJwtOptions => ({
    key: roleKey(pick(`${name}-jwt-key`), pick(`${name}-jwks-url`)) ?? shared,
    algorithm: algorithm(given.get(`${name}-jwt-alg`)) ?? sharedAlgorithm,
  });
  return {
    publisher: role('publisher'),
    subscriber: role('subscriber'),
    issuer: pick('jwt-issuer')?.[1],
    audience: pick('jwt-audience')?.[1],
  };
}

/** The draft-08 options of `herald serve` that are not plain values: issuers, the query token. */
export interface AccessTokenOptions {
  readonly trustedIssuers: readonly TrustedIssuer[] | undefined;
  readonly queryToken: boolean | undefined;
}

/**
 * Reads the trusted issuers (repeated flags; else one variable or file value holding a JSON
 * object or array; else a file's list of them) and `--no-query-token`. Each trusted issuer's key
 * is loaded as the hub will, so that a bad one stops start-up with a message naming the option.
 */
export function parseAccessTokenOptions(given: GivenOptions): AccessTokenOptions {
  const issuers = given.get('trusted-issuer');
  const trustedIssuers =
    issuers?.texts.flatMap((value) => trustedIssuersOf(issuers.name, value)) ?? [];
  const noQuery = given.get('no-query-token');
  const refuseQuery = noQuery === undefined ? undefined : (readGiven(noQuery) as boolean);
  return {
    trustedIssuers: trustedIssuers.length === 0 ? undefined : trustedIssuers,
    queryToken: refuseQuery === undefined ? undefined : !refuseQuery,
  };
}

const ISSUER_MEMBERS = new Set([
  'issuer',
  'key',
  'jwksUrl',
  'algorithm',
  'roles',
  'authorizationServer',
]);

/** One `--trusted-issuer` value: a JSON object, or an array of them. */
function trustedIssuersOf(name: string, value: string): TrustedIssuer[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    // The message of JSON.parse may quote the value, which may hold a secret: not shown.
    throw new OptionError(`${name} must be JSON (${(error as Error).name}).`);
  }
  const entries = Array.isArray(parsed) ? (parsed as unknown[]) : [parsed];
  return entries.map((entry, index) => {
    const at = Array.isArray(parsed) ? `${name}[${index}]` : name;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new OptionError(`${at} must be a JSON object.`);
    }
    const fields = entry as Record<string, unknown>;
    const unknown = Object.keys(fields).find((key) => !ISSUER_MEMBERS.has(key));
    if (unknown !== undefined) {
      throw new OptionError(
        `${at} has an unknown member "${unknown}"; known: ${[...ISSUER_MEMBERS].join(', ')}.`,
      );
    }
    const { issuer, key, jwksUrl, algorithm, roles, authorizationServer } = fields;
    if (typeof issuer !== 'string' || issuer === '') {
      throw new OptionError(`${at} needs "issuer": the exact "iss" of its tokens.`);
    }
    if ((typeof key === 'string') === (typeof jwksUrl === 'string')) {
      throw new OptionError(`${at} needs "key" or "jwksUrl" (one of them, a string).`);
    }
    if (
      typeof algorithm !== 'string' ||
      !(JWT_ALGORITHMS as readonly string[]).includes(algorithm)
    ) {
      throw new OptionError(`${at} needs "algorithm", one of ${JWT_ALGORITHMS.join(', ')}.`);
    }
    if (
      roles !== undefined &&
      (!Array.isArray(roles) ||
        roles.length === 0 ||
        !roles.every((role) => role === 'publisher' || role === 'subscriber'))
    ) {
      throw new OptionError(`${at}: "roles" must list "publisher", "subscriber" or both.`);
    }
    if (authorizationServer !== undefined && typeof authorizationServer !== 'boolean') {
      throw new OptionError(`${at}: "authorizationServer" must be true or false.`);
    }
    const source: JwtKeySource = typeof key === 'string' ? key : { jwksUrl: jwksUrl as string };
    try {
      loadVerificationKey(source, algorithm as JwtAlgorithm, `${at} "key"`, { jwksCooldownMs: 0 });
    } catch (error) {
      if (error instanceof JwtKeyError) throw new OptionError(error.message);
      throw error;
    }
    return {
      issuer,
      key: source,
      algorithm: algorithm as JwtAlgorithm,
      roles: roles as TrustedIssuer['roles'],
      authorizationServer,
    };
  });
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

function algorithm(given: GivenOption | undefined): RoleJwtOptions['algorithm'] {
  if (given === undefined) return undefined;
  return { name: given.name, value: readGiven(given) as JwtAlgorithm };
}
