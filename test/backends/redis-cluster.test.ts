/**
 * The whole backend conformance suite on a Redis Cluster of this file's own: three masters and
 * three replicas (real redis-server processes). Every test uses a fresh key prefix, so the
 * hubs' slots, and the masters holding them, vary from test to test.
 */
import { after, before } from 'node:test';
import { hubKeyPrefix } from '../../src/backends/redis-keys.ts';
import { RedisCluster } from '../support/redis-cluster.ts';
import { uniquePrefix } from '../support/redis.ts';
import { runBackendConformance } from './conformance.ts';
import { openRedisHandle } from './redis-handle.ts';

let cluster: RedisCluster | undefined;
const cleanups: (() => Promise<void>)[] = [];
before(async () => {
  cluster = await RedisCluster.start((cleanup) => cleanups.push(cleanup));
});
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

runBackendConformance('RedisBackend on a 3-master Redis Cluster', {
  create: (options) => {
    if (cluster === undefined) throw new Error('the cluster did not start');
    const { url } = cluster;
    const keyPrefix = uniquePrefix('cluster-conformance');
    return openRedisHandle(
      url,
      keyPrefix,
      options,
      () => cluster?.deleteKeys(hubKeyPrefix(keyPrefix, true)) ?? Promise.resolve(),
    );
  },
});
