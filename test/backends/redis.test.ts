import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { runBackendConformance } from './conformance.ts';
import { openRedisHandle } from './redis-handle.ts';

runBackendConformance('RedisBackend', {
  create: (options) => {
    const keyPrefix = uniquePrefix('conformance');
    return openRedisHandle(REDIS_URL, keyPrefix, options, () => deleteKeys(keyPrefix));
  },
});
