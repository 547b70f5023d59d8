import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CATALOG } from '../../src/core/errors.ts';

test('docs/errors.md documents every code of the catalog, with its status, and nothing else', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const documented = new Map(
    [...doc.matchAll(/^\|\s*`(HERALD_ERR_[A-Z_]+)`\s*\|\s*(\d{3})\s*\|/gm)].map((m) => [
      m[1],
      Number(m[2]),
    ]),
  );
  const catalog = new Map(
    Object.entries(ERROR_CATALOG).map(([code, { status }]) => [code, status]),
  );
  assert.deepEqual([...documented].sort(), [...catalog].sort());
});
