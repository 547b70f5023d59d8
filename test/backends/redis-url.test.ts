import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRedisUrl, parseSentinelUrl, redactRedisUrl } from '../../src/backends/redis-url.ts';

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
    'it must start with redis:// or rediss:// (TLS), or redis+sentinel:// or rediss+sentinel://',
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
