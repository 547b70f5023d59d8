import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { test } from 'node:test';
import { fetch } from 'undici';
import { EventStream } from '../support/event-stream.ts';
import { runCli } from '../support/cli.ts';
import { checkCurlExample } from '../support/curl-example.ts';

const KEY = 'a-configured-key-of-at-least-thirty-two-bytes';

test('with no key, serve starts in development mode and its printed curl commands work', async (t) => {
  const cli = runCli(t, ['serve', '--port', '0', '--host', '127.0.0.1']);
  const hubUrl = await cli.ready;
  assert.match(hubUrl, /^http:\/\/127\.0\.0\.1:\d+\/\.well-known\/mercure$/);
  assert.match(cli.stdout, /DEVELOPMENT MODE/);
  const commands = cli.stdout.split('\n').filter((line) => line.trim().startsWith('curl '));
  assert.equal(commands.length, 2);
  const [subscribeCommand, publishCommand] = commands.map((line) => line.trim());

  await checkCurlExample(t, subscribeCommand ?? '', publishCommand ?? '');
  // Development mode serves the web UI and says where.
  const ui = /Web UI: (\S+)/.exec(cli.stdout)?.[1] ?? '';
  assert.equal((await fetch(ui)).status, 200);
  // Requests are logged as JSON lines.
  assert.match(cli.stdout, /^\{"level":30,.*"msg":"request"\}$/m);
  // The generated key itself is never printed; only a token signed with it.
  assert.doesNotMatch(cli.stdout + cli.stderr, /key:/i);
});

test('with a configured key there is no development mode and anonymous subscribers are refused', async (t) => {
  const cli = runCli(t, ['serve', '--port', '0', '--host', '127.0.0.1'], { HERALD_JWT_KEY: KEY });
  const hubUrl = await cli.ready;
  assert.doesNotMatch(cli.stdout, /DEVELOPMENT MODE/);
  assert.ok(!cli.stdout.includes(KEY) && !cli.stderr.includes(KEY), 'the key is never printed');
  const stream = await EventStream.open(t, `${hubUrl}?topic=x`);
  assert.equal(stream.status, 401);
  assert.equal((await fetch(new URL('/ui/', hubUrl))).status, 404, 'no UI unless --ui');
  assert.doesNotMatch(cli.stdout, /Web UI/);
});

test('--ui serves the UI with a configured key; --log-level silences request logs', async (t) => {
  const cli = runCli(
    t,
    ['serve', '--port', '0', '--host', '127.0.0.1', '--ui', '--log-level', 'warn'],
    {
      HERALD_JWT_KEY: KEY,
    },
  );
  const hubUrl = await cli.ready;
  assert.equal((await fetch(new URL('/ui/', hubUrl))).status, 200);
  await (await fetch(new URL('/healthz', hubUrl))).text();
  // Once the hub has stopped and its output is closed, every line it logged has been read.
  const closed = once(cli.child, 'close');
  cli.child.kill('SIGTERM');
  await closed;
  assert.doesNotMatch(cli.stdout, /"msg":"request"/);
});

const pem = (type: 'ec' | 'rsa') =>
  (type === 'ec'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 })
  ).publicKey
    .export({ type: 'spki', format: 'pem' })
    .toString();
const EC_PEM = pem('ec');
const RSA_PEM = pem('rsa');

