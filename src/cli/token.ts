import { JwtKeyError, loadSigningKey } from '../auth/jwt-key.ts';
import { mintToken } from '../auth/mint-token.ts';
import { asOptionError, JWT_FLAGS, JWT_HELP, parseJwtOptions } from './jwt-options.ts';
import type { RoleJwtOptions } from './jwt-options.ts';
import { OptionError, optionPicker, parseFlags } from './option-reading.ts';
import { duration } from './serve-options.ts';

const FLAGS = {
  ...JWT_FLAGS,
  publish: { type: 'string', multiple: true },
  subscribe: { type: 'string', multiple: true },
  ttl: { type: 'string' },
  payload: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const TOKEN_HELP = `Usage: herald token [options]

Prints a signed Mercure token (a JWT), for development and tests.

  --publish <selector>       a topic selector the token may publish to (repeatable)
  --subscribe <selector>     a topic selector whose private updates it may receive (repeatable)
  --ttl <duration>           lifetime, e.g. 30s, 15m, 12h or 7d (default 1h)
  --payload <json>           JSON kept as mercure.payload

The key and algorithm come from the same flags and variables as herald serve: the token for
--publish is signed with the publisher key, for --subscribe with the subscriber key. For RS*, PS*,
ES* and EdDSA the key must be a private key (PEM text or a PEM file's path); herald serve accepts
the same private key and verifies with its public half.

${JWT_HELP}`;

const DEFAULT_TTL_MS = 3_600_000;

type Env = Readonly<Record<string, string | undefined>>;

/** `herald token`: the token for the flags given, or 'help'. */
export async function mintTokenFromArgs(argv: readonly string[], env: Env): Promise<string> {
  const values = parseFlags(argv, FLAGS);
  if (values.help === true) return 'help';

  const pick = optionPicker(values, env);
  const jwt = parseJwtOptions(pick);
  const publish = values.publish ?? [];
  const subscribe = values.subscribe ?? [];
  if (publish.length === 0 && subscribe.length === 0) {
    throw new OptionError('herald token needs --publish or --subscribe (or both).');
  }
  const roles = [
    ...(publish.length > 0 ? [jwt.publisher] : []),
    ...(subscribe.length > 0 ? [jwt.subscriber] : []),
  ];
  const [role] = roles as [RoleJwtOptions, ...RoleJwtOptions[]];
  for (const other of roles) {
    if (!sameKey(role, other)) {
      throw new OptionError(
        'The publisher and subscriber keys or algorithms differ, so no token can be valid for both: mint one with --publish and another with --subscribe.',
      );
    }
  }
  if (role.key === undefined) {
    throw new OptionError(
      'herald token needs the key to sign with: --jwt-key or HERALD_JWT_KEY (or the per-role --publisher-jwt-key, --subscriber-jwt-key).',
    );
  }
  if (typeof role.key.source !== 'string') {
    throw new OptionError(
      `${role.key.name} is a JWKS URL, which holds public keys only: herald token needs a private key (--jwt-key).`,
    );
  }
  const algorithm = role.algorithm?.value ?? 'HS256';
  let key;
  try {
    key = loadSigningKey(role.key.source, algorithm, role.key.name);
  } catch (error) {
    throw error instanceof JwtKeyError ? asOptionError(error, role) : error;
  }

  const ttl = values.ttl === undefined ? DEFAULT_TTL_MS : duration(values.ttl, '--ttl');
  if (ttl < 1000) throw new OptionError(`--ttl must be at least 1s; got "${values.ttl ?? ''}".`);
  let payload: unknown;
  if (values.payload !== undefined) {
    try {
      payload = JSON.parse(values.payload) as unknown;
    } catch (error) {
      throw new OptionError(`--payload must be JSON (${(error as Error).message}).`);
    }
  }

  return mintToken({
    key,
    algorithm,
    publish: publish.length > 0 ? publish : undefined,
    subscribe: subscribe.length > 0 ? subscribe : undefined,
    payload,
    ttlSeconds: Math.ceil(ttl / 1000),
    issuer: jwt.issuer,
    audience: jwt.audience,
  });
}

function sameKey(a: RoleJwtOptions, b: RoleJwtOptions): boolean {
  return (
    JSON.stringify(a.key?.source) === JSON.stringify(b.key?.source) &&
    (a.algorithm?.value ?? 'HS256') === (b.algorithm?.value ?? 'HS256')
  );
}
