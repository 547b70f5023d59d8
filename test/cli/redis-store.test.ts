import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetch } from 'undici';
import { mintToken } from '../../src/auth/mint-token.ts';
import { runCli } from '../support/cli.ts';
import { EventStream } from '../support/event-stream.ts';
import { countKeys, deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis.ts';

const KEY = 'a-configured-key-of-at-least-thirty-two-bytes';

async function publish(hubUrl: string, data: string): Promise<{ status: number; body: string }> {
  const token = await mintToken({ key: KEY, algorithm: 'HS256', publish: ['*'] });
  const response = await fetch(hubUrl, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body: new URLSearchParams({ topic: 'https://example.com/t', data }),
  });
  return { status: response.status, body: await response.text() };
}

test('two hubs on --store redis:// with one --redis-prefix share history and live updates', async (t) => {
  const prefix = uniquePrefix('cli');
  t.after(() => deleteKeys(prefix));
  const args = ['serve', '--port', '0', '--host', '127.0.0.1', '--store', REDIS_URL];
  const first = runCli(t, [...args, '--redis-prefix', prefix], { HERALD_JWT_KEY: KEY });
  // The second hub takes the prefix from its environment variable.
  const second = runCli(t, args, { HERALD_JWT_KEY: KEY, HERALD_REDIS_PREFIX: prefix });
  const [firstUrl, secondUrl] = await Promise.all([first.ready, second.ready]);
  assert.match(
    first.stdout,
    new RegExp(`History: Redis at redis://127\\.0\\.0\\.1:6379/?, keys ${prefix}\\*`),
  );
  assert.equal((await fetch(new URL('/readyz', secondUrl))).status, 200);

  const subscriberToken = await mintToken({ key: KEY, algorithm: 'HS256', subscribe: ['*'] });
  const stream = await EventStream.open(
    t,
    `${secondUrl}?topic=${encodeURIComponent('https://example.com/t')}`,
    {
      Authorization: `Bearer ${subscriberToken}`,
    },
  );
  assert.equal(stream.status, 200);
  const published = await publish(firstUrl, 'hello from the first hub');
  assert.equal(published.status, 200);
  const events = await stream.waitForEvents(1);
  assert.deepEqual(
    events.map((e) => [e.id, e.data]),
    [[published.body, 'hello from the first hub']],
  );
  assert.match(published.body, /^\d{13}-\d{20}$/, 'an id Redis issued, padded to sort');

  // History lives in Redis, under the prefix: the other hub replays it.
  assert.ok((await countKeys(prefix)) > 0);
  const replay = await EventStream.open(
    t,
    `${secondUrl}?topic=${encodeURIComponent('https://example.com/t')}&lastEventID=earliest`,
    { Authorization: `Bearer ${subscriberToken}` },
  );
  assert.deepEqual(
    (await replay.waitForEvents(1)).map((e) => e.data),
    ['hello from the first hub'],
  );
});

