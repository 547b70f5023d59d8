import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { SignJWT } from 'jose';
import type { JWTPayload } from 'jose';
import { fetch } from 'undici';
import type { HeraldOptions } from '../../src/config.ts';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub, TEST_KEY } from '../support/test-hub.ts';
import type { TestHub } from '../support/test-hub.ts';
import { keyPairFor } from './jwt-fixtures.ts';

// Draft-08 access tokens (RFC 9068) against a real hub: the main key belongs to ISSUER; IDP and
// THIRD are further trusted issuers with their own ES256 keys; IDP signs subscriber tokens only.
const ISSUER = 'https://publisher.example';
const IDP = 'https://idp.example';
const THIRD = 'https://third.example';
const SECRET = new TextEncoder().encode(TEST_KEY);
const MERCURE = 'https://mercure.rocks/authorization-detail';
const TOPIC = 'https://example.com/books/1';
const idpKeys = keyPairFor('ES256');
const thirdKeys = keyPairFor('ES256');

const HUB_OPTIONS: Partial<HeraldOptions> = {
  anonymous: true,
  accessTokenIssuer: ISSUER,
  trustedIssuers: [
    { issuer: IDP, key: idpKeys.publicPem, algorithm: 'ES256', roles: ['subscriber'] },
    { issuer: THIRD, key: thirdKeys.publicPem, algorithm: 'ES256' },
  ],
};

const PUBLISH_ALL = [{ type: MERCURE, actions: ['publish'], topics: [{ match: '*' }] }];

interface AccessTokenOptions {
  readonly typ?: string | undefined;
  readonly alg?: string;
  readonly key?: Uint8Array | KeyObject;
  /** Seconds from now; `null`: no `exp`. */
  readonly exp?: number | null;
  readonly nbf?: number;
}

/** Signs claims as an access token, bypassing Herald's minting (to forge bad ones too). */
async function accessToken(claims: JWTPayload, options: AccessTokenOptions = {}): Promise<string> {
  const typ = 'typ' in options ? options.typ : 'at+jwt';
  const jwt = new SignJWT(claims).setProtectedHeader({
    alg: options.alg ?? 'HS256',
    ...(typ === undefined ? {} : { typ }),
  });
  const now = Math.floor(Date.now() / 1000);
  const exp = options.exp === undefined ? 60 : options.exp;
  if (exp !== null) jwt.setExpirationTime(now + exp);
  if (options.nbf !== undefined) jwt.setNotBefore(now + options.nbf);
  return jwt.sign(options.key ?? SECRET);
}

/** What a good access token of ISSUER for this hub carries. */
function goodClaims(hub: TestHub, details: unknown = PUBLISH_ALL): JWTPayload {
  return {
    iss: ISSUER,
    aud: hub.hubUrl,
    sub: 'urn:uuid:7c1c7c0e-1a47-4b5e-9d3c-3b3c7d5e0a11',
    client_id: ISSUER,
    jti: 'urn:uuid:0e0b6b3e-5a8c-4c39-8a8e-7a0d9f1d2c3b',
    authorization_details: details,
  };
}

function metadataUrl(hub: TestHub): string {
  const url = new URL(hub.hubUrl);
  return `${url.origin}/.well-known/oauth-protected-resource/.well-known/mercure`;
}

async function publish(hub: TestHub, token: string, topic = TOPIC) {
  const response = await fetch(hub.hubUrl, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body: new URLSearchParams({ topic, data: 'forged' }),
  });
  return { response, body: await response.text() };
}

function problem(body: string): Record<string, unknown> {
  return JSON.parse(body) as Record<string, unknown>;
}

/** Publishes a marker with a good token: it must be the watcher's first and only event. */
async function assertNothingPublished(hub: TestHub, watcher: EventStream): Promise<void> {
  const marker = await fetch(hub.hubUrl, {
    method: 'POST',
    headers: { Authorization: `Bearer ${await accessToken(goodClaims(hub))}` },
    body: new URLSearchParams({ topic: TOPIC, data: 'marker' }),
  });
  assert.equal(marker.status, 200);
  await watcher.waitForEvents(1);
  assert.deepEqual(
    watcher.events.map((event) => event.data),
    ['marker'],
  );
}

interface Refusal {
  readonly name: string;
  readonly reason: string;
  readonly token: (hub: TestHub) => Promise<string>;
}

