import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { fetch } from 'undici';
import { keyPairFor, sign, startJwksServer } from '../auth/jwt-fixtures.ts';
import { CLI, runCli, tempDir } from '../support/cli.ts';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub } from '../support/test-hub.ts';

const KEY = 'a-configured-key-of-at-least-thirty-two-bytes';
const TOPIC = 'https://example.com/books/1';

interface Finished {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `herald <args>` to completion with only PATH and `env` in its environment. */
function herald(args: string[], env: Record<string, string> = {}): Promise<Finished> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env['PATH'] ?? '', ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
      },
    );
  });
}

/** The printed token: the only line of stdout. */
function onlyToken(result: Finished): string {
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  assert.equal(result.stderr, '');
  return result.stdout.trim();
}

async function publishWith(hubUrl: string, token: string): Promise<number> {
  const response = await fetch(hubUrl, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body: new URLSearchParams({ topic: TOPIC, data: 'from herald token', private: 'on' }),
  });
  await response.text();
  return response.status;
}

test('herald token --protocol 07 prints an HS256 draft-07 token with the selectors, payload and ttl asked for, and a hub accepts it', async (t) => {
  const token = onlyToken(
    await herald(
      [
        'token',
        '--protocol',
        '07',
        '--publish',
        '*',
        '--subscribe',
        TOPIC,
        '--subscribe',
        'https://example.com/{id}',
        '--ttl',
        '2m',
        '--payload',
        '{"user":"ana"}',
      ],
      { HERALD_JWT_KEY: KEY },
    ),
  );
  const claims = decodeJwt(token);
  assert.deepEqual(claims['mercure'], {
    publish: ['*'],
    subscribe: [TOPIC, 'https://example.com/{id}'],
    payload: { user: 'ana' },
  });
  assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 120);
  assert.equal(decodeProtectedHeader(token).alg, 'HS256');

  const hub = await startTestHub(t, { publisherJwtKey: KEY, subscriberJwtKey: KEY });
  const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
    Authorization: `Bearer ${token}`,
  });
  assert.equal(stream.status, 200);
  assert.equal(await publishWith(hub.hubUrl, token), 200);
  assert.equal((await stream.waitForEvents(1))[0]?.data, 'from herald token');
});

test('herald token and herald serve share flags: an ES256 private key file signs what serve verifies', async (t) => {
  const pair = keyPairFor('ES256');
  const file = join(tempDir(t), 'es256.key.pem');
  writeFileSync(file, pair.privatePem);
  const flags = ['--jwt-key', file, '--jwt-alg', 'ES256', '--jwt-issuer', 'https://issuer.example'];
  const token = onlyToken(await herald(['token', '--protocol', '07', '--publish', '*', ...flags]));
  assert.equal(decodeProtectedHeader(token).alg, 'ES256');
  assert.equal(decodeJwt(token).iss, 'https://issuer.example');

  const cli = runCli(t, [
    'serve',
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--store',
    'memory',
    ...flags,
  ]);
  const hubUrl = await cli.ready;
  assert.equal(await publishWith(hubUrl, token), 200);
  // A token from another key is refused by that hub.
  const other = onlyToken(
    await herald([
      'token',
      '--protocol',
      '07',
      '--publish',
      '*',
      '--jwt-alg',
      'ES256',
      // PEM text starts with dashes: a flag takes it in the --flag=value form.
      `--jwt-key=${keyPairFor('ES256').privatePem}`,
    ]),
  );
  assert.equal(await publishWith(hubUrl, other), 401);
  assert.ok(!cli.stdout.includes(token) && !cli.stderr.includes(token), 'no token is logged');
});

