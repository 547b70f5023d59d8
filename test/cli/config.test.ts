import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { runCli, tempDir } from '../support/cli.ts';

const KEY = 'a-configured-key-of-at-least-thirty-two-bytes';

/** Writes `text` to a fresh file, returns its path. */
function configFile(t: TestContext, text: string, name = 'herald.yaml'): string {
  const path = join(tempDir(t), name);
  writeFileSync(path, text);
  return path;
}

/** The history size the hub announces: observable proof of which source won. */
function announcedHistorySize(stdout: string): string | undefined {
  return /History: in memory \(the newest (\d+) updates/.exec(stdout)?.[1];
}

test('precedence: flag > environment > file > default, for a real herald serve', async (t) => {
  const file = configFile(
    t,
    [
      '# a reviewed deployment file',
      'store: memory',
      'history-size: 7',
      'host: 127.0.0.1',
      '',
    ].join('\n'),
  );
  const base = ['serve', '--port', '0'];
  const env = { HERALD_JWT_KEY: KEY };

  const fromFile = runCli(t, [...base, '--config', file], env);
  await fromFile.ready;
  assert.equal(announcedHistorySize(fromFile.stdout), '7', 'the file wins over the default');
  assert.match(await fromFile.ready, /^http:\/\/127\.0\.0\.1:/, 'host from the file');

  // HERALD_CONFIG names the file as --config does.
  const fromVariable = runCli(t, base, { ...env, HERALD_CONFIG: file, HERALD_HISTORY_SIZE: '8' });
  await fromVariable.ready;
  assert.equal(announcedHistorySize(fromVariable.stdout), '8', 'the environment wins over it');

  const fromFlag = runCli(t, [...base, '--config', file, '--history-size', '9'], {
    ...env,
    HERALD_HISTORY_SIZE: '8',
  });
  await fromFlag.ready;
  assert.equal(announcedHistorySize(fromFlag.stdout), '9', 'the flag wins over both');

  for (const cli of [fromFile, fromVariable, fromFlag]) {
    cli.child.kill('SIGTERM');
    assert.equal(await cli.exited, 0);
  }
});

test('a key, a list and a boolean from the file take effect', async (t) => {
  const file = configFile(
    t,
    [
      `jwt-key: ${KEY}`,
      'store: memory',
      'cors-origin:',
      '  - https://app.example',
      '  - https://admin.example',
      'ui: false',
      '',
    ].join('\n'),
  );
  const cli = runCli(t, ['serve', '--port', '0', '--host', '127.0.0.1', '--config', file]);
  const hubUrl = await cli.ready;
  assert.doesNotMatch(cli.stdout, /DEVELOPMENT MODE/, 'the key came from the file');
  assert.ok(!cli.stdout.includes(KEY) && !cli.stderr.includes(KEY), 'the key is never printed');
  const preflight = await fetch(hubUrl, {
    method: 'OPTIONS',
    headers: { Origin: 'https://admin.example', 'Access-Control-Request-Method': 'POST' },
  });
  assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://admin.example');
  cli.child.kill('SIGTERM');
  assert.equal(await cli.exited, 0);
});

/** Every way a file can be wrong, with the message that must name the key and the file. */
const BAD_FILES: readonly [what: string, text: string, message: (path: string) => RegExp][] = [
  [
    'an unknown key',
    'store: memory\nprot: 3000\n',
    (path) => new RegExp(`^herald: ${esc(path)}: unknown key "prot" \\(did you mean "port"\\?\\)`),
  ],
  [
    'a wrong type',
    'port:\n  - 3000\n',
    (path) =>
      new RegExp(`^herald: port \\(in ${esc(path)}\\) must be a string or a number; got a list\\.`),
  ],
  [
    'a string where a boolean goes',
    'anonymous: "yes"\n',
    (path) =>
      new RegExp(
        `^herald: anonymous \\(in ${esc(path)}\\) must be true or false; got the string "yes"\\.`,
      ),
  ],
  [
    'an out-of-range value',
    'port: 70000\n',
    (path) =>
      new RegExp(
        `^herald: port \\(in ${esc(path)}\\) must be an integer from 0 to 65535; got "70000"\\.`,
      ),
  ],
  [
    'a bad duration',
    'heartbeat: soon\n',
    (path) => new RegExp(`^herald: heartbeat \\(in ${esc(path)}\\) must be a duration`),
  ],
  [
    'a YAML syntax error',
    'store: memory\nport: [3000\n',
    (path) => new RegExp(`^herald: ${esc(path)} is not valid YAML at line \\d+, column \\d+: `),
  ],
  [
    'a list at the top',
    '- port: 3000\n',
    (path) => new RegExp(`^herald: ${esc(path)} must be a mapping of option names to values`),
  ],
  [
    'the config key itself',
    'config: other.yaml\n',
    (path) => new RegExp(`^herald: ${esc(path)}: unknown key "config"`),
  ],
];

function esc(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

for (const [what, text, message] of BAD_FILES) {
  test(`a file with ${what}: serve and config check both stop with exit 2, naming key and file`, async (t) => {
    const path = configFile(t, text);
    const check = runCli(t, ['config', 'check', path]);
    assert.equal(await check.exited, 2);
    assert.match(check.stderr, message(path));

    const dir = tempDir(t);
    // A --port flag would win over the file's port; elsewhere 0 keeps the test harmless.
    const port = text.includes('port:') ? [] : ['--port', '0'];
    const serve = runCli(t, ['serve', ...port, '--config', path], {}, dir);
    assert.equal(await serve.exited, 2);
    assert.match(serve.stderr, message(path));
    assert.doesNotMatch(serve.stdout, /listening/);
    assert.equal(existsSync(join(dir, 'herald-data')), false, 'nothing created');
  });
}

test('an unreadable or missing file is named, with the reason', async (t) => {
  const missing = join(tempDir(t), 'nowhere.yaml');
  const cli = runCli(t, ['serve', '--port', '0'], { HERALD_CONFIG: missing });
  assert.equal(await cli.exited, 2);
  assert.match(
    cli.stderr,
    new RegExp(`^herald: cannot read the configuration file ${esc(missing)} \\(ENOENT\\)`),
  );

  // A folder cannot be read as a file, by root either (which reads a mode-000 file).
  const folder = tempDir(t);
  const check = runCli(t, ['config', 'check', folder]);
  assert.equal(await check.exited, 2);
  assert.match(
    check.stderr,
    new RegExp(`^herald: cannot read the configuration file ${esc(folder)} \\(EISDIR\\)`),
  );
});

test('config check: a valid file exits 0 and says what serve would do; usage errors exit 2', async (t) => {
  const valid = configFile(t, `jwt-key: ${KEY}\nport: 8080\ncors-origin: https://app.example\n`);
  const ok = runCli(t, ['config', 'check', valid]);
  assert.equal(await ok.exited, 0);
  assert.equal(ok.stdout, `${valid}: valid; herald serve would start with the keys it sets.\n`);
  assert.ok(!ok.stdout.includes(KEY), 'the key is never printed');

  // The environment is not read: a variable cannot hide (or cause) a mistake in the file.
  const dev = configFile(t, 'store: memory\n');
  const devCheck = runCli(t, ['config', 'check', dev], { HERALD_JWT_KEY: KEY, HERALD_PORT: 'x' });
  assert.equal(await devCheck.exited, 0);
  assert.match(devCheck.stdout, /development mode/);

  // Settings that each parse but do not go together are refused too.
  const half = configFile(t, `subscriber-jwt-key: ${KEY}\n`);
  const halfCheck = runCli(t, ['config', 'check', half]);
  assert.equal(await halfCheck.exited, 2);
  assert.match(halfCheck.stderr, /--publisher-jwt-key \(or --jwt-key, or a JWKS URL\) is required/);

  for (const args of [['config'], ['config', 'check'], ['config', 'lint', valid]]) {
    const usage = runCli(t, args);
    assert.equal(await usage.exited, 2, args.join(' '));
    assert.match(usage.stderr, /Usage: herald config check <file>/);
  }
  const help = runCli(t, ['config', '--help']);
  assert.equal(await help.exited, 0);
  assert.match(help.stdout, /^Usage: herald config check <file>/);
});
