import { mintAccessToken, mintToken } from '../auth/mint-token.ts';
import type { HeraldOptions } from '../config.ts';
import type { ServeOptions } from './serve-options.ts';
import { DEVELOPMENT_TOKEN_IDENTITY } from './serve-options.ts';

// A development token outlives the runs that keep its key (herald-data/development-jwt-key).
const DEVELOPMENT_TOKEN_TTL_SECONDS = 365 * 24 * 3600;

/**
 * The token development mode prints: publish and subscribe everywhere, on the generated key. A
 * draft-08 access token, so that both draft-07 requests (which take either form) and draft-08
 * requests (which take access tokens only) accept it; on a draft-07-only hub, a draft-07 token.
 */
export function mintDevelopmentToken(herald: HeraldOptions): Promise<string> {
  const key = typeof herald.publisherJwtKey === 'string' ? herald.publisherJwtKey : '';
  const algorithm = herald.publisherJwtAlgorithm ?? herald.jwtAlgorithm ?? 'HS256';
  if (herald.protocol === '07') {
    return mintToken({ key, algorithm, publish: ['*'], subscribe: ['*'] });
  }
  return mintAccessToken({
    key,
    algorithm,
    issuer: herald.accessTokenIssuer ?? herald.jwtIssuer ?? DEVELOPMENT_TOKEN_IDENTITY,
    audience: herald.resourceIdentifier ?? DEVELOPMENT_TOKEN_IDENTITY,
    ttlSeconds: DEVELOPMENT_TOKEN_TTL_SECONDS,
    publish: [{ match: '*' }],
    subscribe: [{ match: '*' }],
  });
}

/**
 * In development mode only, mints the publisher token once, before the hub starts, and hands it
 * to the hub's configuration (`developmentPublisherToken`) so that the web UI's debugger can
 * pre-fill it; the banner prints the same token. Outside development mode the options are
 * returned unchanged: no token is ever given to the UI.
 */
export async function withDevelopmentToken(options: ServeOptions): Promise<ServeOptions> {
  if (!options.development) return options;
  const token = await mintDevelopmentToken(options.herald);
  return { ...options, herald: { ...options.herald, developmentPublisherToken: token } };
}
