import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { fetch } from 'undici';
import type { JwtAlgorithm } from '../../src/config.ts';
import { startHerald } from '../../src/herald.ts';
import { tempDir } from '../support/cli.ts';
import { EventStream } from '../support/event-stream.ts';
import type { TestHub } from '../support/test-hub.ts';
import { startTestHub } from '../support/test-hub.ts';
import type { KeyPair } from './jwt-fixtures.ts';
import { keyPairFor, sign, startJwksServer } from './jwt-fixtures.ts';

const TOPIC = 'https://example.com/books/1';
const EVERYTHING = { mercure: { publish: ['*'], subscribe: ['*'] } };

type AsymmetricAlgorithm = Exclude<JwtAlgorithm, `HS${string}`>;
const ASYMMETRIC: AsymmetricAlgorithm[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

async function publish(hub: TestHub, token: string, data = 'hello') {
  const response = await fetch(hub.hubUrl, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body: new URLSearchParams({ topic: TOPIC, data }),
  });
  return {
    status: response.status,
    body: (await response.json().catch(() => ({}))) as Record<string, unknown>,
  };
}

/** A token signed by `pair` publishes, and subscribes to what it published. */
async function assertRoundTrip(t: TestContext, hub: TestHub, token: string): Promise<void> {
  const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
    Authorization: `Bearer ${token}`,
  });
  assert.equal(stream.status, 200, stream.errorBody);
  const response = await fetch(hub.hubUrl, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body: new URLSearchParams({ topic: TOPIC, data: 'signed', private: 'on' }),
  });
  assert.equal(response.status, 200, await response.text());
  assert.equal((await stream.waitForEvents(1))[0]?.data, 'signed');
  stream.close();
}

for (const algorithm of ASYMMETRIC) {
  test(`${algorithm}: tokens verify with a public key given as PEM text`, async (t) => {
    const pair = keyPairFor(algorithm);
    const hub = await startTestHub(t, {
      publisherJwtKey: pair.publicPem,
      subscriberJwtKey: pair.publicPem,
      jwtAlgorithm: algorithm,
    });
    await assertRoundTrip(t, hub, await sign(EVERYTHING, { algorithm, key: pair.privateKey }));
  });
}

test('RS256 and ES256: keys read from PEM files (a private key file works too)', async (t) => {
  const dir = tempDir(t);
  for (const algorithm of ['RS256', 'ES256'] as const) {
    const pair = keyPairFor(algorithm);
    const publicFile = join(dir, `${algorithm}.pub.pem`);
    const privateFile = join(dir, `${algorithm}.key.pem`);
    writeFileSync(publicFile, pair.publicPem);
    writeFileSync(privateFile, pair.privatePem);
    for (const file of [publicFile, privateFile]) {
      const hub = await startTestHub(t, {
        publisherJwtKey: file,
        subscriberJwtKey: file,
        jwtAlgorithm: algorithm,
      });
      await assertRoundTrip(t, hub, await sign(EVERYTHING, { algorithm, key: pair.privateKey }));
    }
  }
});

test('HS/RS confusion: an HS256 token signed with the RSA public key PEM text is refused', async (t) => {
  const pair = keyPairFor('RS256');
  const hub = await startTestHub(t, {
    publisherJwtKey: pair.publicPem,
    subscriberJwtKey: pair.publicPem,
    jwtAlgorithm: 'RS256',
    anonymous: true,
  });
  const watcher = await EventStream.open(t, hub.subscribeUrl(['*']));
  for (const pem of [pair.publicPem, pair.publicPem.trim()]) {
    const forged = await sign(EVERYTHING, {
      algorithm: 'HS256',
      key: new TextEncoder().encode(pem),
    });
    const result = await publish(hub, forged);
    assert.equal(result.status, 401);
    assert.equal(result.body['code'], 'HERALD_ERR_INVALID_TOKEN');
    assert.equal(result.body['reason'], 'algorithm-not-allowed');
    const stream = await EventStream.open(t, hub.subscribeUrl(['*']), {
      Authorization: `Bearer ${forged}`,
    });
    assert.equal(stream.status, 401);
  }
  // Another asymmetric algorithm with a fitting key is refused as well.
  const es = keyPairFor('ES256');
  const other = await publish(
    hub,
    await sign(EVERYTHING, { algorithm: 'ES256', key: es.privateKey }),
  );
  assert.equal(other.body['reason'], 'algorithm-not-allowed');
  // Nothing refused was delivered: a rightly signed marker is the watcher's first event.
  const marker = await publish(
    hub,
    await sign(EVERYTHING, { algorithm: 'RS256', key: pair.privateKey }),
    'marker',
  );
  assert.equal(marker.status, 200);
  assert.deepEqual(await watcher.eventsBefore('marker'), []);
  assert.equal(hub.herald.hub.subscriberCount, 1);
});