const detail = (fields: Record<string, unknown>) => [{ type: MERCURE, ...fields }];
const malformed = (name: string, details: unknown): Refusal => ({
  name: `authorization_details ${name}`,
  reason: 'invalid-authorization-details',
  token: (hub) => accessToken(goodClaims(hub, details)),
});

const REFUSALS: Refusal[] = [
  {
    name: 'a token with authorization_details but typ JWT (an ID token, say)',
    reason: 'wrong-type',
    token: (hub) => accessToken(goodClaims(hub), { typ: 'JWT' }),
  },
  {
    name: 'a token with authorization_details and no typ',
    reason: 'wrong-type',
    token: (hub) => accessToken(goodClaims(hub), { typ: undefined }),
  },
  {
    name: 'an access token from an unknown issuer',
    reason: 'unknown-issuer',
    token: (hub) => accessToken({ ...goodClaims(hub), iss: 'https://evil.example' }),
  },
  {
    name: 'an access token without an issuer',
    reason: 'unknown-issuer',
    token: async (hub) => {
      const claims = goodClaims(hub);
      delete claims.iss;
      return accessToken(claims);
    },
  },
  {
    name: "an access token naming a trusted issuer but signed with another trusted issuer's key",
    reason: 'bad-signature',
    token: (hub) =>
      accessToken({ ...goodClaims(hub), iss: THIRD }, { alg: 'ES256', key: idpKeys.privateKey }),
  },
  {
    name: "an access token naming the main issuer but signed with a trusted issuer's key",
    reason: 'algorithm-not-allowed',
    token: (hub) => accessToken(goodClaims(hub), { alg: 'ES256', key: thirdKeys.privateKey }),
  },
  {
    name: 'a publisher access token of an issuer trusted for subscriber tokens only',
    reason: 'unknown-issuer',
    token: (hub) =>
      accessToken({ ...goodClaims(hub), iss: IDP }, { alg: 'ES256', key: idpKeys.privateKey }),
  },
  {
    name: 'an access token for another hub (aud)',
    reason: 'wrong-audience',
    token: (hub) =>
      accessToken({ ...goodClaims(hub), aud: 'https://other-hub.example/.well-known/mercure' }),
  },
  {
    name: 'an access token without aud',
    reason: 'wrong-audience',
    token: async (hub) => {
      const claims = goodClaims(hub);
      delete claims.aud;
      return accessToken(claims);
    },
  },
  {
    name: 'an access token without exp',
    reason: 'missing-claim',
    token: (hub) => accessToken(goodClaims(hub), { exp: null }),
  },
  {
    name: 'an expired access token',
    reason: 'expired',
    token: (hub) => accessToken(goodClaims(hub), { exp: -5 }),
  },
  {
    name: 'an access token not valid yet (nbf)',
    reason: 'not-yet-valid',
    token: (hub) => accessToken(goodClaims(hub), { nbf: 60 }),
  },
  malformed('that is not an array', { type: MERCURE, actions: ['publish'], topics: [] }),
  malformed('holding a string', ['publish']),
  malformed('with an entry without type', [{ actions: ['publish'], topics: [{ match: '*' }] }]),
  malformed('without actions', detail({ topics: [{ match: '*' }] })),
  malformed('with empty actions', detail({ actions: [], topics: [{ match: '*' }] })),
  malformed(
    'with a non-string action',
    detail({ actions: ['publish', 1], topics: [{ match: '*' }] }),
  ),
  malformed('without topics', detail({ actions: ['publish'] })),
  malformed('with empty topics', detail({ actions: ['publish'], topics: [] })),
  malformed('with a bare-string topic', detail({ actions: ['publish'], topics: ['*'] })),
  malformed('with a topic without match', detail({ actions: ['publish'], topics: [{}] })),
  malformed('with a non-string match', detail({ actions: ['publish'], topics: [{ match: 7 }] })),
  malformed(
    'with an unknown match_type',
    detail({ actions: ['publish'], topics: [{ match: '*', match_type: 'regex' }] }),
  ),
  malformed(
    'with a match_type in the wrong case',
    detail({ actions: ['publish'], topics: [{ match: TOPIC, match_type: 'Exact' }] }),
  ),
  malformed(
    'with a control character in a match',
    detail({ actions: ['publish'], topics: [{ match: `${TOPIC}\u0085` }] }),
  ),
  malformed(
    'with a payload that is not an object',
    detail({ actions: ['subscribe'], topics: [{ match: '*' }], payload: 'x' }),
  ),
  malformed(
    'with more topics than the limit',
    detail({
      actions: ['publish'],
      topics: Array.from({ length: 65 }, (_, i) => ({ match: `${TOPIC}/${i}` })),
    }),
  ),
  malformed(
    'with more Mercure details than the limit',
    Array.from({ length: 65 }, () => PUBLISH_ALL[0]),
  ),
  malformed(
    'with a match longer than the limit',
    detail({ actions: ['publish'], topics: [{ match: `${TOPIC}/${'a'.repeat(2048)}` }] }),
  ),
  malformed('where one detail of two is invalid (no partial acceptance)', [
    ...PUBLISH_ALL,
    { type: MERCURE, actions: ['publish'], topics: [{ match: TOPIC, match_type: 'nope' }] },
  ]),
];

