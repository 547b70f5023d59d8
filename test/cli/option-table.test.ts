import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readConfigFile } from '../../src/cli/config-file.ts';
import { optionHelp } from '../../src/cli/option-help.ts';
import { parseFlags } from '../../src/cli/option-reading.ts';
import { flagTable, givenOptions, notInFile } from '../../src/cli/option-sources.ts';
import type { GivenOptions } from '../../src/cli/option-sources.ts';
import { readGiven, readValues } from '../../src/cli/option-values.ts';
import { SERVE_HELP } from '../../src/cli/serve-options.ts';
import { option, SERVE_OPTIONS } from '../../src/options/option-table.ts';
import { integer } from '../../src/options/value-kinds.ts';
import { tempDir } from '../support/cli.ts';
import { readmeTableProblems } from '../support/readme-options.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

// An option no Herald has: declaring it in a table must be all it takes.
const FROBNICATE = option({
  flag: 'frobnicate-limit',
  kind: integer({ min: 1, max: 9 }),
  help: 'frobnicates at most n times',
  defaultText: '3',
});
// One that sets a startHerald() option no flag sets today: its default comes from DEFAULTS.
const TOPICS = option({
  flag: 'max-topics-per-update',
  kind: integer({ min: 1, max: 100_000 }),
  help: 'topics one update may name',
  path: 'maxTopicsPerUpdate',
});
const TABLE = [...SERVE_OPTIONS, FROBNICATE, TOPICS];

/** The options a table finds in argv, the environment and a file, as `herald serve` reads them. */
function given(argv: string[], env: Record<string, string>, filePath?: string): GivenOptions {
  const flags = flagTable(TABLE);
  const file =
    filePath === undefined ? undefined : readConfigFile(filePath, flags, notInFile(TABLE));
  return givenOptions(TABLE, parseFlags(argv, flags), env, file);
}

function read(found: GivenOptions, flag: string): unknown {
  const option = found.get(flag);
  return option === undefined ? undefined : readGiven(option);
}

test('an option added to the table is in --help, with its variable and its default', () => {
  const help = optionHelp(TABLE);
  assert.match(
    help,
    /^ {2}--frobnicate-limit <n> +frobnicates at most n times +HERALD_FROBNICATE_LIMIT \(3\)$/m,
  );
  // The default of an option with a path is what DEFAULTS holds there.
  assert.match(
    help,
    /^ {2}--max-topics-per-update <n> +topics one update may name +HERALD_MAX_TOPICS_PER_UPDATE \(64\)$/m,
  );
  assert.doesNotMatch(SERVE_HELP, /frobnicate/, 'the real help is not touched');
});

test('an option added to the table is read from its flag, its variable and the file, in that order', (t) => {
  const path = join(tempDir(t), 'herald.yaml');
  writeFileSync(path, 'frobnicate-limit: 5\nmax-topics-per-update: 12\n');
  const env = { HERALD_FROBNICATE_LIMIT: '4' };
  assert.equal(read(given(['--frobnicate-limit', '3'], env, path), 'frobnicate-limit'), 3);
  assert.equal(read(given([], env, path), 'frobnicate-limit'), 4);
  assert.equal(read(given([], {}, path), 'frobnicate-limit'), 5);
  assert.equal(read(given([], {}), 'frobnicate-limit'), undefined);
  // An option with a path becomes the startHerald() option at that path.
  assert.deepEqual(readValues(given([], {}, path)), { maxTopicsPerUpdate: 12 });
});

test("an option added to the table is checked with its kind's bounds, naming where it came from", (t) => {
  assert.throws(() => read(given([], { HERALD_FROBNICATE_LIMIT: '12' }), 'frobnicate-limit'), {
    name: 'ConfigError',
    message: 'HERALD_FROBNICATE_LIMIT must be an integer from 1 to 9; got "12".',
  });
  const path = join(tempDir(t), 'bad.yaml');
  writeFileSync(path, 'frobnicate-limit: 0\n');
  assert.throws(() => read(given([], {}, path), 'frobnicate-limit'), {
    message: `frobnicate-limit (in ${path}) must be an integer from 1 to 9; got "0".`,
  });
  // A misspelt key still gets its hint, from the same table.
  writeFileSync(path, 'frobnicate-limt: 2\n');
  assert.throws(
    () => given([], {}, path),
    /unknown key "frobnicate-limt" \(did you mean "frobnicate-limit"\?\)/,
  );
});

test("an option added to the table is required in the README's table, with its variable and default", () => {
  assert.deepEqual(
    readmeTableProblems(SERVE_OPTIONS, README),
    [],
    'the README matches the real table',
  );
  assert.deepEqual(readmeTableProblems(TABLE, README), [
    "--frobnicate-limit is missing from the README's configuration table",
    "--max-topics-per-update is missing from the README's configuration table",
  ]);
  const row = (flag: string, variable: string, fallback: string): string =>
    `| \`--${flag}\` | \`${variable}\` | \`${fallback}\` | what it does |`;
  const documented = `${README}\n${row('frobnicate-limit', 'HERALD_FROBNICATE_LIMIT', '3')}\n${row('max-topics-per-update', 'HERALD_MAX_TOPICS_PER_UPDATE', '64')}\n`;
  assert.deepEqual(readmeTableProblems(TABLE, documented), []);
  const wrong = `${README}\n${row('frobnicate-limit', 'HERALD_FROBNICATE', '7')}\n${row('max-topics-per-update', 'HERALD_MAX_TOPICS_PER_UPDATE', '64')}\n`;
  assert.deepEqual(readmeTableProblems(TABLE, wrong), [
    '--frobnicate-limit: the README names HERALD_FROBNICATE, the option HERALD_FROBNICATE_LIMIT',
    '--frobnicate-limit: the README\'s default is "7", the option\'s "3"',
  ]);
  // A row for an option that is gone is a problem too.
  assert.deepEqual(readmeTableProblems(SERVE_OPTIONS, documented), [
    "--frobnicate-limit is in the README's configuration table but is no option",
    "--max-topics-per-update is in the README's configuration table but is no option",
  ]);
});

test('every default --help shows is the value the hub runs with', () => {
  // Defaults are not written in the help: they are DEFAULTS, written by each option's kind.
  assert.match(SERVE_HELP, /HERALD_HEARTBEAT \(20s\)/);
  assert.match(SERVE_HELP, /HERALD_HISTORY_MAX_AGE \(7d\)/);
  assert.match(SERVE_HELP, /HERALD_MAX_UNSENT_BYTES_TOTAL \(268435456\)/);
  assert.match(SERVE_HELP, /HERALD_STORE \(sqlite\)/);
  for (const spec of SERVE_OPTIONS) {
    assert.ok(SERVE_HELP.includes(spec.variable), `${spec.variable} in serve --help`);
  }
});
