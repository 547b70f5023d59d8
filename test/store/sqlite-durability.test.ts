import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fetch } from 'undici';
import { mintToken } from '../../src/auth/mint-token.ts';
import { EventStream } from '../support/event-stream.ts';
import { runCli, tempDir } from '../support/cli.ts';

const KEY = 'durability-test-key-of-thirty-two-bytes-or-more';
const TOPIC = 'https://example.com/ledger';

async function publisherToken(): Promise<string> {
  return mintToken({ key: KEY, algorithm: 'HS256', publish: ['*'] });
}

async function publish(hubUrl: string, token: string, data: string): Promise<string> {
  const response = await fetch(hubUrl, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body: new URLSearchParams({ topic: TOPIC, data }),
  });
  const body = await response.text();
  assert.equal(response.status, 200, body);
  return body;
}

function serveArgs(file: string, port = '0'): string[] {
  return [
    'serve',
    '--port',
    port,
    '--host',
    '127.0.0.1',
    '--anonymous',
    '--store',
    `sqlite:${file}`,
    // 32 publishers share one token and publish flat out: durability, not rate limits, is tested.
    '--publish-rate',
    '0',
  ];
}

test('a client resuming with Last-Event-ID after the hub restarted receives exactly what it missed', async (t) => {
  const file = join(tempDir(t), 'history.db');
  const token = await publisherToken();
  const first = runCli(t, serveArgs(file), { HERALD_JWT_KEY: KEY });
  const hubUrl = await first.ready;
  const port = new URL(hubUrl).port;

  const client = await EventStream.open(t, `${hubUrl}?topic=${encodeURIComponent(TOPIC)}`);
  for (let i = 0; i < 3; i++) await publish(hubUrl, token, `seen ${i}`);
  const seen = await client.waitForEvents(3);
  client.close();
  const missed: string[] = [];
  for (let i = 0; i < 4; i++) missed.push(await publish(hubUrl, token, `missed ${i}`));

  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0);
  const second = runCli(t, serveArgs(file, port), { HERALD_JWT_KEY: KEY });
  assert.equal(await second.ready, hubUrl);

  const resumed = await EventStream.open(t, `${hubUrl}?topic=${encodeURIComponent(TOPIC)}`, {
    'Last-Event-ID': seen.at(-1)?.id ?? '',
  });
  assert.equal(resumed.headers.get('last-event-id'), seen.at(-1)?.id);
  const live = await publish(hubUrl, token, 'after restart');
  const events = await resumed.waitForEvents(5);
  assert.deepEqual(
    events.map((event) => event.id),
    [...missed, live],
  );
  assert.deepEqual(
    events.map((event) => event.data),
    ['missed 0', 'missed 1', 'missed 2', 'missed 3', 'after restart'],
  );
  // Ids issued after the restart sort after those issued before it.
  assert.ok(live > (missed.at(-1) ?? ''));
});

