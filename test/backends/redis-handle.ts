import { RedisBackend } from '../../src/backends/redis.ts';
import type { BackendHandle, BackendOptions } from './conformance.ts';

/**
 * The conformance suite's handle on Redis nodes that share `keyPrefix` at `url` (one server or a
 * cluster): every backend it opens is a node of its own on the same keys.
 */
export async function openRedisHandle(
  url: string,
  keyPrefix: string,
  { historySize, refuseDuplicateIds }: BackendOptions,
  cleanup: () => Promise<void>,
): Promise<BackendHandle> {
  const opened: RedisBackend[] = [];
  const open = async () => {
    const backend = await RedisBackend.open({
      url,
      keyPrefix,
      maxEvents: historySize,
      maxAgeMs: null,
      refuseDuplicateIds,
    });
    opened.push(backend);
    return backend;
  };
  return {
    backend: await open(),
    reopen: open,
    openPeer: open,
    // Deliveries are asynchronous (every node reads the stream), and retention waits out a
    // grace period: once every open node has delivered everything, trim without it.
    settle: async () => {
      const open = opened.filter((backend) => !backend.closed);
      for (const backend of open) await backend.caughtUp();
      await open[0]?.trim({ ignoreGrace: true });
    },
    cleanup,
  };
}
