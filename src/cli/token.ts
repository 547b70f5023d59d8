import { JwtKeyError, loadSigningKey } from '../auth/jwt-key.ts';
import { mintAccessToken, mintToken } from '../auth/mint-token.ts';
import type { MintMatcher } from '../auth/mint-token.ts';
import { asOptionError, parseJwtOptions, SIGNING_FLAGS } from './jwt-options.ts';
import type { RoleJwtOptions } from './jwt-options.ts';
import { OptionError, parseFlags } from './option-reading.ts';
import { readDuration } from '../options/value-kinds.ts';
import { ACCESS_TOKEN_OPTIONS, SIGNING_OPTIONS } from '../options/option-table.ts';
import { givenOptions, pickerOf } from './option-sources.ts';

const FLAGS = {
  ...SIGNING_FLAGS,
  protocol: { type: 'string' },
  publish: { type: 'string', multiple: true },
  'publish-urlpattern': { type: 'string', multiple: true },
  subscribe: { type: 'string', multiple: true },
  'subscribe-urlpattern': { type: 'string', multiple: true },
  'resource-identifier': { type: 'string' },
  'access-token-issuer': { type: 'string' },
  subject: { type: 'string' },
  ttl: { type: 'string' },
  payload: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const TOKEN_HELP = `Usage: herald token [options]

Prints a signed token (a JWT), for development and tests: by default a Mercure 1.0 (draft-08)
access token (RFC 9068: typ at+jwt, iss, aud, sub, client_id, iat, exp, jti and
authorization_details); with --protocol 07, a draft-07 token with a mercure claim.

  --protocol <07|08>         the token's form                      (08)
  --publish <matcher>        a topic it may publish to: an exact topic, or * for all (repeatable);
                             with --protocol 07, a draft-07 selector (URI template, string or *)
  --publish-urlpattern <pattern>  a URL Pattern of topics it may publish to (repeatable; draft-08)
  --subscribe <matcher>      a topic whose private updates it may receive (repeatable; as --publish)
  --subscribe-urlpattern <pattern>  a URL Pattern of such topics (repeatable; draft-08)
  --ttl <duration>           lifetime, e.g. 30s, 15m, 12h or 7d (default 1h)
  --payload <json>           draft-08: a JSON object on the subscribe detail; draft-07: mercure.payload
  --subject <sub>            the "sub" claim (draft-08; default: a fresh urn:uuid)

Signing (the same flags and variables as herald serve; the token for --publish is signed with the
publisher key, for --subscribe with the subscriber key):
  --jwt-key <key>            the HMAC secret (HS*), or for RS*, PS*, ES* and EdDSA a private key as
                             PEM text or a PEM file's path (herald serve verifies with its public
                             half)                                 HERALD_JWT_KEY
  --publisher-jwt-key <key>, --subscriber-jwt-key <key>   HERALD_{PUBLISHER,SUBSCRIBER}_JWT_KEY
  --jwt-alg <alg>            HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512 or EdDSA
                                                                   HERALD_JWT_ALG (HS256)
  --publisher-jwt-alg <alg>, --subscriber-jwt-alg <alg>   HERALD_{PUBLISHER,SUBSCRIBER}_JWT_ALG
  --jwt-issuer <iss>         the "iss" claim: the issuer herald serve trusts with this key
                             (required for draft-08)               HERALD_JWT_ISSUER
  --access-token-issuer <iss>  the draft-08 "iss" when --jwt-issuer is not given
                                                                   HERALD_ACCESS_TOKEN_ISSUER
  --jwt-audience <aud>       the "aud" claim: for draft-08, the hub's resource identifier, e.g.
                             https://hub.example/.well-known/mercure (required for draft-08)
                                                                   HERALD_JWT_AUDIENCE
  --resource-identifier <uri>  the draft-08 "aud" when --jwt-audience is not given
                                                                   HERALD_RESOURCE_IDENTIFIER

A JWKS URL holds public keys only, so it cannot sign: herald token needs the private key.`;

/** The draft-08 claims `herald token` takes from `herald serve`'s options when its own are not given. */
const CLAIM_OPTIONS = ACCESS_TOKEN_OPTIONS.filter(
  ({ flag }) => flag === 'resource-identifier' || flag === 'access-token-issuer',
);

const DEFAULT_TTL_MS = 3_600_000;

type Env = Readonly<Record<string, string | undefined>>;

/** `herald token`: the token for the flags given, or 'help'. */
export async function mintTokenFromArgs(argv: readonly string[], env: Env): Promise<string> {
  const values = parseFlags(argv, FLAGS);
  if (values.help === true) return 'help';

  const given = givenOptions([...SIGNING_OPTIONS, ...CLAIM_OPTIONS], values, env);
  const pick = pickerOf(given);
  const jwt = parseJwtOptions(given);
  const protocol = values.protocol ?? '08';
  if (protocol !== '07' && protocol !== '08') {
    throw new OptionError(`--protocol must be 07 or 08; got "${protocol}".`);
  }
  const publishPatterns = values['publish-urlpattern'] ?? [];
  const subscribePatterns = values['subscribe-urlpattern'] ?? [];
  if (protocol === '07' && publishPatterns.length + subscribePatterns.length > 0) {
    throw new OptionError(
      '--publish-urlpattern and --subscribe-urlpattern are draft-08 matchers: drop --protocol 07, or use URI templates in --publish and --subscribe.',
    );
  }
  const publish = values.publish ?? [];
  const subscribe = values.subscribe ?? [];
  const publishes = publish.length + publishPatterns.length > 0;
  const subscribes = subscribe.length + subscribePatterns.length > 0;
  if (!publishes && !subscribes) {
    throw new OptionError(
      'herald token needs --publish or --subscribe (or their -urlpattern forms, or both).',
    );
  }
  const roles = [...(publishes ? [jwt.publisher] : []), ...(subscribes ? [jwt.subscriber] : [])];
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

  const ttl = values.ttl === undefined ? DEFAULT_TTL_MS : readDuration(values.ttl, '--ttl');
  if (ttl < 1000) throw new OptionError(`--ttl must be at least 1s; got "${values.ttl ?? ''}".`);
  let payload: unknown;
  if (values.payload !== undefined) {
    try {
      payload = JSON.parse(values.payload) as unknown;
    } catch (error) {
      throw new OptionError(`--payload must be JSON (${(error as Error).message}).`);
    }
  }

  if (protocol === '08') {
    const audience = jwt.audience ?? pick('resource-identifier')?.[1];
    const issuer = jwt.issuer ?? pick('access-token-issuer')?.[1];
    if (issuer === undefined) {
      throw new OptionError(
        'A draft-08 access token needs its issuer: --jwt-issuer or --access-token-issuer, the "iss" herald serve trusts with this key.',
      );
    }
    if (audience === undefined) {
      throw new OptionError(
        "A draft-08 access token needs the hub's resource identifier as its audience: --jwt-audience or --resource-identifier (e.g. https://hub.example/.well-known/mercure).",
      );
    }
    if (
      payload !== undefined &&
      (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    ) {
      throw new OptionError('--payload must be a JSON object for a draft-08 token.');
    }
    const matchers = (exact: string[], patterns: string[]): MintMatcher[] => [
      ...exact.map((match) => ({ match })),
      ...patterns.map((match) => ({ match, matchType: 'urlpattern' as const })),
    ];
    return mintAccessToken({
      key,
      algorithm,
      issuer,
      audience,
      ttlSeconds: Math.ceil(ttl / 1000),
      subject: values.subject,
      publish: matchers(publish, publishPatterns),
      subscribe: matchers(subscribe, subscribePatterns),
      payload: payload as Record<string, unknown> | undefined,
    });
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
