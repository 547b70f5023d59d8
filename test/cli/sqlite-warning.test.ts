import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli, tempDir } from '../support/cli.ts';

const FILTER = fileURLToPath(new URL('../../src/cli/sqlite-warning.ts', import.meta.url));

/** Runs a script in a fresh node of this test's line with the CLI's filter; returns stderr. */
function stderrWithFilter(script: string, flags: string[] = []): string {
  const result = spawnSync(
    process.execPath,
    [
      ...flags,
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `import { silenceSqliteExperimentalWarning } from ${JSON.stringify(FILTER)};
       silenceSqliteExperimentalWarning();
       ${script}`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(result.status, 0, result.stderr);
  return result.stderr;
}

test('the filter drops the SQLite ExperimentalWarning and prints every other warning', () => {
  const stderr = stderrWithFilter(`
    process.emitWarning('SQLite is an experimental feature and might change at any time', 'ExperimentalWarning');
    process.emitWarning('something else is experimental', 'ExperimentalWarning');
    process.emitWarning('an old API', 'DeprecationWarning');
  `);
  assert.doesNotMatch(stderr, /SQLite/);
  assert.match(stderr, /ExperimentalWarning: something else is experimental/);
  assert.match(stderr, /DeprecationWarning: an old API/);
});

test('with the filter, loading node:sqlite prints nothing on this Node line', () => {
  const stderr = stderrWithFilter(`
    const { DatabaseSync } = process.getBuiltinModule('node:sqlite');
    new DatabaseSync(':memory:').close();
  `);
  assert.equal(stderr, '');
});

test('--no-warnings still silences every warning through the filter', () => {
  const stderr = stderrWithFilter(`process.emitWarning('an old API', 'DeprecationWarning');`, [
    '--no-warnings',
  ]);
  assert.equal(stderr, '');
});

test('herald serve on the default SQLite store prints no warning on this Node line', async (t) => {
  const dir = tempDir(t);
  const hub = runCli(
    t,
    ['serve', '--port', '0', '--host', '127.0.0.1', '--anonymous'],
    { HERALD_JWT_KEY: 'sqlite-warning-test-key-of-thirty-two-bytes' },
    dir,
  );
  await hub.ready;
  // The default store is a SQLite file in the working folder, opened before the hub listens.
  assert.ok(existsSync(join(dir, 'herald-data', 'herald.db')), hub.stdout);
  hub.child.kill('SIGTERM');
  assert.equal(await hub.exited, 0, `${hub.child.signalCode} ${hub.stderr}`);
  assert.doesNotMatch(hub.stderr, /Warning/);
});
