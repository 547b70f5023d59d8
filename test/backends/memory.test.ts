import { MemoryBackend } from '../../src/backends/memory.ts';
import { runBackendConformance } from './conformance.ts';

runBackendConformance('MemoryBackend', {
  lacks: {
    persistence: 'memory keeps nothing across close',
    sharedStorage: 'memory history lives in one process: no second node can share it',
  },
  create: ({ historySize, refuseDuplicateIds }) =>
    Promise.resolve({
      backend: new MemoryBackend({ historySize, refuseDuplicateIds }),
      cleanup: () => Promise.resolve(),
    }),
});
