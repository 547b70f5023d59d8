/**
 * `--redis-min-replicas` refusing: on a Redis with no replica, a publish cannot be confirmed by
 * one, so it gets 503 HERALD_ERR_BACKEND_UNAVAILABLE saying why; the update is stored on the
 * master all the same and delivered, exactly as the message says it may be.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventStream } from '../support/event-stream.ts';
import { PrivateRedis } from '../support/private-redis.ts';
import { uniquePrefix } from '../support/redis.ts';
import { startTestHub } from '../support/test-hub.ts';

const TOPIC = 'https://example.com/replicated';

test('with too few replicas a publish is 503 with the reason, though it may still be delivered', async (t) => {
  const redis = await PrivateRedis.start(t);
  const prefix = uniquePrefix('replicas');
  const store = { kind: 'redis', url: redis.url, keyPrefix: prefix } as const;
  const strict = await startTestHub(t, {
    store: { ...store, minReplicas: 1, minReplicasTimeoutMs: 50 },
  });
  const lenient = await startTestHub(t, { store });
  const authorization = { Authorization: `Bearer ${await strict.token({ subscribe: ['*'] })}` };
  const stream = await EventStream.open(t, strict.subscribeUrl([TOPIC]), authorization);
  assert.equal(stream.status, 200);

  const refused = await strict.publish({ topic: TOPIC, data: 'not acknowledged' });
  assert.equal(refused.status, 503);
  const problem = JSON.parse(refused.body) as { code: string; detail: string };
  assert.equal(problem.code, 'HERALD_ERR_BACKEND_UNAVAILABLE');
  assert.match(
    problem.detail,
    /^The update was stored on the Redis master, but only 0 of the 1 replica\(s\) this hub requires confirmed within 50 ms: not acknowledged\. It may still be delivered/,
  );

  // A marker through the node that needs no replica: once it arrives, nothing else is coming.
  const marker = await lenient.publish({ topic: TOPIC, data: 'marker' });
  assert.equal(marker.status, 200);
  await stream.until(() => stream.events.some((e) => e.id === marker.body), 'the marker');
  assert.deepEqual(
    stream.events.map((e) => e.data),
    ['not acknowledged', 'marker'],
    'the refused update was stored on the master and delivered, once, before the marker',
  );
  assert.deepEqual(strict.internalErrors, [], 'too few replicas is no internal error');
});
