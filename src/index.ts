export { startHerald } from './herald.ts';
export type { HeraldRuntime, RunningHerald } from './herald.ts';
export { DEFAULTS, resolveConfig } from './config.ts';
export { ConfigError } from './options/config-error.ts';
export type {
  HeraldConfig,
  HeraldOptions,
  JwtAlgorithm,
  JwtKeySource,
  StoreConfig,
  TlsConfig,
} from './config.ts';
export { TlsCredentialsError } from './http/tls-credentials.ts';
export { mintAccessToken, mintToken } from './auth/mint-token.ts';
export type { MintAccessTokenOptions, MintMatcher, MintTokenOptions } from './auth/mint-token.ts';
export { ERROR_CATALOG, HeraldError } from './core/errors.ts';
export type { ErrorCode } from './core/errors.ts';
export type { Backend, HistoryRead, Position } from './core/backend.ts';
export type { NewUpdate, Update } from './core/update.ts';