async function hubWithWatcher(t: TestContext, options: Partial<HeraldOptions> = {}) {
  const hub = await startTestHub(t, { ...HUB_OPTIONS, ...options });
  const watcher = await EventStream.open(t, hub.subscribeUrl(['*']));
  assert.equal(watcher.status, 200);
  return { hub, watcher };
}

for (const refusal of REFUSALS) {
  test(`draft-08: ${refusal.name} is refused, 401 invalid_token (${refusal.reason}); nothing is published`, async (t) => {
    const { hub, watcher } = await hubWithWatcher(t);
    const token = await refusal.token(hub);
    const { response, body } = await publish(hub, token);
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('content-type'), 'application/problem+json');
    assert.equal(
      response.headers.get('www-authenticate'),
      `Bearer error="invalid_token", resource_metadata="${metadataUrl(hub)}"`,
    );
    assert.equal(problem(body)['code'], 'HERALD_ERR_INVALID_TOKEN');
    assert.equal(problem(body)['reason'], refusal.reason);
    assert.ok(!body.includes(token), 'the token is not echoed');
    await assertNothingPublished(hub, watcher);
  });
}

test('draft-08: good access tokens are accepted: application/at+jwt in any case, aud as an array, another trusted issuer with its own key', async (t) => {
  const hub = await startTestHub(t, HUB_OPTIONS);
  const tokens = [
    await accessToken(goodClaims(hub), { typ: 'application/AT+JWT' }),
    await accessToken({ ...goodClaims(hub), aud: ['https://other.example', hub.hubUrl] }),
    await accessToken(
      { ...goodClaims(hub), iss: THIRD },
      { alg: 'ES256', key: thirdKeys.privateKey },
    ),
  ];
  for (const token of tokens) {
    const { response, body } = await publish(hub, token);
    assert.equal(response.status, 200, body);
  }
});

test('draft-08: an unknown action grants nothing and invalidates nothing', async (t) => {
  const { hub, watcher } = await hubWithWatcher(t);
  const mixed = await accessToken(
    goodClaims(hub, detail({ actions: ['publish', 'x-future'], topics: [{ match: TOPIC }] })),
  );
  const { response, body } = await publish(hub, mixed);
  assert.equal(response.status, 200, body);
  await watcher.waitForEvents(1);

  const onlyUnknown = await accessToken(
    goodClaims(hub, detail({ actions: ['x-future'], topics: [{ match: '*' }] })),
  );
  const refused = await publish(hub, onlyUnknown);
  assert.equal(refused.response.status, 403);
  assert.equal(problem(refused.body)['code'], 'HERALD_ERR_FORBIDDEN');
  assert.equal(watcher.events.length, 1);
});

