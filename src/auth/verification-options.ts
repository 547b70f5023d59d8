import type { HeraldConfig } from '../config.ts';
import { servesDialect } from '../core/dialect.ts';
import { JwtKeyError, loadVerificationKey } from './jwt-key.ts';
import type { IssuerVerification, TokenVerifierOptions } from './token-verifier.ts';

/**
 * Loads every key from a configuration, checking each against its algorithm; throws a
 * JwtKeyError naming the `startHerald()` option at fault.
 */
export function verificationOptions(config: HeraldConfig): TokenVerifierOptions {
  const options = { jwksCooldownMs: config.jwksCooldownMs };
  const publisher = {
    key: loadVerificationKey(
      config.publisherJwtKey,
      config.publisherJwtAlgorithm,
      'publisherJwtKey',
      options,
    ),
    algorithm: config.publisherJwtAlgorithm,
  };
  const subscriber = {
    key: loadVerificationKey(
      config.subscriberJwtKey,
      config.subscriberJwtAlgorithm,
      'subscriberJwtKey',
      options,
    ),
    algorithm: config.subscriberJwtAlgorithm,
  };
  const issuers: IssuerVerification[] = [];
  // The main keys verify the access tokens of the issuer they are bound to, when one is named.
  const mainIssuer = config.accessTokenIssuer ?? config.jwtIssuer;
  if (mainIssuer !== null) {
    issuers.push({ issuer: mainIssuer, publisher: [publisher], subscriber: [subscriber] });
  }
  config.trustedIssuers.forEach((trusted, index) => {
    if (trusted.issuer === '') throw new JwtKeyError(`trustedIssuers[${index}].issuer is empty.`);
    const verification = {
      key: loadVerificationKey(
        trusted.key,
        trusted.algorithm,
        `trustedIssuers[${index}].key`,
        options,
      ),
      algorithm: trusted.algorithm,
    };
    const roles = trusted.roles ?? ['publisher', 'subscriber'];
    issuers.push({
      issuer: trusted.issuer,
      publisher: roles.includes('publisher') ? [verification] : [],
      subscriber: roles.includes('subscriber') ? [verification] : [],
    });
  });
  return {
    publisher,
    subscriber,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    clockToleranceMs: config.jwtClockToleranceMs,
    issuers,
    acceptMercureClaim: servesDialect(config.protocol, '07'),
    acceptAccessTokens: servesDialect(config.protocol, '08'),
  };
}
