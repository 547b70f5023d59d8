import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseServeOptions, SERVE_FLAGS, SERVE_HELP } from '../../src/cli/serve-options.ts';

const ROOT = new URL('../../', import.meta.url);
const README = readFileSync(new URL('README.md', ROOT), 'utf8');

/** The flags of the README's configuration table. */
function configurationTable(): { flags: string[] } {
  const rows = README.split('\n').filter((line) => /^\|\s*`--/.test(line));
  const cells = rows.map((row) => row.split('|').map((cell) => cell.trim()));
  return {
    flags: cells.flatMap((cell) =>
      [...(cell[1] ?? '').matchAll(/`(--[a-z-]+)`/g)].map((m) => m[1] ?? ''),
    ),
  };
}

test("the README's configuration table lists every herald serve flag, and only those", () => {
  const documented = configurationTable().flags.sort();
  const real = Object.keys(SERVE_FLAGS)
    .filter((name) => name !== 'help')
    .map((name) => `--${name}`)
    .sort();
  assert.deepEqual(documented, real);
});

// A valid value for each flag that takes one (the variable must accept the same).
const SAMPLES: Readonly<Record<string, string>> = {
  port: '1234',
  host: '127.0.0.2',
  // Either alone is refused (both or neither), by flag and by variable alike.
  'tls-cert': '/etc/herald/cert.pem',
  'tls-key': '/etc/herald/key.pem',
  'jwt-key': 'k'.repeat(40),
  'publisher-jwt-key': 'p'.repeat(40),
  'subscriber-jwt-key': 's'.repeat(40),
  'jwks-url': 'https://keys.example/jwks.json',
  'publisher-jwks-url': 'https://keys.example/publisher.json',
  'subscriber-jwks-url': 'https://keys.example/subscriber.json',
  'jwt-alg': 'HS384',
  'publisher-jwt-alg': 'HS512',
  'subscriber-jwt-alg': 'HS384',
  'jwt-issuer': 'https://issuer.example',
  'jwt-audience': 'herald',
  'cors-origin': 'https://app.example',
  'publish-origin': 'https://admin.example',
  heartbeat: '5s',
  'history-size': '7',
  'history-max-age': '1h',
  store: 'memory',
  'redis-prefix': 'hub-a:',
  'max-body-size': '2048',
  'max-unsent-bytes': '4096',
  'log-level': 'warn',
  workers: '2',
  'jwt-clock-tolerance': '5s',
  'max-header-size': '32768',
  'headers-timeout': '5s',
  'request-timeout': '30s',
  'max-streams-per-client': '50',
  'trust-proxy': '10.0.0.0/8',
  'publish-rate': '10',
  'publish-burst': '20',
  protocol: '08',
};

/** What parsing gives, with the names of flags and variables taken out of error messages. */
function outcome(argv: string[], env: Record<string, string>, name: string): unknown {
  try {
    return parseServeOptions(argv, { HERALD_JWT_KEY: 'b'.repeat(40), ...env });
  } catch (error) {
    return `error: ${(error as Error).message.replaceAll(name, '<name>')}`;
  }
}

test('each documented variable sets what its flag sets', () => {
  const rows = README.split('\n').filter((line) => /^\|\s*`--/.test(line));
  for (const row of rows) {
    const [, flagCell = '', variableCell = ''] = row.split('|').map((cell) => cell.trim());
    const flags = [...flagCell.matchAll(/`--([a-z-]+)`/g)].map((m) => m[1] ?? '');
    const variables = [...variableCell.matchAll(/`(HERALD_[A-Z_]+)`/g)].map((m) => m[1] ?? '');
    assert.equal(flags.length, variables.length, `one variable per flag in: ${row}`);
    flags.forEach((flag, index) => {
      const variable = variables[index] ?? '';
      const boolean = SERVE_FLAGS[flag as keyof typeof SERVE_FLAGS].type === 'boolean';
      const value = boolean ? 'true' : SAMPLES[flag];
      assert.ok(value !== undefined, `a sample value for --${flag}`);
      const byFlag = outcome(boolean ? [`--${flag}`] : [`--${flag}=${value}`], {}, `--${flag}`);
      const byVariable = outcome([], { [variable]: value }, variable);
      assert.deepEqual(byVariable, byFlag, `${variable} acts as --${flag}`);
      assert.notDeepEqual(byFlag, outcome([], {}, ''), `--${flag} changes something`);
    });
  }
});

test('every flag appears in serve --help', () => {
  for (const name of Object.keys(SERVE_FLAGS)) {
    if (name !== 'help') assert.ok(SERVE_HELP.includes(`--${name}`), `--${name} in serve --help`);
  }
});