test('draft-08 RFC 6750 answers: bare 401 without a token, 403 insufficient_scope, 400 invalid_request; each with resource_metadata and the problem document', async (t) => {
  const { hub, watcher } = await hubWithWatcher(t);

  const none = await fetch(hub.hubUrl, {
    method: 'POST',
    body: new URLSearchParams({ topic: TOPIC, data: 'forged' }),
  });
  assert.equal(none.status, 401);
  assert.equal(
    none.headers.get('www-authenticate'),
    `Bearer resource_metadata="${metadataUrl(hub)}"`,
  );
  assert.equal(problem(await none.text())['code'], 'HERALD_ERR_UNAUTHORIZED');

  // A draft-08 subscription without a token, on a hub that wants one.
  const closed = await startTestHub(t, { ...HUB_OPTIONS, anonymous: false });
  const anonymous = await EventStream.open(
    t,
    `${closed.hubUrl}?match=${encodeURIComponent(TOPIC)}`,
  );
  assert.equal(anonymous.status, 401);
  assert.equal(
    anonymous.headers.get('www-authenticate'),
    `Bearer resource_metadata="${metadataUrl(closed)}"`,
  );

  const narrow = await accessToken(
    goodClaims(hub, detail({ actions: ['publish'], topics: [{ match: `${TOPIC}/other` }] })),
  );
  const scope = await publish(hub, narrow);
  assert.equal(scope.response.status, 403);
  assert.equal(
    scope.response.headers.get('www-authenticate'),
    `Bearer error="insufficient_scope", resource_metadata="${metadataUrl(hub)}"`,
  );
  assert.equal(scope.response.headers.get('content-type'), 'application/problem+json');
  assert.equal(problem(scope.body)['code'], 'HERALD_ERR_FORBIDDEN');

  // The authorization query parameter in a draft-08 subscription, even beside a header.
  const good = await accessToken(goodClaims(hub));
  const url = `${hub.hubUrl}?match=${encodeURIComponent(TOPIC)}&authorization=${good}`;
  for (const headers of [{}, { Authorization: `Bearer ${good}` }]) {
    const inQuery = await EventStream.open(t, url, headers);
    assert.equal(inQuery.status, 400);
    assert.equal(
      inQuery.headers.get('www-authenticate'),
      `Bearer error="invalid_request", resource_metadata="${metadataUrl(hub)}"`,
    );
    assert.equal(problem(inQuery.errorBody ?? '')['code'], 'HERALD_ERR_TOKEN_PRESENTATION');
  }
  // An access token in the query of a publish (whose shape is the same in both dialects).
  const queried = await fetch(`${hub.hubUrl}?authorization=${good}`, {
    method: 'POST',
    body: new URLSearchParams({ topic: TOPIC, data: 'forged' }),
  });
  assert.equal(queried.status, 400);
  assert.equal(
    queried.headers.get('www-authenticate'),
    `Bearer error="invalid_request", resource_metadata="${metadataUrl(hub)}"`,
  );
  assert.equal(problem(await queried.text())['code'], 'HERALD_ERR_TOKEN_PRESENTATION');
  assert.equal(hub.herald.hub.subscriberCount, 1, 'only the watcher subscribes');
  await assertNothingPublished(hub, watcher);
});

test('draft-08: a subscription with match takes access tokens only; a draft-07 token gets 401 invalid_token (wrong-type)', async (t) => {
  const hub = await startTestHub(t, HUB_OPTIONS);
  const legacy = await hub.token({ subscribe: ['*'] });
  const stream = await EventStream.open(t, `${hub.hubUrl}?match=${encodeURIComponent(TOPIC)}`, {
    Authorization: `Bearer ${legacy}`,
  });
  assert.equal(stream.status, 401);
  assert.equal(
    stream.headers.get('www-authenticate'),
    `Bearer error="invalid_token", resource_metadata="${metadataUrl(hub)}"`,
  );
  assert.equal(problem(stream.errorBody ?? '')['reason'], 'wrong-type');
});

test('draft-07 answers are unchanged: plain Bearer challenges, and a 403 without one', async (t) => {
  const hub = await startTestHub(t, HUB_OPTIONS);
  const bad = await hub.token({ publish: ['*'] });
  const forged = `${bad.slice(0, -4)}AAAA`;
  const invalid = await publish(hub, forged);
  assert.equal(invalid.response.status, 401);
  assert.equal(invalid.response.headers.get('www-authenticate'), 'Bearer error="invalid_token"');

  const narrow = await hub.token({ publish: [`${TOPIC}/other`] });
  const forbidden = await publish(hub, narrow);
  assert.equal(forbidden.response.status, 403);
  assert.equal(forbidden.response.headers.get('www-authenticate'), null);
  assert.equal(problem(forbidden.body)['code'], 'HERALD_ERR_FORBIDDEN');

  const closed = await startTestHub(t, { ...HUB_OPTIONS, anonymous: false });
  const anonymous = await EventStream.open(t, closed.subscribeUrl([TOPIC]));
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer');
});

test("draft-07's authorization query parameter works by default and can be switched off", async (t) => {
  const open = await startTestHub(t, HUB_OPTIONS);
  const token = await open.token({ subscribe: ['*'] });
  const allowed = await EventStream.open(t, open.subscribeUrl([TOPIC], { authorization: token }));
  assert.equal(allowed.status, 200);

  const closed = await startTestHub(t, { ...HUB_OPTIONS, queryToken: false });
  const refused = await EventStream.open(
    t,
    closed.subscribeUrl([TOPIC], { authorization: await closed.token({ subscribe: ['*'] }) }),
  );
  assert.equal(refused.status, 400);
  assert.equal(problem(refused.errorBody ?? '')['code'], 'HERALD_ERR_TOKEN_PRESENTATION');
  assert.equal(refused.headers.get('www-authenticate'), null);
  assert.equal(closed.herald.hub.subscriberCount, 0);
});

