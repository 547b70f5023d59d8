import assert from 'node:assert/strict';
import { test } from 'node:test';
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
});

const BAD_OPTIONS: [string[], Record<string, string>, RegExp][] = [
  [['--port', 'abc'], {}, /--port must be an integer/],
  [['--port', '70000'], {}, /--port must be an integer from 0 to 65535/],
  [[], { HERALD_PORT: 'x' }, /HERALD_PORT must be an integer/],
  [['--bogus'], {}, /--bogus/],
  [['--heartbeat', 'often'], {}, /--heartbeat must be a duration/],
  [
    ['--store', 'mongodb://x'],
    {},
    /--store must be sqlite:<file>, sqlite or memory; got "mongodb:\/\/x"/,
  ],
  [['--store', 'sqlite:'], {}, /--store must be sqlite:<file>/],
  [['--history-max-age', 'forever'], {}, /--history-max-age must be a duration/],
  [['--cors-origin', 'https://app.example.com/path'], {}, /--cors-origin must list origins/],
  [
    [],
    { HERALD_CORS_ORIGINS: 'https://a.example, nope' },
    /HERALD_CORS_ORIGINS must list origins.*"nope"/,
  ],
  [['--publisher-jwt-key', KEY], {}, /--subscriber-jwt-key \(or --jwt-key\) is required/],
  [['--jwt-alg', 'none'], {}, /--jwt-alg must be HS256, HS384 or HS512/],
  [[], { HERALD_ANONYMOUS: 'maybe' }, /HERALD_ANONYMOUS must be true or false/],
];

for (const [args, env, message] of BAD_OPTIONS) {
  test(`serve ${[...args, ...Object.keys(env)].join(' ')} stops with a message naming it`, async (t) => {
    // A --port flag would win over HERALD_PORT; where no port is under test, 0 keeps it harmless.
    const port = 'HERALD_PORT' in env || args.includes('--port') ? [] : ['--port', '0'];
    const cli = runCli(t, ['serve', ...port, ...args], env);
    assert.equal(await cli.exited, 2);
    assert.match(cli.stderr, message);
    assert.doesNotMatch(cli.stdout, /listening/);
  });
}

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