test('publisher and subscriber have their own keys and algorithms', async (t) => {
  const publisher = keyPairFor('RS256');
  const subscriber = keyPairFor('ES256');
  const hub = await startTestHub(t, {
    publisherJwtKey: publisher.publicPem,
    publisherJwtAlgorithm: 'RS256',
    subscriberJwtKey: subscriber.publicPem,
    subscriberJwtAlgorithm: 'ES256',
  });
  const publisherToken = await sign(EVERYTHING, { algorithm: 'RS256', key: publisher.privateKey });
  const subscriberToken = await sign(EVERYTHING, {
    algorithm: 'ES256',
    key: subscriber.privateKey,
  });
  const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
    Authorization: `Bearer ${subscriberToken}`,
  });
  assert.equal(stream.status, 200);
  assert.equal((await publish(hub, publisherToken)).status, 200);
  await stream.waitForEvents(1);
  // Each token is refused in the other role.
  assert.equal((await publish(hub, subscriberToken)).body['reason'], 'algorithm-not-allowed');
  const wrong = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
    Authorization: `Bearer ${publisherToken}`,
  });
  assert.equal(wrong.status, 401);
});

async function startJwksHub(t: TestContext, url: string, algorithm: JwtAlgorithm) {
  return startTestHub(t, {
    publisherJwtKey: { jwksUrl: url },
    subscriberJwtKey: { jwksUrl: url },
    jwtAlgorithm: algorithm,
    // Tests rotate keys at once; in production a 30 s cooldown shields the key server.
    jwksCooldownMs: 0,
  });
}

for (const algorithm of ['RS256', 'ES256'] as const) {
  test(`${algorithm} through a JWKS: verified, rotated to a new kid without a restart`, async (t) => {
    const jwks = await startJwksServer(t);
    const first: KeyPair = keyPairFor(algorithm);
    const second: KeyPair = keyPairFor(algorithm);
    await jwks.serve([{ kid: 'k1', algorithm, publicKey: first.publicKey }]);
    const hub = await startJwksHub(t, jwks.url, algorithm);

    const firstToken = await sign(EVERYTHING, { algorithm, key: first.privateKey, kid: 'k1' });
    await assertRoundTrip(t, hub, firstToken);
    assert.equal((await publish(hub, firstToken)).status, 200);
    const fetchesBefore = jwks.fetches;
    assert.ok(fetchesBefore >= 1);
    assert.equal(jwks.fetches, fetchesBefore, 'the set is cached');

    // Rotation: the key server now serves k2 only; a token signed with k2 is accepted at once.
    await jwks.serve([{ kid: 'k2', algorithm, publicKey: second.publicKey }]);
    const secondToken = await sign(EVERYTHING, { algorithm, key: second.privateKey, kid: 'k2' });
    await assertRoundTrip(t, hub, secondToken);
    assert.ok(jwks.fetches > fetchesBefore, 'the unknown kid made the hub fetch the set again');

    // A kid the set does not hold, or a key that is not the kid's, is refused.
    const stranger = keyPairFor(algorithm);
    const unknown = await publish(
      hub,
      await sign(EVERYTHING, { algorithm, key: stranger.privateKey, kid: 'k9' }),
    );
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body['reason'], 'unknown-key');
    const forged = await publish(
      hub,
      await sign(EVERYTHING, { algorithm, key: stranger.privateKey, kid: 'k2' }),
    );
    assert.equal(forged.body['reason'], 'bad-signature');
  });
}

