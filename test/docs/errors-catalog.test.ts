import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CATALOG, TOKEN_REFUSAL_REASONS } from '../../src/core/errors.ts';

const DOC = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

test('docs/errors.md documents every token refusal reason, and nothing else', () => {
  const section = DOC.slice(DOC.indexOf('## Why a token was refused'));
  const documented = [...section.matchAll(/^\|\s*`([a-z-]+)`\s*\|/gm)].map((m) => m[1]);
  assert.deepEqual([...documented].sort(), [...TOKEN_REFUSAL_REASONS].sort());
});

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