test('herald token signs with the key of the role it grants', async (t) => {
  const env = {
    HERALD_PUBLISHER_JWT_KEY: `${KEY}-publisher`,
    HERALD_SUBSCRIBER_JWT_KEY: `${KEY}-subscriber`,
  };
  const hub = await startTestHub(t, {
    publisherJwtKey: env.HERALD_PUBLISHER_JWT_KEY,
    subscriberJwtKey: env.HERALD_SUBSCRIBER_JWT_KEY,
  });
  const publisher = onlyToken(await herald(['token', '--protocol', '07', '--publish', TOPIC], env));
  const subscriber = onlyToken(
    await herald(['token', '--protocol', '07', '--subscribe', TOPIC], env),
  );
  assert.equal(await publishWith(hub.hubUrl, publisher), 200);
  assert.equal(await publishWith(hub.hubUrl, subscriber), 401);
  const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
    Authorization: `Bearer ${subscriber}`,
  });
  assert.equal(stream.status, 200);
});

test('herald serve verifies tokens through --jwks-url', async (t) => {
  const jwks = await startJwksServer(t);
  const pair = keyPairFor('RS256');
  await jwks.serve([{ kid: 'k1', algorithm: 'RS256', publicKey: pair.publicKey }]);
  const cli = runCli(t, [
    'serve',
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--store',
    'memory',
    '--jwks-url',
    jwks.url,
    '--jwt-alg',
    'RS256',
  ]);
  const hubUrl = await cli.ready;
  const token = await sign(
    { mercure: { publish: ['*'] } },
    { algorithm: 'RS256', key: pair.privateKey, kid: 'k1' },
  );
  assert.equal(await publishWith(hubUrl, token), 200);
});

test('herald token mints a draft-08 access token by default, which herald serve accepts from its trusted issuer', async (t) => {
  const cli = runCli(t, [
    'serve',
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--store',
    'memory',
    '--jwt-key',
    KEY,
    '--access-token-issuer',
    'https://publisher.example',
  ]);
  const hubUrl = await cli.ready;
  const env = {
    HERALD_JWT_KEY: KEY,
    HERALD_ACCESS_TOKEN_ISSUER: 'https://publisher.example',
    HERALD_RESOURCE_IDENTIFIER: hubUrl,
  };
  const token = onlyToken(
    await herald(
      [
        'token',
        '--publish',
        TOPIC,
        '--subscribe-urlpattern',
        'https://example.com/books/:id',
        '--payload',
        '{"tenant":"t1"}',
        '--subject',
        'urn:example:ana',
        '--ttl',
        '5m',
      ],
      env,
    ),
  );
  assert.equal(decodeProtectedHeader(token).typ, 'at+jwt');
  const claims = decodeJwt(token);
  assert.equal(claims.iss, 'https://publisher.example');
  assert.equal(claims['client_id'], 'https://publisher.example');
  assert.equal(claims.aud, hubUrl);
  assert.equal(claims.sub, 'urn:example:ana');
  assert.match(String(claims.jti), /^urn:uuid:/);
  assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 300);
  assert.equal(claims['mercure'], undefined);
  assert.deepEqual(claims['authorization_details'], [
    {
      type: 'https://mercure.rocks/authorization-detail',
      actions: ['publish'],
      topics: [{ match: TOPIC }],
    },
    {
      type: 'https://mercure.rocks/authorization-detail',
      actions: ['subscribe'],
      topics: [{ match: 'https://example.com/books/:id', match_type: 'urlpattern' }],
      payload: { tenant: 't1' },
    },
  ]);
  assert.equal(await publishWith(hubUrl, token), 200);
  // Its grants are its own: another topic is not covered.
  const other = await fetch(hubUrl, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body: new URLSearchParams({ topic: 'https://example.com/other', data: 'x' }),
  });
  assert.equal(other.status, 403);
  assert.match(other.headers.get('www-authenticate') ?? '', /^Bearer error="insufficient_scope"/);
});

test('herald token --help names only what signs: no JWKS flag is offered', async () => {
  const result = await herald(['token', '--help']);
  assert.equal(result.code, 0);
  assert.ok(!/--(publisher-|subscriber-)?jwks-url/.test(result.stdout), result.stdout);
  assert.match(result.stdout, /private key/);
  assert.match(result.stdout, /--protocol <07\|08>/);
});

