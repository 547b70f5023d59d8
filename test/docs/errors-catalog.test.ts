import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { sep } from 'node:path';
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

/**
 * An embedder calling `startHerald()` has no command line: a client's error detail names the
 * limit it met, never the CLI flag that sets it. Every `new HeraldError(` outside src/cli is
 * read up to its closing parenthesis, and its string literals are checked.
 */
test('no error detail the hub sends names a CLI flag', () => {
  const root = new URL('../../src/', import.meta.url);
  const offenders: string[] = [];
  let calls = 0;
  for (const file of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts') || file.startsWith(`cli${sep}`)) continue;
    const source = readFileSync(new URL(file, root), 'utf8');
    for (const call of heraldErrorCalls(source)) {
      calls++;
      for (const literal of call.matchAll(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`[^`]*`/g)) {
        if (/(^|[\s(])--[a-z]/.test(literal[0])) offenders.push(`${file}: ${literal[0]}`);
      }
    }
  }
  assert.ok(calls > 20, `found only ${calls} HeraldError constructions: is the scan still right?`);
  assert.deepEqual(offenders, []);
});

/** The text of each `new HeraldError(...)` call in `source`, up to its matching parenthesis. */
function* heraldErrorCalls(source: string): Generator<string> {
  for (const match of source.matchAll(/new HeraldError\(/g)) {
    let depth = 0;
    let quote: string | undefined;
    for (let i = match.index + match[0].length - 1; i < source.length; i++) {
      const char = source[i];
      if (quote !== undefined) {
        if (char === '\\') i++;
        else if (char === quote) quote = undefined;
      } else if (char === "'" || char === '"' || char === '`') {
        quote = char;
      } else if (char === '(') {
        depth++;
      } else if (char === ')' && --depth === 0) {
        yield source.slice(match.index, i + 1);
        break;
      }
    }
  }
}