/** A draft-08 subscription URL: `match_urlpattern` matchers. */
function patternUrl(hub: TestHub, patterns: string[]): string {
  const url = new URL(hub.hubUrl);
  for (const pattern of patterns) url.searchParams.append('match_urlpattern', pattern);
  return url.href;
}

async function publishPrivate(hub: TestHub, topics: string[], data: string): Promise<void> {
  const form = new URLSearchParams({ data, private: 'on' });
  for (const topic of topics) form.append('topic', topic);
  const response = await fetch(hub.hubUrl, {
    method: 'POST',
    headers: { Authorization: `Bearer ${await accessToken(goodClaims(hub))}` },
    body: form,
  });
  assert.equal(response.status, 200, await response.text());
}

test('draft-08: a private update reaches the subscriber whose authorization_details grant subscribe on one of its topics, and no other', async (t) => {
  const hub = await startTestHub(t, HUB_OPTIONS);
  const subscribeDetail = (topics: unknown[]) =>
    goodClaims(hub, [{ type: MERCURE, actions: ['subscribe'], topics }]);
  // Routing selects every book; the grant admits book 1 (exact) and, by a relative URL Pattern,
  // user 42's namespace.
  const reader = await EventStream.open(t, patternUrl(hub, ['https://example.com/books/:id']), {
    Authorization: `Bearer ${await accessToken(
      subscribeDetail([{ match: TOPIC }, { match: '/users/42/*', match_type: 'urlpattern' }]),
    )}`,
  });
  assert.equal(reader.status, 200);
  // Granted book 2 only: routing alone never widens what it may read.
  const other = await EventStream.open(t, patternUrl(hub, ['https://example.com/books/:id']), {
    Authorization: `Bearer ${await accessToken(subscribeDetail([{ match: `${TOPIC.slice(0, -1)}2` }]))}`,
  });
  assert.equal(other.status, 200);
  // A token of the IDP (trusted for subscriber tokens) with the wildcard sees everything private.
  const idpReader = await EventStream.open(t, patternUrl(hub, ['https://example.com/books/:id']), {
    Authorization: `Bearer ${await accessToken(
      { ...subscribeDetail([{ match: '*' }]), iss: IDP },
      { alg: 'ES256', key: idpKeys.privateKey },
    )}`,
  });
  assert.equal(idpReader.status, 200);

  await publishPrivate(hub, [TOPIC], 'book 1');
  // Book 3 with user 42's alternate topic (relative to the hub URL's origin).
  const origin = new URL(hub.hubUrl).origin;
  await publishPrivate(
    hub,
    ['https://example.com/books/3', `${origin}/users/42/books/3`],
    'book 3',
  );
  await publishPrivate(hub, ['https://example.com/books/4'], 'book 4');
  await publishPrivate(hub, [`${TOPIC.slice(0, -1)}2`], 'book 2 (marker)');

  await idpReader.waitForEvents(4);
  await other.waitForEvents(1);
  assert.deepEqual(
    other.events.map((event) => event.data),
    ['book 2 (marker)'],
  );
  await reader.until(() => reader.events.length >= 2, 'two updates');
  assert.deepEqual(
    reader.events.map((event) => event.data),
    ['book 1', 'book 3'],
  );
});