const BAD_OPTIONS: [string[], Record<string, string>, RegExp][] = [
  [['--port', 'abc'], {}, /--port must be an integer/],
  [['--port', '70000'], {}, /--port must be an integer from 0 to 65535/],
  [[], { HERALD_PORT: 'x' }, /HERALD_PORT must be an integer/],
  [['--bogus'], {}, /--bogus/],
  [['--heartbeat', 'often'], {}, /--heartbeat must be a duration/],
  [
    ['--store', 'mongodb://x'],
    {},
    /--store must be sqlite:<file>, sqlite, memory or a redis:\/\/ URL; got "mongodb:\/\/x"/,
  ],
  [['--store', 'sqlite:'], {}, /--store must be sqlite:<file>/],
  [['--history-max-age', 'forever'], {}, /--history-max-age must be a duration/],
  [['--cors-origin', 'https://app.example.com/path'], {}, /--cors-origin must list origins/],
  [
    [],
    { HERALD_CORS_ORIGINS: 'https://a.example, nope' },
    /HERALD_CORS_ORIGINS must list origins.*"nope"/,
  ],
  [
    ['--publisher-jwt-key', KEY],
    {},
    /--subscriber-jwt-key \(or --jwt-key, or a JWKS URL\) is required/,
  ],
  [
    ['--jwt-alg', 'none'],
    {},
    /--jwt-alg must be one of HS256, HS384, HS512, RS256, .*EdDSA; got "none"/,
  ],
  [['--jwt-key', KEY, '--subscriber-jwt-alg', 'HS999'], {}, /--subscriber-jwt-alg must be one of/],
  // RFC 7518 §3.2: an HMAC secret at least as long as the hash, wherever a secret is configured.
  [
    [],
    { HERALD_JWT_KEY: 'abc' },
    /HERALD_JWT_KEY is 3 bytes; HS256 needs a secret of at least 32 bytes \(RFC 7518 §3\.2\)\. Make one with: openssl rand -base64 48/,
  ],
  [
    ['--jwt-key', KEY, '--jwt-alg', 'HS512'],
    {},
    /--jwt-key is 45 bytes; HS512 needs a secret of at least 64 bytes/,
  ],
  [
    ['--publisher-jwt-key', KEY, '--subscriber-jwt-key', 'short'],
    {},
    /--subscriber-jwt-key is 5 bytes; HS256 needs/,
  ],
  [
    [],
    { HERALD_JWT_KEY: KEY, HERALD_PUBLISHER_JWT_ALG: 'rs256' },
    /HERALD_PUBLISHER_JWT_ALG must be one of/,
  ],
  [['--jwt-alg', 'RS256'], {}, /--jwt-alg is RS256, which needs a key/],
  [
    ['--jwt-key', KEY, '--jwt-alg', 'RS256'],
    {},
    /--jwt-key must be a PEM key or the path of a PEM file for RS256; the file cannot be read \(ENOENT\)/,
  ],
  [
    [`--jwt-key=${EC_PEM}`, '--jwt-alg', 'RS256'],
    {},
    /--jwt-key is an EC key on prime256v1, but RS256 needs an RSA key \(--jwt-alg is RS256\)/,
  ],
  [
    [`--jwt-key=${RSA_PEM}`, '--jwt-alg', 'ES256'],
    {},
    /--jwt-key is a key of type rsa, but ES256 needs an EC key on prime256v1/,
  ],
  [
    [],
    { HERALD_JWT_KEY: RSA_PEM },
    /HERALD_JWT_KEY holds a PEM key, but HS256 is an HMAC algorithm.*--jwt-alg is HS256 by default/,
  ],
  [
    [],
    { HERALD_JWT_KEY: EC_PEM, HERALD_JWT_ALG: 'HS512' },
    /HERALD_JWT_KEY holds a PEM key, but HS512 is an HMAC algorithm.*\(HERALD_JWT_ALG is HS512\)/,
  ],
  [
    [
      '--jwt-key=-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n',
      '--jwt-alg',
      'ES256',
    ],
    {},
    /--jwt-key does not hold a PEM key that parses/,
  ],
  [
    [
      '--jwt-key',
      KEY,
      '--publisher-jwt-key',
      KEY,
      '--subscriber-jwt-key',
      `${KEY}2`,
      '--publisher-jwt-alg',
      'PS256',
    ],
    {},
    /--publisher-jwt-key must be a PEM key or the path of a PEM file for PS256/,
  ],
  [
    ['--jwt-key', KEY, '--jwks-url', 'https://idp.example/jwks'],
    {},
    /--jwt-key and --jwks-url exclude each other/,
  ],
  [
    ['--jwks-url', 'https://idp.example/jwks'],
    {},
    /--jwks-url is a JWKS URL, which serves public keys.*not HS256/,
  ],
  [
    ['--jwks-url', 'idp.example/jwks', '--jwt-alg', 'RS256'],
    {},
    /--jwks-url must be an http\(s\) URL/,
  ],
  [
    [],
    {
      HERALD_JWT_KEY: KEY,
      HERALD_SUBSCRIBER_JWKS_URL: 'file:///etc/jwks',
      HERALD_JWT_ALG: 'ES256',
    },
    /HERALD_JWT_KEY must be a PEM key/,
  ],
  [[], { HERALD_ANONYMOUS: 'maybe' }, /HERALD_ANONYMOUS must be true or false/],
  [[], { HERALD_UI: 'perhaps' }, /HERALD_UI must be true or false/],
  [
    ['--log-level', 'loud'],
    {},
    /--log-level must be one of fatal, error, warn, info, debug, trace, silent; got "loud"/,
  ],
  [[], { HERALD_LOG_LEVEL: 'chatty' }, /HERALD_LOG_LEVEL must be one of/],
];

for (const [args, env, message] of BAD_OPTIONS) {
  test(`serve ${[...args, ...Object.keys(env)].join(' ').slice(0, 100)} stops with a message naming it`, async (t) => {
    // A --port flag would win over HERALD_PORT; where no port is under test, 0 keeps it harmless.
    const port = 'HERALD_PORT' in env || args.includes('--port') ? [] : ['--port', '0'];
    const cli = runCli(t, ['serve', ...port, ...args], env);
    assert.equal(await cli.exited, 2);
    assert.match(cli.stderr, message);
    assert.doesNotMatch(cli.stdout, /listening/);
  });
}

test('a secret given where a PEM file was expected is not echoed', async (t) => {
  const secret = 'a-secret-that-must-never-be-printed';
  const cli = runCli(t, ['serve', '--port', '0', '--jwt-alg', 'ES256'], { HERALD_JWT_KEY: secret });
  assert.equal(await cli.exited, 2);
  assert.match(cli.stderr, /HERALD_JWT_KEY must be a PEM key or the path of a PEM file/);
  assert.ok(!cli.stderr.includes(secret) && !cli.stdout.includes(secret));
});

test('SIGTERM ends open streams and exits 0', async (t) => {
  const cli = runCli(t, ['serve', '--port', '0', '--host', '127.0.0.1', '--anonymous'], {
    HERALD_JWT_KEY: KEY,
  });
  const hubUrl = await cli.ready;
  const stream = await EventStream.open(t, `${hubUrl}?topic=x`);
  assert.equal(stream.status, 200);
  cli.child.kill('SIGTERM');
  await stream.waitForEnd();
  assert.equal(await cli.exited, 0);
  assert.match(cli.stdout, /SIGTERM received/);
});

test('an unknown command prints the usage and exits 2', async (t) => {
  const cli = runCli(t, ['frobnicate']);
  assert.equal(await cli.exited, 2);
  assert.match(cli.stderr, /Unknown command "frobnicate"/);
  assert.match(cli.stderr, /Usage: herald/);
});
