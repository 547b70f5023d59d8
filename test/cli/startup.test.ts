import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, runCli, tempDir } from '../support/cli.ts';

test('a port in use: the message names --port and HERALD_PORT, exit 1, and no herald-data/ is created', async (t) => {
  const holder = createServer();
  holder.listen(0, '127.0.0.1');
  await once(holder, 'listening');
  t.after(() => holder.close());
  const { port } = holder.address() as AddressInfo;

  const dir = tempDir(t);
  // Development mode and the default SQLite store: the two things that used to write first.
  const cli = runCli(t, ['serve', '--port', String(port), '--host', '127.0.0.1'], {}, dir);
  assert.equal(await cli.exited, 1);
  assert.match(cli.stderr, /^herald: cannot listen: listen EADDRINUSE: address already in use/);
  assert.match(
    cli.stderr,
    /choose another with --port \(HERALD_PORT, or port: in the --config file\)/,
  );
  assert.doesNotMatch(cli.stdout, /listening/);
  assert.equal(existsSync(join(dir, 'herald-data')), false, 'nothing was created');
});

test('herald with no command prints the usage on stderr and exits 2; --help prints it and exits 0', async (t) => {
  const bare = runCli(t, []);
  assert.equal(await bare.exited, 2);
  assert.match(bare.stderr, /^herald: Missing command\.\n\nUsage: herald <command> \[options\]/);
  assert.equal(bare.stdout, '');

  const help = runCli(t, ['--help']);
  assert.equal(await help.exited, 0);
  assert.match(help.stdout, /^Usage: herald <command> \[options\]/);
  // Every command listed in the usage answers --help with its own usage, exit 0.
  const commands = [...help.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1] ?? '');
  assert.ok(commands.length >= 4, commands.join(' '));
  for (const command of commands) {
    const own = runCli(t, [command, '--help']);
    assert.equal(await own.exited, 0, `${command} --help`);
    assert.match(own.stdout, new RegExp(`^Usage: herald ${command}\\b`), `${command} --help`);
  }
});

const KEY = 'a-configured-key-of-at-least-thirty-two-bytes';

/** The publisher token development mode prints. */
function printedToken(stdout: string): string {
  const token = /Publisher token[^\n]*\n\s*(\S+)/.exec(stdout)?.[1] ?? '';
  assert.match(token, /^eyJ/);
  return token;
}

/** Publishes one update with `token`; the status. */
async function publishWith(hubUrl: string, token: string): Promise<number> {
  const response = await fetch(hubUrl, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body: new URLSearchParams({ topic: 'https://example.com/t', data: 'x' }),
  });
  await response.text();
  return response.status;
}

test("development mode keeps its key in the data directory: yesterday's token still works; a configured key wins", async (t) => {
  const dir = tempDir(t);
  const args = ['serve', '--port', '0', '--host', '127.0.0.1'];
  const keyFile = join(dir, 'herald-data', 'development-jwt-key');

  const first = runCli(t, args, {}, dir);
  const firstUrl = await first.ready;
  const yesterday = printedToken(first.stdout);
  assert.equal(await publishWith(firstUrl, yesterday), 200);
  assert.equal(statSync(keyFile).mode & 0o777, 0o600, 'readable by its owner only');
  const key = readFileSync(keyFile, 'utf8').trim();
  assert.match(first.stdout, /kept in herald-data\/development-jwt-key \(mode 0600\)/);
  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0);
  assert.ok(!(first.stdout + first.stderr).includes(key), 'the key is never printed');

  const second = runCli(t, args, {}, dir);
  const secondUrl = await second.ready;
  assert.equal(await publishWith(secondUrl, yesterday), 200, "yesterday's token works");
  assert.equal(readFileSync(keyFile, 'utf8').trim(), key, 'the same key, not rewritten');
  assert.ok(!(second.stdout + second.stderr).includes(key), 'the key is never printed');
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0);

  // A configured key always wins: the kept development key is not used, nor touched.
  const configured = runCli(t, args, { HERALD_JWT_KEY: KEY }, dir);
  const configuredUrl = await configured.ready;
  assert.doesNotMatch(configured.stdout, /DEVELOPMENT MODE/);
  assert.equal(await publishWith(configuredUrl, yesterday), 401);
  assert.equal(readFileSync(keyFile, 'utf8').trim(), key);
  configured.child.kill('SIGTERM');
  assert.equal(await configured.exited, 0);

  // A key file others can read is refused, as ssh refuses such a private key.
  chmodSync(keyFile, 0o644);
  const exposed = runCli(t, args, {}, dir);
  assert.equal(await exposed.exited, 2);
  assert.match(exposed.stderr, /can be read by other users \(mode 644\): run chmod 600 on it/);
  assert.ok(!exposed.stderr.includes(key));
});

