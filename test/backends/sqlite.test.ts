import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteBackend } from '../../src/backends/sqlite.ts';
import { runBackendConformance } from './conformance.ts';

runBackendConformance('SqliteBackend', {
  lacks: {
    sharedStorage: 'the file is locked for one process; several nodes share Redis instead',
  },
  create: ({ historySize, refuseDuplicateIds }) => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-sqlite-'));
    const open = () =>
      SqliteBackend.open({
        path: join(dir, 'history.db'),
        maxEvents: historySize,
        maxAgeMs: null,
        refuseDuplicateIds,
      });
    let current = open();
    return Promise.resolve({
      backend: current,
      reopen: () => {
        current = open();
        return Promise.resolve(current);
      },
      // Retention runs on a timer; apply it now so checks are decided at once.
      settle: () => {
        current.trim();
        return Promise.resolve();
      },
      cleanup: () => {
        rmSync(dir, { recursive: true, force: true });
        return Promise.resolve();
      },
    });
  },
});