test('killed with SIGKILL mid-publish, the hub loses no acknowledged update', async (t) => {
  const file = join(tempDir(t), 'crash.db');
  const token = await publisherToken();
  const first = runCli(t, serveArgs(file), { HERALD_JWT_KEY: KEY });
  const hubUrl = await first.ready;

  // 32 publishers in parallel, each recording what the hub acknowledged, until the hub dies.
  const acknowledged: string[] = [];
  let attempts = 0;
  const publishers = Array.from({ length: 32 }, async (_, worker) => {
    for (let i = 0; ; i++) {
      attempts++;
      try {
        acknowledged.push(await publish(hubUrl, token, `w${worker} n${i}`));
      } catch {
        return; // The hub is gone: whatever was not acknowledged may or may not be stored.
      }
    }
  });
  // Killed at a random point once enough was acknowledged: a count, not a time, so that a busy
  // machine cannot make the test kill the hub before it has acknowledged anything.
  const killAfter = 60 + Math.floor(Math.random() * 400);
  for (let waited = 0; acknowledged.length < killAfter; waited += 10) {
    assert.ok(waited < 60_000, `only ${acknowledged.length} acknowledged after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  first.child.kill('SIGKILL');
  await first.exited;
  await Promise.all(publishers);
  t.diagnostic(
    `${acknowledged.length} acknowledged of ${attempts} attempted; killed after ${killAfter} acknowledgements`,
  );
  assert.ok(
    acknowledged.length > 50,
    `the hub acknowledged ${acknowledged.length} updates before the kill`,
  );

  const second = runCli(t, serveArgs(file), { HERALD_JWT_KEY: KEY });
  const restarted = await second.ready;
  const history = await EventStream.open(
    t,
    `${restarted}?topic=${encodeURIComponent(TOPIC)}&lastEventID=earliest`,
  );
  await history.waitForEvents(acknowledged.length, 20_000);
  // Let any stored-but-unacknowledged tail arrive too, then compare.
  const marker = await publish(restarted, token, 'marker');
  await history.until(() => history.events.at(-1)?.id === marker, 'the marker', 20_000);
  const stored = history.events.slice(0, -1).map((event) => event.id ?? '');
  assert.equal(new Set(stored).size, stored.length, 'no id is stored twice');
  const missing = acknowledged.filter((id) => !stored.includes(id));
  assert.deepEqual(
    missing,
    [],
    `${missing.length} acknowledged updates were lost (of ${acknowledged.length}, ${attempts} attempted, killed after ${killAfter} acknowledgements)`,
  );

  // Each publisher's updates are stored in the order it published them.
  const byWorker = new Map<string, number[]>();
  for (const event of history.events.slice(0, -1)) {
    const [worker, n] = event.data.split(' ');
    byWorker.set(worker ?? '', [...(byWorker.get(worker ?? '') ?? []), Number((n ?? '').slice(1))]);
  }
  for (const [worker, sequence] of byWorker) {
    assert.deepEqual(
      sequence,
      [...sequence].sort((a, b) => a - b),
      `${worker} in order`,
    );
  }

  // Resuming from an acknowledged id in the middle yields exactly the rest, in the same order.
  const middle = Math.floor(stored.length / 2);
  const resumed = await EventStream.open(t, `${restarted}?topic=${encodeURIComponent(TOPIC)}`, {
    'Last-Event-ID': stored[middle] ?? '',
  });
  const rest = await resumed.waitForEvents(stored.length - middle, 20_000);
  assert.deepEqual(
    rest.map((event) => event.id),
    [...stored.slice(middle + 1), marker],
  );
});

test('a corrupt data file stops start-up with a message naming the file', async (t) => {
  const file = join(tempDir(t), 'corrupt.db');
  writeFileSync(
    file,
    'this is not a database, just some text that is long enough to have a header'.repeat(20),
  );
  const cli = runCli(t, serveArgs(file), { HERALD_JWT_KEY: KEY });
  assert.equal(await cli.exited, 2);
  assert.match(
    cli.stderr,
    new RegExp(
      `Cannot use the SQLite store ${file.replaceAll('/', '\\/')}: it is not a SQLite database`,
    ),
  );
});

test('a second hub on the same data file is refused while the first runs', async (t) => {
  const file = join(tempDir(t), 'shared.db');
  const first = runCli(t, serveArgs(file), { HERALD_JWT_KEY: KEY });
  const hubUrl = await first.ready;
  const second = runCli(t, serveArgs(file), { HERALD_JWT_KEY: KEY });
  assert.equal(await second.exited, 2);
  assert.match(
    second.stderr,
    /Cannot use the SQLite store .*shared\.db: another process \(another Herald\?\) holds it locked/,
  );
  // The first hub is unharmed.
  assert.match(await publish(hubUrl, await publisherToken(), 'still here'), /^urn:uuid:/);
});
