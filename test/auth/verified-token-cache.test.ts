import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JWTVerifyGetKey } from 'jose';
import type { Grants } from '../../src/auth/grants.ts';
import { createTokenVerifier } from '../../src/auth/token-verifier.ts';
import { VerifiedTokenCache } from '../../src/auth/verified-token-cache.ts';
import { HeraldError } from '../../src/core/errors.ts';
import { sign } from './jwt-fixtures.ts';

const SUBSCRIBER_KEY = new TextEncoder().encode('subscriber-key-at-least-32-bytes-long!!');
const PUBLISHER_KEY = new TextEncoder().encode('publisher-key-at-least-32-bytes-long!!!');
const CLAIMS = { mercure: { subscribe: ['https://example.com/a'], publish: ['*'] } };
const CONTEXT = {
  resource: 'http://hub.test/.well-known/mercure',
  hubUrl: 'http://hub.test/.well-known/mercure',
  dialect: '07' as const,
};

function verifierWith(subscriberKey: Uint8Array | JWTVerifyGetKey, cacheEntries?: number) {
  return createTokenVerifier({
    publisher: { key: PUBLISHER_KEY, algorithm: 'HS256' },
    subscriber: { key: subscriberKey, algorithm: 'HS256' },
    cacheEntries,
  });
}

function grants(expiresAt: number | undefined): Grants {
  return {
    dialect: '07',
    publish: [],
    subscribe: [],
    payload: undefined,
    subscribeDetails: [],
    expiresAt,
    subject: undefined,
  };
}

async function refusal(promise: Promise<unknown>): Promise<HeraldError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof HeraldError);
    return error;
  }
  assert.fail('the token was accepted');
}

test('a verified token is answered from the cache for the same role and context, not for another', async () => {
  const verifier = verifierWith(SUBSCRIBER_KEY);
  const token = await sign(CLAIMS, { algorithm: 'HS256', key: SUBSCRIBER_KEY, expiresIn: 60 });
  assert.equal(verifier.verifiedBefore(token, 'subscriber', CONTEXT), undefined);
  const first = await verifier.verify(token, 'subscriber', CONTEXT);
  assert.equal(verifier.verifiedBefore(token, 'subscriber', CONTEXT), first);
  assert.equal(await verifier.verify(token, 'subscriber', CONTEXT), first);
  // Another request dialect or hub URL is another verification.
  assert.equal(
    verifier.verifiedBefore(token, 'subscriber', { ...CONTEXT, dialect: '08' }),
    undefined,
  );
  assert.equal(
    verifier.verifiedBefore(token, 'subscriber', { ...CONTEXT, hubUrl: 'x' }),
    undefined,
  );
  assert.equal(verifier.verifiedBefore(token, 'subscriber'), undefined);
  // The subscriber key's token is no publisher token, cached or not.
  assert.equal(verifier.verifiedBefore(token, 'publisher', CONTEXT), undefined);
  const refused = await refusal(verifier.verify(token, 'publisher', CONTEXT));
  assert.equal(refused.reason, 'bad-signature');
  // And that refusal did not evict or replace the subscriber's verification.
  assert.equal(verifier.verifiedBefore(token, 'subscriber', CONTEXT), first);
});

test('refusals are not cached: a bad token is refused every time', async () => {
  const verifier = verifierWith(SUBSCRIBER_KEY);
  const forged = await sign(CLAIMS, { algorithm: 'HS256', key: PUBLISHER_KEY, expiresIn: 60 });
  for (let i = 0; i < 2; i++) {
    assert.equal(
      (await refusal(verifier.verify(forged, 'subscriber', CONTEXT))).reason,
      'bad-signature',
    );
    assert.equal(verifier.verifiedBefore(forged, 'subscriber', CONTEXT), undefined);
  }
});

test('a token verified by a key set (JWKS) is verified again every time', async () => {
  let lookups = 0;
  const keySet: JWTVerifyGetKey = () => {
    lookups++;
    return SUBSCRIBER_KEY;
  };
  const verifier = verifierWith(keySet);
  const token = await sign(CLAIMS, { algorithm: 'HS256', key: SUBSCRIBER_KEY, expiresIn: 60 });
  await verifier.verify(token, 'subscriber', CONTEXT);
  await verifier.verify(token, 'subscriber', CONTEXT);
  assert.equal(lookups, 2);
  assert.equal(verifier.verifiedBefore(token, 'subscriber', CONTEXT), undefined);
});

test('cacheEntries 0 caches nothing', async () => {
  const verifier = verifierWith(SUBSCRIBER_KEY, 0);
  const token = await sign(CLAIMS, { algorithm: 'HS256', key: SUBSCRIBER_KEY, expiresIn: 60 });
  await verifier.verify(token, 'subscriber', CONTEXT);
  assert.equal(verifier.verifiedBefore(token, 'subscriber', CONTEXT), undefined);
});

test('an entry is used until the token expires, never after', () => {
  let now = 1_000_000;
  const cache = new VerifiedTokenCache(10, () => now);
  const expiring = grants(now + 5_000);
  cache.set('t', 'subscriber', CONTEXT, expiring);
  now += 4_999;
  assert.equal(cache.get('t', 'subscriber', CONTEXT), expiring);
  now += 1;
  assert.equal(cache.get('t', 'subscriber', CONTEXT), undefined);
  assert.equal(cache.size, 0);
  // Already expired: not even stored.
  cache.set('late', 'subscriber', CONTEXT, grants(now));
  assert.equal(cache.size, 0);
  // No exp: the token never expires, cached or not.
  const forever = grants(undefined);
  cache.set('forever', 'subscriber', CONTEXT, forever);
  now += 10 ** 9;
  assert.equal(cache.get('forever', 'subscriber', CONTEXT), forever);
});

test('past maxEntries the oldest verification goes first', () => {
  const cache = new VerifiedTokenCache(2, () => 0);
  const g = grants(undefined);
  cache.set('a', 'subscriber', CONTEXT, g);
  cache.set('b', 'subscriber', CONTEXT, g);
  cache.set('c', 'subscriber', CONTEXT, g);
  assert.equal(cache.size, 2);
  assert.equal(cache.get('a', 'subscriber', CONTEXT), undefined);
  assert.equal(cache.get('b', 'subscriber', CONTEXT), g);
  assert.equal(cache.get('c', 'subscriber', CONTEXT), g);
});
