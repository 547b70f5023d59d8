import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, tempDir } from '../support/cli.ts';

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
