import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SERVE_OPTIONS } from '../../src/options/option-table.ts';
import { readmeTableProblems } from '../support/readme-options.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

test("the README's configuration table gives each option its variable and the default --help shows", () => {
  assert.deepEqual(readmeTableProblems(SERVE_OPTIONS, README), []);
});