test('draft-08 token sources: the Authorization header wins over the cookie; the cookie alone works; its name is configurable', async (t) => {
  const hub = await startTestHub(t, { ...HUB_OPTIONS, anonymous: false });
  const granted = await accessToken(
    goodClaims(hub, [{ type: MERCURE, actions: ['subscribe'], topics: [{ match: TOPIC }] }]),
  );
  const grantsNothing = await accessToken(goodClaims(hub, []));
  const url = `${hub.hubUrl}?match=${encodeURIComponent(TOPIC)}`;
  const cookie = (token: string) => ({ Cookie: `__Secure-mercure_access_token=${token}` });

  const headerWins = await EventStream.open(t, url, {
    Authorization: `Bearer ${granted}`,
    ...cookie('not-a-token'),
  });
  assert.equal(headerWins.status, 200);
  const headerStillWins = await EventStream.open(t, url, {
    Authorization: `Bearer ${grantsNothing}`,
    ...cookie(granted),
  });
  assert.equal(headerStillWins.status, 200);
  const badHeader = await EventStream.open(t, url, {
    Authorization: 'Bearer not-a-token',
    ...cookie(granted),
  });
  assert.equal(badHeader.status, 401, 'the header is used even when the cookie is good');
  const cookieOnly = await EventStream.open(t, url, cookie(granted));
  assert.equal(cookieOnly.status, 200);
  // Draft-08 requests do not read draft-07's cookie.
  const legacyCookie = await EventStream.open(t, url, {
    Cookie: `mercureAuthorization=${granted}`,
  });
  assert.equal(legacyCookie.status, 401);

  await publishPrivate(hub, [TOPIC], 'private');
  for (const stream of [headerWins, cookieOnly]) await stream.waitForEvents(1);
  await publishPrivate(hub, [TOPIC], 'marker');
  await headerStillWins.until(
    () => headerStillWins.events.length > 0 || headerWins.events.length >= 2,
    'the marker',
  );
  await headerWins.waitForEvents(2);
  assert.deepEqual(headerStillWins.events, [], 'the header token (no grants) was the one used');

  const renamed = await startTestHub(t, {
    ...HUB_OPTIONS,
    anonymous: false,
    accessTokenCookie: 'mercure_access_token',
  });
  const renamedToken = await accessToken(goodClaims(renamed, []));
  const devCookie = await EventStream.open(
    t,
    `${renamed.hubUrl}?match=${encodeURIComponent(TOPIC)}`,
    { Cookie: `mercure_access_token=${renamedToken}` },
  );
  assert.equal(devCookie.status, 200);
});

test('the protected resource metadata document (RFC 9728) with the Mercure members, readable from any origin without credentials', async (t) => {
  const hub = await startTestHub(t, {
    ...HUB_OPTIONS,
    corsOrigins: ['https://app.example'],
    subscriptions: true,
    trustedIssuers: [
      ...(HUB_OPTIONS.trustedIssuers ?? []),
      {
        issuer: 'https://as.example',
        key: thirdKeys.publicPem,
        algorithm: 'ES256',
        authorizationServer: true,
      },
    ],
  });
  const response = await fetch(metadataUrl(hub), { headers: { Origin: 'https://app.example' } });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'application/json');
  assert.equal(response.headers.get('access-control-allow-origin'), '*');
  assert.equal(response.headers.get('access-control-allow-credentials'), null);
  assert.deepEqual(await response.json(), {
    resource: hub.hubUrl,
    authorization_servers: ['https://as.example'],
    bearer_methods_supported: ['header'],
    authorization_details_types_supported: [MERCURE],
    mercure_cookie: '__Secure-mercure_access_token',
    mercure_matcher_types_supported: ['exact', 'urlpattern'],
    mercure_subscriptions: true,
  });
  const preflight = await fetch(metadataUrl(hub), {
    method: 'OPTIONS',
    headers: { Origin: 'https://elsewhere.example', 'Access-Control-Request-Method': 'GET' },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), '*');

  // A configured resource identifier: the document, the aud checked and the challenge follow it.
  const resource = 'https://hub.example/prefix/.well-known/mercure';
  const pinned = await startTestHub(t, { ...HUB_OPTIONS, resourceIdentifier: resource });
  const origin = new URL(pinned.hubUrl).origin;
  const pinnedMetadata = await fetch(
    `${origin}/.well-known/oauth-protected-resource/prefix/.well-known/mercure`,
  );
  assert.equal(((await pinnedMetadata.json()) as { resource: string }).resource, resource);
  const derivedAud = await publish(pinned, await accessToken(goodClaims(pinned)));
  assert.equal(derivedAud.response.status, 401);
  assert.equal(
    derivedAud.response.headers.get('www-authenticate'),
    'Bearer error="invalid_token", resource_metadata="https://hub.example/.well-known/oauth-protected-resource/prefix/.well-known/mercure"',
  );
  const pinnedAud = await publish(
    pinned,
    await accessToken({ ...goodClaims(pinned), aud: resource }),
  );
  assert.equal(pinnedAud.response.status, 200, pinnedAud.body);

  // A draft-07-only hub publishes none (its absence is the hint draft-08 describes).
  const legacy = await startTestHub(t, { ...HUB_OPTIONS, protocol: '07' });
  const none = await fetch(metadataUrl(legacy));
  assert.equal(none.status, 404);
  await none.text();
});