test('a JWKS that cannot be fetched answers 503, not 401, and recovers', async (t) => {
  const jwks = await startJwksServer(t);
  const pair = keyPairFor('ES256');
  jwks.fail();
  const hub = await startJwksHub(t, jwks.url, 'ES256');
  const token = await sign(EVERYTHING, { algorithm: 'ES256', key: pair.privateKey, kid: 'k1' });
  const down = await publish(hub, token);
  assert.equal(down.status, 503);
  assert.equal(down.body['code'], 'HERALD_ERR_KEYS_UNAVAILABLE');
  await jwks.serve([{ kid: 'k1', algorithm: 'ES256', publicKey: pair.publicKey }]);
  assert.equal((await publish(hub, token)).status, 200);
});

// An HMAC secret long enough for any HS algorithm: these cases are about the other key.
const LONG_SECRET = 'h'.repeat(64);

const BAD_KEYS: [string, Parameters<typeof startHerald>[0], RegExp][] = [
  [
    'an HMAC secret shorter than the HS256 hash (RFC 7518 §3.2)',
    { publisherJwtKey: 'k'.repeat(31), subscriberJwtKey: LONG_SECRET },
    /publisherJwtKey is 31 bytes; HS256 needs a secret of at least 32 bytes \(RFC 7518 §3\.2\)\. Make one with: openssl rand -base64 48/,
  ],
  [
    'an HMAC secret shorter than the HS384 hash',
    { publisherJwtKey: 'k'.repeat(47), subscriberJwtKey: LONG_SECRET, jwtAlgorithm: 'HS384' },
    /publisherJwtKey is 47 bytes; HS384 needs a secret of at least 48 bytes/,
  ],
  [
    'an HMAC secret shorter than the HS512 hash (for one role)',
    {
      publisherJwtKey: LONG_SECRET,
      subscriberJwtKey: 'é'.repeat(31),
      subscriberJwtAlgorithm: 'HS512',
    },
    /subscriberJwtKey is 62 bytes; HS512 needs a secret of at least 64 bytes/,
  ],
  [
    'a PEM key with an HMAC algorithm',
    {
      publisherJwtKey: keyPairFor('RS256').publicPem,
      subscriberJwtKey: LONG_SECRET,
      jwtAlgorithm: 'HS256',
    },
    /publisherJwtKey holds a PEM key, but HS256 is an HMAC algorithm/,
  ],
  [
    'an EC key for RS256',
    {
      publisherJwtKey: LONG_SECRET,
      subscriberJwtKey: keyPairFor('ES256').publicPem,
      subscriberJwtAlgorithm: 'RS256',
      publisherJwtAlgorithm: 'HS256',
    },
    /subscriberJwtKey is an EC key on prime256v1, but RS256 needs an RSA key/,
  ],
  [
    'a P-256 key for ES384',
    {
      publisherJwtKey: keyPairFor('ES256').publicPem,
      subscriberJwtKey: keyPairFor('ES384').publicPem,
      jwtAlgorithm: 'ES384',
    },
    /publisherJwtKey is an EC key on prime256v1, but ES384 needs an EC key on secp384r1/,
  ],
  [
    'a PEM that does not parse',
    {
      publisherJwtKey: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n',
      subscriberJwtKey: LONG_SECRET,
      publisherJwtAlgorithm: 'RS256',
    },
    /publisherJwtKey does not hold a PEM key that parses/,
  ],
  [
    'a missing PEM file',
    {
      publisherJwtKey: '/nonexistent/key.pem',
      subscriberJwtKey: LONG_SECRET,
      publisherJwtAlgorithm: 'ES256',
    },
    /publisherJwtKey must be a PEM key or the path of a PEM file for ES256; the file cannot be read \(ENOENT\)/,
  ],
  [
    'a JWKS with an HMAC algorithm',
    { publisherJwtKey: { jwksUrl: 'https://idp.example/jwks' }, subscriberJwtKey: LONG_SECRET },
    /publisherJwtKey is a JWKS URL.*not HS256/,
  ],
  [
    'a JWKS URL that is not http(s)',
    {
      publisherJwtKey: { jwksUrl: 'ftp://idp.example/jwks' },
      subscriberJwtKey: LONG_SECRET,
      jwtAlgorithm: 'RS256',
    },
    /publisherJwtKey must be an http\(s\) URL/,
  ],
];

for (const [name, options, message] of BAD_KEYS) {
  test(`startHerald refuses ${name}, naming the option`, async () => {
    await assert.rejects(
      startHerald({ port: 0, host: '127.0.0.1', store: { kind: 'memory' }, ...options }),
      message,
    );
  });
}