const ES256 = keyPairFor('ES256');

const BAD_TOKEN_OPTIONS: [string[], Record<string, string>, RegExp][] = [
  [['--publish', '*'], {}, /herald token needs the key to sign with: --jwt-key or HERALD_JWT_KEY/],
  [[], { HERALD_JWT_KEY: KEY }, /herald token needs --publish or --subscribe/],
  [['--publish', '*', '--ttl', 'soon'], { HERALD_JWT_KEY: KEY }, /--ttl must be a duration/],
  [['--publish', '*', '--ttl', '0'], { HERALD_JWT_KEY: KEY }, /--ttl must be at least 1s/],
  [['--publish', '*', '--payload', '{nope'], { HERALD_JWT_KEY: KEY }, /--payload must be JSON/],
  [
    ['--publish', '*', '--jwt-alg', 'none'],
    { HERALD_JWT_KEY: KEY },
    /--jwt-alg must be one of HS256/,
  ],
  [
    ['--publish', '*', '--jwks-url', 'https://idp.example/jwks', '--jwt-alg', 'RS256'],
    {},
    /--jwks-url is a JWKS URL, which holds public keys only/,
  ],
  [
    ['--publish', '*', `--jwt-key=${ES256.publicPem}`, '--jwt-alg', 'ES256'],
    {},
    /--jwt-key must hold a private key in PEM to sign ES256 tokens/,
  ],
  [
    ['--publish', '*', `--jwt-key=${ES256.privatePem}`, '--jwt-alg', 'RS256'],
    {},
    /--jwt-key is an EC key on prime256v1, but RS256 needs an RSA key/,
  ],
  [
    ['--publish', '*'],
    { HERALD_JWT_KEY: ES256.privatePem },
    /HERALD_JWT_KEY holds a PEM key, but HS256 is an HMAC algorithm.*--jwt-alg is HS256 by default/,
  ],
  [
    ['--publish', '*', '--subscribe', '*'],
    { HERALD_PUBLISHER_JWT_KEY: `${KEY}-a`, HERALD_SUBSCRIBER_JWT_KEY: `${KEY}-b` },
    /publisher and subscriber keys or algorithms differ/,
  ],
  [['--publish', '*', '--bogus'], { HERALD_JWT_KEY: KEY }, /--bogus/],
  [
    ['--publish', '*'],
    { HERALD_JWT_KEY: 'abc' },
    /HERALD_JWT_KEY is 3 bytes; HS256 needs a secret of at least 32 bytes.*openssl rand -base64 48/,
  ],
  [['--publish', '*', '--protocol', '09'], { HERALD_JWT_KEY: KEY }, /--protocol must be 07 or 08/],
  [
    ['--publish', '*', '--jwt-audience', 'https://hub.example/.well-known/mercure'],
    { HERALD_JWT_KEY: KEY },
    /A draft-08 access token needs its issuer: --jwt-issuer or --access-token-issuer/,
  ],
  [
    ['--publish', '*', '--jwt-issuer', 'https://publisher.example'],
    { HERALD_JWT_KEY: KEY },
    /needs the hub's resource identifier as its audience/,
  ],
  [
    ['--protocol', '07', '--publish-urlpattern', '/books/:id'],
    { HERALD_JWT_KEY: KEY },
    /--publish-urlpattern and --subscribe-urlpattern are draft-08 matchers/,
  ],
  [
    ['--subscribe', '*', '--payload', '[1]', '--jwt-issuer', 'i', '--jwt-audience', 'a'],
    { HERALD_JWT_KEY: KEY },
    /--payload must be a JSON object for a draft-08 token/,
  ],
];

for (const [args, env, message] of BAD_TOKEN_OPTIONS) {
  test(`herald token ${[...args, ...Object.keys(env)].join(' ').slice(0, 80)} stops with a message naming it`, async () => {
    const result = await herald(['token', ...args], env);
    assert.equal(result.code, 2);
    assert.match(result.stderr, message);
    assert.equal(result.stdout, '');
  });
}