test('the memory store has no data directory: its development key lives as long as the process', async (t) => {
  const dir = tempDir(t);
  const cli = runCli(
    t,
    ['serve', '--port', '0', '--host', '127.0.0.1', '--store', 'memory'],
    {},
    dir,
  );
  const hubUrl = await cli.ready;
  assert.match(cli.stdout, /A random key was generated for this run/);
  assert.equal(await publishWith(hubUrl, printedToken(cli.stdout)), 200);
  assert.deepEqual(readdirSync(dir), [], 'nothing written');
  cli.child.kill('SIGTERM');
  assert.equal(await cli.exited, 0);
});

test('GET / redirects to /ui/ when the UI is on, and otherwise names the hub URL in a short text', async (t) => {
  const withUi = runCli(t, ['serve', '--port', '0', '--host', '127.0.0.1', '--store', 'memory']);
  const uiHub = await withUi.ready;
  const redirect = await fetch(new URL('/', uiHub), { redirect: 'manual' });
  assert.equal(redirect.status, 302);
  assert.equal(redirect.headers.get('location'), '/ui/');
  const followed = await fetch(new URL('/', uiHub));
  assert.equal(followed.status, 200);
  assert.match(followed.headers.get('content-type') ?? '', /^text\/html/);
  await followed.text();

  const plain = runCli(t, ['serve', '--port', '0', '--host', '127.0.0.1', '--store', 'memory'], {
    HERALD_JWT_KEY: KEY,
  });
  const hubUrl = await plain.ready;
  const root = await fetch(new URL('/', hubUrl));
  assert.equal(root.status, 200);
  assert.equal(root.headers.get('content-type'), 'text/plain; charset=utf-8');
  const text = await root.text();
  assert.match(text, /^Herald: a Mercure hub\./);
  assert.ok(text.includes(`Hub URL: ${hubUrl}\n`), text);
  // Anything else is still a 404 problem.
  const missing = await fetch(new URL('/nothing', hubUrl));
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { code: string }).code, 'HERALD_ERR_NOT_FOUND');
});

// The machine's own Node.js, where it is older than Herald supports (Node 20 here): what a user
// who runs `npm ci && npm start` with it meets.
const OLD_NODE = '/usr/bin/node';

function oldNodeVersion(): string | undefined {
  if (!existsSync(OLD_NODE)) return undefined;
  const found = spawnSync(OLD_NODE, ['-p', 'process.versions.node'], { encoding: 'utf8' });
  const version = found.stdout.trim();
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major < 22 || (major === 22 && minor < 13) ? version : undefined;
}

test('on a Node.js below 22.13 the CLI says which versions it needs, exits 1 and creates nothing', (t) => {
  const version = oldNodeVersion();
  if (version === undefined) {
    t.skip(`no Node.js below 22.13 at ${OLD_NODE}`);
    return;
  }
  const dir = tempDir(t);
  const run = spawnSync(OLD_NODE, [CLI, 'serve', '--port', '0'], { cwd: dir, encoding: 'utf8' });
  assert.equal(run.status, 1, run.stderr);
  assert.equal(
    run.stderr,
    `herald: Node.js ${version} is not supported; Herald needs 22.13 or later (the maintained LTS lines: 22, 24 or 26).\n`,
  );
  assert.equal(run.stdout, '');
  assert.equal(existsSync(join(dir, 'herald-data')), false, 'nothing was created');
});
