import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasHashTag, hubKeyPrefix } from '../../src/backends/redis-keys.ts';
import {
  checkRedisUrl,
  isClusterUrl,
  parseClusterUrl,
  parseSentinelUrl,
  redactRedisUrl,
} from '../../src/backends/redis-url.ts';

test('a Sentinel URL names its Sentinels, the master group, the database and the credentials', () => {
  assert.deepEqual(
    parseSentinelUrl(
      'redis+sentinel://herald:p%40ss@10.0.0.1:26380,sentinel-b,[::1]:26381/mymaster?db=3',
    ),
    {
      sentinels: [
        { host: '10.0.0.1', port: 26380 },
        { host: 'sentinel-b', port: 26379 },
        { host: '::1', port: 26381 },
      ],
      name: 'mymaster',
      username: 'herald',
      password: 'p@ss',
      db: 3,
      tls: false,
    },
  );
  const tls = parseSentinelUrl('rediss+sentinel://:secret@127.0.0.1:26379/group-1');
  assert.ok(typeof tls !== 'string');
  assert.equal(tls.tls, true);
  assert.equal(tls.username, undefined);
  assert.equal(tls.password, 'secret');
  assert.equal(tls.db, 0);
});

test('an unusable Sentinel URL is refused with the reason, before anything connects', () => {
  const refused: [string, string][] = [
    ['redis+sentinel:///mymaster', 'it names no host'],
    [
      'redis+sentinel://h:26379',
      'the path must name the master group the Sentinels monitor, e.g. /mymaster',
    ],
    [
      'redis+sentinel://h:26379/',
      'the path must name the master group the Sentinels monitor, e.g. /mymaster',
    ],
    ['redis+sentinel://h:26379/a/b', 'it is not a URL'],
    ['redis+sentinel://h:26379/m?db=x', 'the query may only be a database number, e.g. ?db=0'],
    ['redis+sentinel://h:26379/m#f', 'it must not have a fragment'],
    ['redis+sentinel://h:99999/m', '"h:99999" has no valid port'],
    ['redis+sentinel://h:1,,h:2/m', '"" is not a Sentinel address (host:port)'],
    ['redis+sentinel://u:%zz@h/m', 'its user or password is not properly percent-encoded'],
  ];
  for (const [url, reason] of refused) assert.equal(checkRedisUrl(url), reason, url);
  assert.equal(checkRedisUrl('redis+sentinel://a:1,b:2/mymaster?db=1'), undefined);
  assert.equal(
    checkRedisUrl('http://h:6379'),
    'it must start with redis:// or rediss:// (TLS), redis+sentinel:// or rediss+sentinel://, or redis+cluster:// or rediss+cluster://',
  );
});

test('a Sentinel URL is shown with its password masked', () => {
  assert.equal(
    redactRedisUrl('rediss+sentinel://user:s3cret@a:1,b:2/mymaster?db=2'),
    'rediss+sentinel://user:***@a:1,b:2/mymaster?db=2',
  );
  assert.equal(redactRedisUrl('redis+sentinel://:s3cret@a/m'), 'redis+sentinel://:***@a/m');
  assert.equal(redactRedisUrl('redis+sentinel://a:1/m'), 'redis+sentinel://a:1/m');
  assert.equal(redactRedisUrl('redis://u:s3cret@h:6379/0'), 'redis://u:***@h:6379/0');
});

test('a Cluster URL names the nodes to start from and the credentials; the port defaults to 6379', () => {
  assert.deepEqual(
    parseClusterUrl('redis+cluster://herald:p%40ss@10.0.0.1:7000,node-b,[::1]:7002'),
    {
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'node-b', port: 6379 },
        { host: '::1', port: 7002 },
      ],
      username: 'herald',
      password: 'p@ss',
      tls: false,
    },
  );
  const tls = parseClusterUrl('rediss+cluster://:secret@127.0.0.1:7000/');
  assert.ok(typeof tls !== 'string');
  assert.equal(tls.tls, true);
  assert.equal(tls.username, undefined);
  assert.equal(tls.password, 'secret');
  assert.equal(isClusterUrl('REDIS+CLUSTER://a:1'), true);
  assert.equal(isClusterUrl('redis://a:1'), false);
});

test('an unusable Cluster URL is refused with the reason, before anything connects', () => {
  const refused: [string, string][] = [
    ['redis+cluster://', 'it names no host'],
    ['redis+cluster://h:7000/0', 'a cluster has only database 0: the URL must not have a path'],
    ['redis+cluster://h:7000?db=1', 'it must not have a query or a fragment'],
    ['redis+cluster://h:7000#f', 'it must not have a query or a fragment'],
    ['redis+cluster://h:99999', '"h:99999" has no valid port'],
    ['redis+cluster://h:1,,h:2', '"" is not a cluster node address (host:port)'],
    ['redis+cluster://u:%zz@h', 'its user or password is not properly percent-encoded'],
  ];
  for (const [url, reason] of refused) assert.equal(checkRedisUrl(url), reason, url);
  assert.equal(checkRedisUrl('redis+cluster://a:7000,b:7001'), undefined);
  assert.equal(checkRedisUrl('rediss+cluster://u:p@a'), undefined);
});

test('a Cluster URL is shown with its password masked', () => {
  assert.equal(
    redactRedisUrl('rediss+cluster://user:s3cret@a:1,b:2'),
    'rediss+cluster://user:***@a:1,b:2',
  );
  assert.equal(redactRedisUrl('redis+cluster://:s3cret@a'), 'redis+cluster://:***@a');
});

test('on a cluster every key of one hub shares a hash tag; elsewhere keys are unchanged', () => {
  assert.equal(hubKeyPrefix('herald:', false), 'herald:');
  assert.equal(hubKeyPrefix('herald:', true), '{herald:}');
  // A prefix that holds a tag already is kept, so one layout can serve both.
  assert.equal(hubKeyPrefix('{herald}:', true), '{herald}:');
  assert.equal(hubKeyPrefix('{herald}:', false), '{herald}:');
  // No tag: an unclosed or empty pair of braces does not decide a slot.
  assert.equal(hasHashTag('a{b'), false);
  assert.equal(hasHashTag('{}x'), false);
  assert.equal(hubKeyPrefix('{}x', true), '{{}x}');
  assert.equal(hasHashTag('x}{y}'), true);
});
