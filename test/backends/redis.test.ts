import { RedisBackend } from '../../src/backends/redis.ts';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { runBackendConformance } from './conformance.ts';

runBackendConformance('RedisBackend', {
  create: async ({ historySize, refuseDuplicateIds }) => {
    const keyPrefix = uniquePrefix('conformance');
    const open = () =>
      RedisBackend.open({
        url: REDIS_URL,
        keyPrefix,
        maxEvents: historySize,
        maxAgeMs: null,
        refuseDuplicateIds,
      });
    const opened: RedisBackend[] = [await open()];
    const first = opened[0] as RedisBackend;
    return {
      backend: first,
      reopen: async () => {
        const backend = await open();
        opened.push(backend);
        return backend;
      },
      openPeer: async () => {
        const backend = await open();
        opened.push(backend);
        return backend;
      },
      // Deliveries are asynchronous (every node reads the stream), and retention waits out a
      // grace period: once every open node has delivered everything, trim without it.
      settle: async () => {
        const open = opened.filter((backend) => !backend.closed);
        for (const backend of open) await backend.caughtUp();
        await open[0]?.trim({ ignoreGrace: true });
      },
      cleanup: () => deleteKeys(keyPrefix),
    };
  },
});
