import type { HeraldConfig } from '../config.ts';
import type { Backend } from '../core/backend.ts';
import { MemoryBackend } from './memory.ts';

/**
 * Opens the configured store. Heavy drivers are imported only by the store that needs them,
 * so a memory-only hub never loads a native addon.
 */
export async function openBackend(config: HeraldConfig): Promise<Backend> {
  switch (config.store.kind) {
    case 'memory':
      return new MemoryBackend({
        historySize: config.historySize,
        refuseDuplicateIds: config.refuseDuplicateIds,
      });
    case 'sqlite': {
      const { SqliteBackend } = await import('./sqlite.ts');
      return SqliteBackend.open({
        path: config.store.path,
        maxEvents: config.historySize,
        maxAgeMs: config.historyMaxAgeMs,
        refuseDuplicateIds: config.refuseDuplicateIds,
      });
    }
    case 'redis': {
      const { RedisBackend } = await import('./redis.ts');
      return RedisBackend.open({
        url: config.store.url,
        keyPrefix: config.store.keyPrefix,
        maxEvents: config.historySize,
        maxAgeMs: config.historyMaxAgeMs,
        refuseDuplicateIds: config.refuseDuplicateIds,
        minReplicas: config.store.minReplicas,
        minReplicasTimeoutMs: config.store.minReplicasTimeoutMs,
      });
    }
  }
}
