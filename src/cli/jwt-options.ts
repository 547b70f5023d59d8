import { JwtKeyError, loadVerificationKey } from '../auth/jwt-key.ts';
import type { JwtAlgorithm, JwtKeySource, TrustedIssuer } from '../config.ts';
import { JWT_ALGORITHMS } from '../config.ts';
import { OptionError } from './option-reading.ts';
import type { PickList, PickOption } from './option-reading.ts';

/** The key, algorithm and claim flags `herald serve` and `herald token` share. */
export const SIGNING_FLAGS = {
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

/** The token flags of `herald serve`: the shared ones and draft-08's verification options. */
export const JWT_FLAGS = {
  ...SIGNING_FLAGS,
  'access-token-issuer': { type: 'string' },
  'trusted-issuer': { type: 'string', multiple: true },
  'resource-identifier': { type: 'string' },
  'access-token-cookie': { type: 'string' },
  'no-query-token': { type: 'boolean' },
} as const;

export type JwtFlag = keyof typeof SIGNING_FLAGS;

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
  --jwt-issuer <iss>         draft-07 tokens must carry this "iss"   HERALD_JWT_ISSUER
  --jwt-audience <aud>       draft-07 tokens must carry this "aud"   HERALD_JWT_AUDIENCE
  --access-token-issuer <iss>  the issuer whose draft-08 access tokens the keys above verify
                             HERALD_ACCESS_TOKEN_ISSUER (--jwt-issuer; neither: only --trusted-issuer)
  --trusted-issuer <json>    another issuer of draft-08 access tokens and its key (repeatable), e.g.
                             '{"issuer":"https://auth.example","jwksUrl":"https://auth.example/jwks",
                             "algorithm":"RS256"}'; also "key" (instead of "jwksUrl"), "roles"
                             (["publisher","subscriber"]), "authorizationServer" (true: listed in
                             the metadata)                 HERALD_TRUSTED_ISSUERS (JSON object or array)
  --resource-identifier <uri> the "aud" draft-08 access tokens must hold
                             HERALD_RESOURCE_IDENTIFIER (the hub URL the request reached)
  --access-token-cookie <name>  cookie carrying draft-08 access tokens; prefix-less for plain HTTP
                             HERALD_ACCESS_TOKEN_COOKIE (__Secure-mercure_access_token)
  --no-query-token           refuse draft-07's authorization query parameter (never accepted in a
                             draft-08 request)                     HERALD_NO_QUERY_TOKEN`;

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

/** The draft-08 verification options of `herald serve`. */
export interface AccessTokenOptions {
  readonly accessTokenIssuer: string | undefined;
  readonly trustedIssuers: readonly TrustedIssuer[] | undefined;
  readonly resourceIdentifier: string | undefined;
  readonly accessTokenCookie: string | undefined;
  readonly queryToken: boolean | undefined;
}

type AccessTokenFlag = Exclude<keyof typeof JWT_FLAGS, JwtFlag>;

/**
 * Reads the draft-08 options. Each trusted issuer's key is loaded as the hub will, so that a bad
 * one stops start-up with a message naming the flag.
 */
export function parseAccessTokenOptions(
  pick: PickOption<AccessTokenFlag>,
  pickList: PickList<AccessTokenFlag>,
): AccessTokenOptions {
  // Repeated flags; else one variable (or file value) holding a JSON object or array; else a
  // file's list of them. (The variable is never split at commas: JSON holds commas.)
  const list = pickList('trusted-issuer', 'HERALD_TRUSTED_ISSUERS');
  const single = pick('trusted-issuer', 'HERALD_TRUSTED_ISSUERS');
  const issuerValues: [string, string][] =
    list !== undefined && (list[0].startsWith('--') || single === undefined)
      ? list[1].map((value): [string, string] => [list[0], value])
      : single === undefined
        ? []
        : [single];
  const trustedIssuers = issuerValues.flatMap(([name, value]) => trustedIssuersOf(name, value));
  const resource = pick('resource-identifier', 'HERALD_RESOURCE_IDENTIFIER');
  if (resource !== undefined && /[\s"\\]/.test(resource[1])) {
    throw new OptionError(`${resource[0]} must be a URI without spaces or quotes.`);
  }
  const cookie = pick('access-token-cookie', 'HERALD_ACCESS_TOKEN_COOKIE');
  // RFC 6265 token characters: what a cookie name may hold.
  if (cookie !== undefined && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(cookie[1])) {
    throw new OptionError(`${cookie[0]} is not a valid cookie name; got "${cookie[1]}".`);
  }
  const noQuery = pick('no-query-token', 'HERALD_NO_QUERY_TOKEN');
  const refuseQuery = noQuery === undefined ? undefined : booleanValue(noQuery[1], noQuery[0]);
  return {
    accessTokenIssuer: pick('access-token-issuer', 'HERALD_ACCESS_TOKEN_ISSUER')?.[1],
    trustedIssuers: trustedIssuers.length === 0 ? undefined : trustedIssuers,
    resourceIdentifier: resource?.[1],
    accessTokenCookie: cookie?.[1],
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

function booleanValue(value: string, name: string): boolean {
  if (['1', 'true', 'yes', 'on'].includes(value.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(value.toLowerCase())) return false;
  throw new OptionError(`${name} must be true or false; got "${value}".`);
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
