import type { HeraldConfig } from '../config.ts';
import { loadVerificationKey } from './jwt-key.ts';
import type { TokenVerifierOptions } from './token-verifier.ts';

/**
 * Loads both roles' keys from a configuration, checking each against its algorithm; throws a
 * JwtKeyError naming the `startHerald()` option at fault.
 */
export function verificationOptions(config: HeraldConfig): TokenVerifierOptions {
  const options = { jwksCooldownMs: config.jwksCooldownMs };
  return {
    publisher: {
      key: loadVerificationKey(
        config.publisherJwtKey,
        config.publisherJwtAlgorithm,
        'publisherJwtKey',
        options,
      ),
      algorithm: config.publisherJwtAlgorithm,
    },
    subscriber: {
      key: loadVerificationKey(
        config.subscriberJwtKey,
        config.subscriberJwtAlgorithm,
        'subscriberJwtKey',
        options,
      ),
      algorithm: config.subscriberJwtAlgorithm,
    },
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    clockToleranceMs: config.jwtClockToleranceMs,
  };
}