const REFUSED: [string, string[], RegExp][] = [
  [
    'a URL without a host',
    ['--store', 'redis://'],
    /--store is not a usable Redis URL \(it names no host\)/,
  ],
  [
    'a URL with a path that is no database',
    ['--store', 'redis://127.0.0.1:6379/herald'],
    /--store is not a usable Redis URL \(the path may only be a database number/,
  ],
  [
    '--redis-prefix without the Redis store',
    ['--store', 'memory', '--redis-prefix', 'x:'],
    /--redis-prefix applies to the Redis store only/,
  ],
  [
    'a prefix with glob characters',
    ['--store', REDIS_URL, '--redis-prefix', 'her*ld:'],
    /--redis-prefix must be a non-empty key prefix without spaces or glob characters/,
  ],
  [
    'a Sentinel URL without a master group',
    ['--store', 'redis+sentinel://127.0.0.1:26379'],
    /--store is not a usable Redis URL \(the path must name the master group the Sentinels monitor, e\.g\. \/mymaster\)/,
  ],
  [
    'a Sentinel URL with a query other than db',
    ['--store', 'redis+sentinel://127.0.0.1:26379/mymaster?timeout=5'],
    /--store is not a usable Redis URL \(the query may only be a database number, e\.g\. \?db=0\)/,
  ],
  [
    'unreachable Sentinels',
    ['--store', 'redis+sentinel://127.0.0.1:1,127.0.0.1:2/mymaster'],
    /herald: Cannot use the Redis store redis\+sentinel:\/\/127\.0\.0\.1:1,127\.0\.0\.1:2\/mymaster: All sentinels are unreachable/,
  ],
  [
    'a Cluster URL with a database',
    ['--store', 'redis+cluster://127.0.0.1:7000,127.0.0.1:7001/1'],
    /--store is not a usable Redis URL \(a cluster has only database 0: the URL must not have a path\)/,
  ],
  [
    'unreachable cluster nodes',
    ['--store', 'redis+cluster://127.0.0.1:1,127.0.0.1:2'],
    /herald: Cannot use the Redis store redis\+cluster:\/\/127\.0\.0\.1:1,127\.0\.0\.1:2: none of the listed cluster nodes described the cluster \(Failed to refresh slots cache/,
  ],
  [
    '--redis-min-replicas without the Redis store',
    ['--store', 'memory', '--redis-min-replicas', '1'],
    /--redis-min-replicas applies to the Redis store only/,
  ],
  [
    'a replica wait of 0 (WAIT would never answer)',
    ['--store', REDIS_URL, '--redis-min-replicas', '1', '--redis-min-replicas-timeout', '0'],
    /--redis-min-replicas-timeout must be from 1ms to 60s; got "0"/,
  ],
  [
    'an unreachable Redis',
    ['--store', 'redis://127.0.0.1:1'],
    /herald: Cannot use the Redis store redis:\/\/127\.0\.0\.1:1\/?: connect ECONNREFUSED 127\.0\.0\.1:1\.$/m,
  ],
];

for (const [what, args, message] of REFUSED) {
  test(`serve with ${what} stops with a clear message`, async (t) => {
    const cli = runCli(t, ['serve', '--port', '0', ...args], { HERALD_JWT_KEY: KEY });
    assert.equal(await cli.exited, 2);
    assert.match(cli.stderr, message);
    assert.doesNotMatch(cli.stdout, /listening/);
  });
}

test('a Redis password never appears in messages', async (t) => {
  const secret = 'redis-password-never-printed';
  const bad = runCli(t, ['serve', '--port', '0', '--store', `redis://user:${secret}@/x`], {
    HERALD_JWT_KEY: KEY,
  });
  const unreachable = runCli(
    t,
    ['serve', '--port', '0', '--store', `redis://user:${secret}@127.0.0.1:1/0`],
    {
      HERALD_JWT_KEY: KEY,
    },
  );
  const sentinels = runCli(
    t,
    ['serve', '--port', '0', '--store', `redis+sentinel://user:${secret}@127.0.0.1:1/mymaster`],
    { HERALD_JWT_KEY: KEY },
  );
  const cluster = runCli(
    t,
    ['serve', '--port', '0', '--store', `redis+cluster://user:${secret}@127.0.0.1:1`],
    { HERALD_JWT_KEY: KEY },
  );
  assert.equal(await bad.exited, 2);
  assert.equal(await unreachable.exited, 2);
  assert.equal(await sentinels.exited, 2);
  assert.equal(await cluster.exited, 2);
  assert.match(
    cluster.stderr,
    /Cannot use the Redis store redis\+cluster:\/\/user:\*\*\*@127\.0\.0\.1:1/,
  );
  assert.match(
    sentinels.stderr,
    /Cannot use the Redis store redis\+sentinel:\/\/user:\*\*\*@127\.0\.0\.1:1\/mymaster/,
  );
  assert.match(
    unreachable.stderr,
    /Cannot use the Redis store redis:\/\/user:\*\*\*@127\.0\.0\.1:1\/0/,
  );
  for (const cli of [bad, unreachable, sentinels, cluster]) {
    assert.ok(!(cli.stdout + cli.stderr).includes(secret), cli.stderr);
  }
});
