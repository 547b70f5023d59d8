import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

// A configuration file that changes something, for --config and HERALD_CONFIG.
const SCRATCH = mkdtempSync(join(tmpdir(), 'herald-config-doc-'));
process.on('exit', () => {
  rmSync(SCRATCH, { recursive: true, force: true });
});
const SAMPLE_FILE = join(SCRATCH, 'sample.yaml');
writeFileSync(SAMPLE_FILE, 'history-size: 11\n');

// A valid value for each flag that takes one (the variable must accept the same).
const SAMPLES: Readonly<Record<string, string>> = {
  config: SAMPLE_FILE,
  port: '1234',
  host: '127.0.0.2',
  // Either alone is refused (both or neither), by flag and by variable alike.
  'tls-cert': '/etc/herald/cert.pem',
  'tls-key': '/etc/herald/key.pem',
  'jwt-key': 'k'.repeat(64),
  'publisher-jwt-key': 'p'.repeat(64),
  'subscriber-jwt-key': 's'.repeat(64),
  'jwks-url': 'https://keys.example/jwks.json',
  'publisher-jwks-url': 'https://keys.example/publisher.json',
  'subscriber-jwks-url': 'https://keys.example/subscriber.json',
  'jwt-alg': 'HS384',
  'publisher-jwt-alg': 'HS512',
  'subscriber-jwt-alg': 'HS384',
  'jwt-issuer': 'https://issuer.example',
  'jwt-audience': 'herald',
  'access-token-issuer': 'https://publisher.example',
  'trusted-issuer': `{"issuer":"https://idp.example","key":"${'i'.repeat(40)}","algorithm":"HS256"}`,
  'resource-identifier': 'https://hub.example/.well-known/mercure',
  'access-token-cookie': 'mercure_access_token',
  'cors-origin': 'https://app.example',
  'publish-origin': 'https://admin.example',
  heartbeat: '5s',
  'history-size': '7',
  'history-max-age': '1h',
  store: 'memory',
  'redis-prefix': 'hub-a:',
  'redis-min-replicas': '2',
  'redis-min-replicas-timeout': '500ms',
  'max-body-size': '2048',
  'max-unsent-bytes': '4096',
  'max-unsent-bytes-total': '8192',
  'max-concurrent-replays': '3',
  'log-level': 'warn',
  workers: '2',
  'jwt-clock-tolerance': '5s',
  'max-header-size': '32768',
  'presence-rate': '7',
  'presence-burst': '70',
  'presence-lease': '30s',
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
    return parseServeOptions(argv, { HERALD_JWT_KEY: 'b'.repeat(64), ...env });
  } catch (error) {
    return `error: ${(error as Error).message.replaceAll(name, '<name>')}`;
  }
}

/** Each flag's parseArgs type, read as data: the table's literal types say less than its values. */
const FLAG_TYPES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(SERVE_FLAGS as Record<string, { type: string }>).map(([flag, spec]) => [
    flag,
    spec.type,
  ]),
);

test('each documented variable sets what its flag sets', () => {
  const rows = README.split('\n').filter((line) => /^\|\s*`--/.test(line));
  for (const row of rows) {
    const [, flagCell = '', variableCell = ''] = row.split('|').map((cell) => cell.trim());
    const flags = [...flagCell.matchAll(/`--([a-z-]+)`/g)].map((m) => m[1] ?? '');
    const variables = [...variableCell.matchAll(/`(HERALD_[A-Z_]+)`/g)].map((m) => m[1] ?? '');
    assert.equal(flags.length, variables.length, `one variable per flag in: ${row}`);
    flags.forEach((flag, index) => {
      const variable = variables[index] ?? '';
      const boolean = FLAG_TYPES[flag] === 'boolean';
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

test('each flag is a configuration file key that sets what the flag sets', () => {
  const key = `jwt-key: ${'b'.repeat(40)}\n`;
  const base = join(SCRATCH, 'base.yaml');
  writeFileSync(base, key);
  const parse = (argv: string[], name: string): unknown => {
    try {
      return { ...(parseServeOptions(argv, {}) as object), configFile: undefined };
    } catch (error) {
      // Either file is "the file": only the option's own name matters here.
      const message = (error as Error).message.replaceAll(name, '<name>');
      return `error: ${message.replace(/\(in [^)]*\)/g, '(in <file>)')}`;
    }
  };
  for (const flag of Object.keys(SERVE_FLAGS)) {
    if (flag === 'help' || flag === 'config') continue;
    const boolean = FLAG_TYPES[flag] === 'boolean';
    const value = boolean ? 'true' : SAMPLES[flag];
    assert.ok(value !== undefined, `a sample value for --${flag}`);
    const file = join(SCRATCH, `${flag}.yaml`);
    // Quoted, so that YAML keeps every sample a string; booleans as YAML booleans.
    const line = `${flag}: ${boolean ? value : JSON.stringify(value)}\n`;
    writeFileSync(file, flag === 'jwt-key' ? line : key + line);
    const flagArgs = boolean ? [`--${flag}`] : [`--${flag}=${value}`];
    const byFlag = parse([...flagArgs, '--config', base], `--${flag}`);
    const byFile = parse(['--config', file], `${flag} (in ${file})`);
    assert.deepEqual(byFile, byFlag, `${flag}: in a file acts as --${flag}`);
    assert.notDeepEqual(
      byFile,
      parse(['--config', base], ''),
      `${flag} in a file changes something`,
    );
  }
});
