import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createIdGenerator } from '../../src/core/ids.ts';

const UUID_V7 = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('ids are UUIDv7 URNs that sort in issue order, even within one millisecond', () => {
  const next = createIdGenerator(() => 1_700_000_000_000);
  const ids = Array.from({ length: 10_000 }, next);
  for (const id of ids) assert.match(id, UUID_V7);
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
});

test('ids stay ordered when the clock steps back', () => {
  let now = 2_000_000_000_000;
  const next = createIdGenerator(() => now);
  const first = next();
  now -= 5_000;
  const second = next();
  assert.ok(second > first);
});

test('the timestamp is the first 48 bits', () => {
  const ms = 0x0123456789ab;
  const id = createIdGenerator(() => ms)();
  assert.equal(id.slice('urn:uuid:'.length, 'urn:uuid:'.length + 13), '01234567-89ab');
});
