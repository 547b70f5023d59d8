import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, tempDir } from '../support/cli.ts';

const UNIT = new URL('../../deploy/systemd/herald.service', import.meta.url);
const INSTALLED_BIN = '/usr/local/bin/herald';

const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const skip =
  analyze.error === undefined
    ? false
    : 'systemd-analyze is not installed (Debian: apt-get install systemd; .ci/run installs it)';

/**
 * The unit as it would be installed, with the one thing this machine lacks substituted: the
 * `herald` command that `npm install --global herald` puts in /usr/local/bin is this checkout's
 * built CLI, run by this test's node (verify checks that ExecStart's program exists).
 */
function unitHere(t: import('node:test').TestContext): string {
  const text = readFileSync(UNIT, 'utf8');
  assert.ok(text.includes(`ExecStart=${INSTALLED_BIN} serve`), 'ExecStart runs herald serve');
  const file = join(tempDir(t), 'herald.service');
  writeFileSync(file, text.replace(INSTALLED_BIN, `${process.execPath} ${CLI}`));
  return file;
}

test('systemd-analyze verify accepts the unit without a single warning', { skip }, (t) => {
  const result = spawnSync('systemd-analyze', ['verify', unitHere(t)], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  // verify exits 0 on unknown keys and unparsable values, and only says so on stderr.
  assert.equal(result.stderr, '');
});

test('systemd-analyze security rates the unit OK (exposure at most 2.0 of 10)', { skip }, (t) => {
  const result = spawnSync('systemd-analyze', ['security', '--offline=true', unitHere(t)], {
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stderr);
  const level = /Overall exposure level for \S+: ([\d.]+)/.exec(result.stdout)?.[1];
  assert.ok(level !== undefined, result.stdout);
  assert.ok(Number(level) <= 2, `exposure ${level}:\n${result.stdout}`);
});

test('the unit keeps the settings the deployment guide promises', () => {
  const settings = new Map<string, string[]>();
  for (const line of readFileSync(UNIT, 'utf8').split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match?.[1] === undefined) continue;
    settings.set(match[1], [...(settings.get(match[1]) ?? []), match[2] ?? '']);
  }
  const expected: Record<string, string> = {
    DynamicUser: 'yes',
    StateDirectory: 'herald',
    NoNewPrivileges: 'yes',
    ProtectSystem: 'strict',
    ProtectHome: 'yes',
    PrivateTmp: 'yes',
    LimitNOFILE: '1048576',
    // A mandatory file (no leading "-"): without a key the hub would start in development mode.
    EnvironmentFile: '/etc/herald/herald.env',
    Environment: 'HERALD_STORE=sqlite:/var/lib/herald/herald.db',
  };
  for (const [key, value] of Object.entries(expected)) {
    assert.ok(settings.get(key)?.includes(value), `${key}=${value}`);
  }
});
