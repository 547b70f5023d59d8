import { mintToken } from '../auth/mint-token.ts';
import type { HeraldOptions } from '../config.ts';
import type { ServeOptions } from './serve-options.ts';

/** The token development mode prints: publish and subscribe everywhere, on the generated key. */
export function mintDevelopmentToken(herald: HeraldOptions): Promise<string> {
  return mintToken({
    key: typeof herald.publisherJwtKey === 'string' ? herald.publisherJwtKey : '',
    algorithm: herald.publisherJwtAlgorithm ?? herald.jwtAlgorithm ?? 'HS256',
    publish: ['*'],
    subscribe: ['*'],
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
