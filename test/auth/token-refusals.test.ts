import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JWTPayload } from 'jose';
import { fetch } from 'undici';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub, TEST_KEY } from '../support/test-hub.ts';
import { keyPairFor, sign, unsignedToken } from './jwt-fixtures.ts';

const TOPIC = 'https://example.com/orders/1';
const ISSUER = 'https://issuer.example';
const AUDIENCE = 'https://hub.example';
const SECRET = new TextEncoder().encode(TEST_KEY);

/** What a good token carries: the hub checks issuer and audience. */
const GOOD: JWTPayload = {
  iss: ISSUER,
  aud: AUDIENCE,
  mercure: { publish: ['*'], subscribe: ['*'] },
};

interface Refusal {
  readonly name: string;
  readonly reason: string;
  readonly token: () => Promise<string> | string;
}

const rsa = keyPairFor('RS256');

const REFUSALS: Refusal[] = [
  {
    name: 'an unsigned token (alg: none)',
    reason: 'algorithm-not-allowed',
    token: () => unsignedToken(GOOD),
  },
  {
    name: 'a token signed with HS384 where HS256 is configured',
    reason: 'algorithm-not-allowed',
    token: () => sign(GOOD, { algorithm: 'HS384', key: SECRET }),
  },
  {
    name: 'an RS256 token where HS256 is configured',
    reason: 'algorithm-not-allowed',
    token: () => sign(GOOD, { algorithm: 'RS256', key: rsa.privateKey }),
  },
  {
    name: 'a token signed with another key',
    reason: 'bad-signature',
    token: () => sign(GOOD, { algorithm: 'HS256', key: new TextEncoder().encode('y'.repeat(40)) }),
  },
  {
    name: 'a token whose payload was altered after signing',
    reason: 'bad-signature',
    token: async () => {
      const [header, , signature] = (await sign(GOOD, { algorithm: 'HS256', key: SECRET })).split(
        '.',
      );
      const forged = Buffer.from(
        JSON.stringify({ ...GOOD, mercure: { publish: ['*'], subscribe: ['*'], payload: 'x' } }),
      ).toString('base64url');
      return `${header}.${forged}.${signature}`;
    },
  },
  {
    name: 'an expired token',
    reason: 'expired',
    token: () => sign(GOOD, { algorithm: 'HS256', key: SECRET, expiresIn: -5 }),
  },
  {
    name: 'a token not valid yet (nbf)',
    reason: 'not-yet-valid',
    token: () => sign(GOOD, { algorithm: 'HS256', key: SECRET, notBefore: 60 }),
  },
  {
    name: 'a token from another issuer',
    reason: 'wrong-issuer',
    token: () =>
      sign({ ...GOOD, iss: 'https://evil.example' }, { algorithm: 'HS256', key: SECRET }),
  },
  {
    name: 'a token without an issuer',
    reason: 'wrong-issuer',
    token: () => {
      const withoutIssuer = { ...GOOD };
      delete withoutIssuer.iss;
      return sign(withoutIssuer, { algorithm: 'HS256', key: SECRET });
    },
  },
  {
    name: 'a token for another audience',
    reason: 'wrong-audience',
    token: () =>
      sign({ ...GOOD, aud: 'https://other.example' }, { algorithm: 'HS256', key: SECRET }),
  },
  { name: 'a malformed token', reason: 'malformed', token: () => 'not.a.jwt' },
  { name: 'a token of one segment', reason: 'malformed', token: () => 'garbage' },
  {
    name: 'a token whose mercure claim is not an object',
    reason: 'invalid-claims',
    token: () => sign({ ...GOOD, mercure: 'everything' }, { algorithm: 'HS256', key: SECRET }),
  },
  {
    name: 'a token whose mercure.publish is not an array of strings',
    reason: 'invalid-claims',
    token: () => sign({ ...GOOD, mercure: { publish: '*' } }, { algorithm: 'HS256', key: SECRET }),
  },
];

function expectRefusal(
  response: { status: number; headers: { get(name: string): string | null } },
  body: string,
  reason: string,
  token: string,
): void {
  assert.equal(response.status, 401);
  assert.equal(response.headers.get('content-type'), 'application/problem+json');
  assert.equal(response.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
  const problem = JSON.parse(body) as Record<string, unknown>;
  assert.equal(problem['code'], 'HERALD_ERR_INVALID_TOKEN');
  assert.equal(problem['reason'], reason);
  assert.ok(!body.includes(token), 'the token is not echoed');
}

for (const refusal of REFUSALS) {
  test(`${refusal.name} is refused (${refusal.reason}) to publish and to subscribe; nothing is published or delivered`, async (t) => {
    const hub = await startTestHub(t, {
      anonymous: true,
      jwtIssuer: ISSUER,
      jwtAudience: AUDIENCE,
    });
    const watcher = await EventStream.open(t, hub.subscribeUrl(['*']));
    const token = await refusal.token();

    const published = await fetch(hub.hubUrl, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      body: new URLSearchParams({ topic: TOPIC, data: 'forged', private: 'on' }),
    });
    expectRefusal(published, await published.text(), refusal.reason, token);

    for (const headers of [
      { Authorization: `Bearer ${token}` },
      { Cookie: `mercureAuthorization=${token}` },
    ]) {
      const stream = await EventStream.open(t, hub.subscribeUrl(['*']), headers);
      expectRefusal(stream, stream.errorBody ?? '', refusal.reason, token);
    }
    assert.equal(hub.herald.hub.subscriberCount, 1, 'only the watcher subscribes');

    // Nothing was published: a good token's update is the watcher's first and only event.
    const good = await sign(GOOD, { algorithm: 'HS256', key: SECRET });
    const marker = await fetch(hub.hubUrl, {
      method: 'POST',
      headers: { Authorization: `Bearer ${good}` },
      body: new URLSearchParams({ topic: TOPIC, data: 'marker' }),
    });
    assert.equal(marker.status, 200);
    assert.deepEqual(await watcher.eventsBefore('marker'), []);
    // No token is ever logged, nor any internal error.
    assert.ok(!JSON.stringify(hub.logs).includes(token));
    assert.deepEqual(hub.internalErrors, []);
  });
}

test('a good token passes the issuer and audience checks, with aud as an array too', async (t) => {
  const hub = await startTestHub(t, { jwtIssuer: ISSUER, jwtAudience: AUDIENCE });
  for (const aud of [AUDIENCE, ['https://other.example', AUDIENCE]]) {
    const token = await sign({ ...GOOD, aud }, { algorithm: 'HS256', key: SECRET });
    const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
      Authorization: `Bearer ${token}`,
    });
    assert.equal(stream.status, 200);
    stream.close();
  }
});

test('claims under https://mercure.rocks/ are read like those under mercure', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const token = await sign(
    { 'https://mercure.rocks/': { publish: [TOPIC] } },
    { algorithm: 'HS256', key: SECRET },
  );
  const watcher = await EventStream.open(t, hub.subscribeUrl([TOPIC]));
  const result = await hub.publish({ topic: TOPIC, data: 'namespaced' }, token);
  assert.equal(result.status, 200);
  assert.equal((await watcher.waitForEvents(1))[0]?.data, 'namespaced');
});
