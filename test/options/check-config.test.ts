import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseServeOptions } from '../../src/cli/serve-options.ts';
import type { HeraldOptions } from '../../src/config.ts';
import { resolveConfig } from '../../src/config.ts';
import { startHerald } from '../../src/herald.ts';
import { ConfigError } from '../../src/options/config-error.ts';
import { tempDir } from '../support/cli.ts';
import { TEST_KEY } from '../support/test-hub.ts';

const KEYS = { publisherJwtKey: TEST_KEY, subscriberJwtKey: TEST_KEY };

/** The message a CLI user gets for these flags (with a key set, so no development mode). */
function cliRefusal(argv: string[]): string {
  try {
    parseServeOptions(argv, { HERALD_JWT_KEY: TEST_KEY });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `a ConfigError for ${argv.join(' ')}`);
    return error.message;
  }
  assert.fail(`${argv.join(' ')} was accepted`);
}

// The same mistake made by an embedder and by an operator, and what each is told: the same
// sentence, each naming the option the way they gave it.
const SAME_MISTAKES: readonly [Partial<HeraldOptions>, string[], string, string][] = [
  [
    { port: 70_000 },
    ['--port', '70000'],
    'port must be an integer from 0 to 65535; got 70000.',
    '--port must be an integer from 0 to 65535; got "70000".',
  ],
  [
    { maxBodyBytes: 0 },
    ['--max-body-size', '0'],
    'maxBodyBytes must be an integer from 1 to 1073741824; got 0.',
    '--max-body-size must be an integer from 1 to 1073741824; got "0".',
  ],
  [
    { jwtClockToleranceMs: 7_200_000 },
    ['--jwt-clock-tolerance', '2h'],
    'jwtClockToleranceMs must be at most 1h; got 7200000.',
    '--jwt-clock-tolerance must be at most 1h; got "2h".',
  ],
  [
    { corsOrigins: ['https://app.example/path'] },
    ['--cors-origin', 'https://app.example/path'],
    'corsOrigins must list origins such as https://app.example.com (scheme, host and port only); got "https://app.example/path".',
    '--cors-origin must list origins such as https://app.example.com (scheme, host and port only); got "https://app.example/path".',
  ],
  [
    { trustedProxies: ['10.0.0.0/33'] },
    ['--trust-proxy', '10.0.0.0/33'],
    'trustedProxies must list IP addresses or CIDR ranges such as 10.0.0.5, 10.0.0.0/8 or fd00::/8; got "10.0.0.0/33".',
    '--trust-proxy must list IP addresses or CIDR ranges such as 10.0.0.5, 10.0.0.0/8 or fd00::/8; got "10.0.0.0/33".',
  ],
  [
    { protocol: '09' as never },
    ['--protocol', '09'],
    'protocol must be 07, 08 or both; got "09".',
    '--protocol must be 07, 08 or both; got "09".',
  ],
  [
    { headersTimeoutMs: 30_000, requestTimeoutMs: 10_000 },
    ['--headers-timeout', '30s', '--request-timeout', '10s'],
    'headersTimeoutMs (30000) must not exceed requestTimeoutMs (10000).',
    '--headers-timeout (30000 ms) must not exceed --request-timeout (10000 ms).',
  ],
  [
    { store: { kind: 'redis', url: 'redis://127.0.0.1:6379', keyPrefix: 'her*ld:' } },
    ['--store', 'redis://127.0.0.1:6379', '--redis-prefix', 'her*ld:'],
    'store.keyPrefix must be a non-empty key prefix without spaces or glob characters (* ? [ ]); got "her*ld:".',
    '--redis-prefix must be a non-empty key prefix without spaces or glob characters (* ? [ ]); got "her*ld:".',
  ],
  [
    {
      store: {
        kind: 'redis',
        url: 'redis://127.0.0.1:6379',
        keyPrefix: 'a:',
        minReplicasTimeoutMs: 0,
      },
    },
    ['--store', 'redis://127.0.0.1:6379', '--redis-min-replicas-timeout', '0'],
    'store.minReplicasTimeoutMs must be from 1ms to 60s; got 0.',
    '--redis-min-replicas-timeout must be from 1ms to 60s; got "0".',
  ],
];

test('startHerald() refuses what herald serve refuses, with the same sentence, before opening anything', async (t) => {
  for (const [options, argv, embedderMessage, operatorMessage] of SAME_MISTAKES) {
    const path = join(tempDir(t), 'herald.db');
    await assert.rejects(
      startHerald({
        ...KEYS,
        port: 0,
        host: '127.0.0.1',
        store: { kind: 'sqlite', path },
        ...options,
      }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.message, embedderMessage);
        return true;
      },
    );
    // Refused before the store was opened: no file was made.
    assert.equal(existsSync(path), false, `nothing opened for ${embedderMessage}`);
    assert.equal(cliRefusal(argv), operatorMessage);
  }
});

test("0 switches a limit off on the command line; startHerald() takes null, and 0 is out of a limit's range", () => {
  for (const [path, flag] of [
    ['heartbeatMs', '--heartbeat'],
    ['requestTimeoutMs', '--request-timeout'],
    ['maxStreamsPerClient', '--max-streams-per-client'],
    ['publishRate', '--publish-rate'],
    ['historyMaxAgeMs', '--history-max-age'],
  ] as const) {
    const parsed = parseServeOptions([flag, '0'], { HERALD_JWT_KEY: TEST_KEY });
    assert.equal(parsed !== 'help' && parsed.herald[path], null, `${flag} 0 is null`);
    assert.equal(resolveConfig({ ...KEYS, [path]: null })[path], null);
    assert.throws(() => resolveConfig({ ...KEYS, [path]: 0 }), {
      name: 'ConfigError',
      message: new RegExp(`^${path} must be .*, or null for (none|no limit); got 0\\.$`),
    });
  }
});

test('startHerald() takes a fractional rate, and refuses a negative one', () => {
  assert.equal(resolveConfig({ ...KEYS, publishRate: 0.5 }).publishRate, 0.5);
  assert.throws(() => resolveConfig({ ...KEYS, presenceRate: -1 }), {
    message:
      'presenceRate must be a number above 0 and at most 10000000, or null for no limit; got -1.',
  });
});

test('startHerald() holds the options without a flag to their bounds too', () => {
  assert.throws(() => resolveConfig({ ...KEYS, maxTopicsPerUpdate: 0 }), {
    message: 'maxTopicsPerUpdate must be an integer from 1 to 100000; got 0.',
  });
  assert.throws(() => resolveConfig({ ...KEYS, shutdownTimeoutMs: Number.NaN }), {
    message: 'shutdownTimeoutMs must be a duration in milliseconds; got NaN.',
  });
});

test("a store's Redis URL is checked for startHerald() too, its password masked", () => {
  assert.throws(
    () =>
      resolveConfig({
        ...KEYS,
        store: { kind: 'redis', url: 'redis://:s3cret@127.0.0.1:notaport', keyPrefix: 'h:' },
      }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /^store is not a usable Redis URL/);
      assert.doesNotMatch(error.message, /s3cret/);
      return true;
    },
  );
  assert.throws(() => resolveConfig({ ...KEYS, store: { kind: 'postgres' } as never }), {
    message: `store must be { kind: 'memory' }, { kind: 'sqlite', path } or { kind: 'redis', url, keyPrefix }; got kind "postgres".`,
  });
});

test('the defaults pass their own check', () => {
  assert.doesNotThrow(() => resolveConfig(KEYS));
});
