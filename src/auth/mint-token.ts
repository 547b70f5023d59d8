import { SignJWT } from 'jose';

export interface MintTokenOptions {
  readonly key: string;
  readonly algorithm: 'HS256' | 'HS384' | 'HS512';
  readonly publish?: readonly string[] | undefined;
  readonly subscribe?: readonly string[] | undefined;
  readonly payload?: unknown;
  /** Lifetime in seconds; `undefined` mints a token that never expires (development only). */
  readonly ttlSeconds?: number | undefined;
}

/** Signs a Mercure token, for development mode, `herald token` and tests. */
export async function mintToken(options: MintTokenOptions): Promise<string> {
  const mercure: Record<string, unknown> = {};
  if (options.publish !== undefined) mercure['publish'] = options.publish;
  if (options.subscribe !== undefined) mercure['subscribe'] = options.subscribe;
  if (options.payload !== undefined) mercure['payload'] = options.payload;
  const jwt = new SignJWT({ mercure }).setProtectedHeader({ alg: options.algorithm }).setIssuedAt();
  if (options.ttlSeconds !== undefined) jwt.setExpirationTime(`${options.ttlSeconds}s`);
  return jwt.sign(new TextEncoder().encode(options.key));
}
