import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { CLI, runCli, tempDir } from '../support/cli.ts';
import type { RunningCli } from '../support/cli.ts';
import { startLoadBalancer } from '../support/load-balancer.ts';
import { waitFor } from '../support/wait.ts';

const KEY = 'a-configured-key-of-at-least-thirty-two-bytes';

/** Waits until `condition` holds; a failure shows what the CLI printed. */
function until(condition: () => boolean, what: string, cli?: RunningCli): Promise<true> {
  return waitFor(condition, {
    timeout: 60_000,
    message: () => `${what}\nstdout: ${cli?.stdout ?? ''}\nstderr: ${cli?.stderr ?? ''}`,
  });
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

function printedToken(stdout: string): string {
  return /Publisher token[^\n]*\n\s*(\S+)/.exec(stdout)?.[1] ?? '';
}

/** Runs `herald publish` to completion: its exit status and output. */
async function publish(
  t: TestContext,
  args: string[],
  env: Record<string, string>,
): Promise<RunningCli & { code: number | null }> {
  const cli = runCli(t, ['publish', ...args], env);
  const code = await cli.exited;
  return Object.assign(cli, { code });
}

test('publish → subscribe round trip, resumed with Last-Event-ID across a hub restart (SQLite)', async (t) => {
  const data = tempDir(t);
  const store = `sqlite:${join(data, 'herald.db')}`;
  const serveArgs = ['serve', '--port', '0', '--host', '127.0.0.1', '--store', store];
  const first = runCli(t, serveArgs);
  const firstUrl = await first.ready;
  const token = printedToken(first.stdout);
  const env = { HERALD_TOKEN: token };

  // The subscriber reaches the hub through a TCP balancer, which a test can point elsewhere.
  const balancer = await startLoadBalancer(t, Number(new URL(firstUrl).port));
  const viaBalancer = `http://127.0.0.1:${balancer.port}/.well-known/mercure`;
  const sub = runCli(t, ['subscribe', '--topic', 'https://example.com/books/{id}', '--json'], {
    ...env,
    HERALD_HUB_URL: viaBalancer,
  });
  await until(() => sub.stderr.includes('connected to'), 'the subscriber connects', sub);

  const one = await publish(
    t,
    [
      '--hub',
      firstUrl,
      '--topic',
      'https://example.com/books/1',
      '--data',
      'one\ntwo',
      '--id',
      'e1',
      '--type',
      'book',
    ],
    env,
  );
  assert.equal(one.code, 0, one.stderr);
  assert.equal(one.stdout, 'e1\n', 'publish prints the id');
  await until(() => lines(sub.stdout).length === 1, 'e1 arrives', sub);
  assert.deepEqual(JSON.parse(lines(sub.stdout)[0] ?? ''), {
    id: 'e1',
    type: 'book',
    data: 'one\ntwo',
  });

  // The hub goes away, and the subscriber cannot reach the next one until the balancer says so.
  balancer.target = 1;
  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0);
  await until(
    () => sub.stderr.includes('reconnecting, resuming after e1'),
    'the drop is noticed',
    sub,
  );

  // Restarted on the same store (a new port); the development key was kept, so the token works.
  const second = runCli(t, serveArgs);
  const secondUrl = await second.ready;
  for (const id of ['e2', 'e3']) {
    const published = await publish(
      t,
      ['--hub', secondUrl, '--topic', `https://example.com/books/${id}`, '--data', id, '--id', id],
      env,
    );
    assert.equal(published.code, 0, published.stderr);
  }
  // Published while the subscriber was away: only resuming from e1 delivers them.
  balancer.target = Number(new URL(secondUrl).port);
  await until(() => lines(sub.stdout).length >= 3, 'e2 and e3 arrive by resuming', sub);
  assert.deepEqual(
    lines(sub.stdout).map((line) => (JSON.parse(line) as { id: string }).id),
    ['e1', 'e2', 'e3'],
  );
  assert.match(sub.stderr, /the hub resumed after e1/);

  // Nothing else came: a marker is the next line.
  const marker = await publish(
    t,
    ['--hub', secondUrl, '--topic', 'https://example.com/books/m', '--data', 'marker', '--id', 'm'],
    env,
  );
  assert.equal(marker.code, 0);
  await until(() => lines(sub.stdout).length >= 4, 'the marker arrives', sub);
  assert.equal(lines(sub.stdout).length, 4);

  sub.child.kill('SIGINT');
  assert.equal(await sub.exited, 0, 'Ctrl-C exits 0');
});

test('against a hub started with only draft-07 options, both commands work; a draft-08 match is refused with the problem detail', async (t) => {
  const hub = runCli(t, [
    'serve',
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--store',
    'memory',
    '--protocol',
    '07',
  ]);
  const hubUrl = await hub.ready;
  const env = { HERALD_TOKEN: printedToken(hub.stdout), HERALD_HUB_URL: hubUrl };

  const sub = runCli(t, ['subscribe', '--topic', 'https://example.com/a', '--count', '2'], env);
  await until(() => sub.stderr.includes('connected to'), 'the subscriber connects', sub);
  for (const data of ['first line\nsecond line', 'back\\slash']) {
    const published = await publish(t, ['--topic', 'https://example.com/a', '--data', data], env);
    assert.equal(published.code, 0, published.stderr);
    assert.match(published.stdout, /^urn:uuid:[0-9a-f-]+\n$/, 'the hub-assigned id');
  }
  assert.equal(await sub.exited, 0, '--count 2 exits 0 after two updates');
  assert.equal(sub.stdout, 'first line\\nsecond line\nback\\\\slash\n', 'one line per update');

  const match = runCli(t, ['subscribe', '--match', 'https://example.com/a'], env);
  assert.equal(await match.exited, 3);
  assert.match(
    match.stderr,
    /^herald: the hub refused the subscription: .*400.*\(HERALD_ERR_[A-Z_]+\)/,
  );
});

test('subscribe with draft-08 match and match_urlpattern on a hub that speaks both', async (t) => {
  const hub = runCli(t, ['serve', '--port', '0', '--host', '127.0.0.1', '--store', 'memory']);
  const hubUrl = await hub.ready;
  const env = { HERALD_TOKEN: printedToken(hub.stdout), HERALD_HUB_URL: hubUrl };
  const sub = runCli(
    t,
    [
      'subscribe',
      '--match',
      'https://example.com/a',
      '--match-urlpattern',
      'https://example.com/books/:id',
      '--json',
      '--count',
      '2',
    ],
    env,
  );
  await until(() => sub.stderr.includes('connected to'), 'the subscriber connects', sub);
  for (const topic of [
    'https://example.com/other',
    'https://example.com/books/7',
    'https://example.com/a',
  ]) {
    const published = await publish(t, ['--topic', topic, '--data', topic], env);
    assert.equal(published.code, 0, published.stderr);
  }
  assert.equal(await sub.exited, 0);
  assert.deepEqual(
    lines(sub.stdout).map((line) => (JSON.parse(line) as { data: string }).data),
    ['https://example.com/books/7', 'https://example.com/a'],
  );
});

test('publish: data from a file and from stdin; private, type and retry are sent', async (t) => {
  const hub = runCli(t, ['serve', '--port', '0', '--host', '127.0.0.1', '--store', 'memory']);
  const hubUrl = await hub.ready;
  const token = printedToken(hub.stdout);
  const env = { HERALD_TOKEN: token, HERALD_HUB_URL: hubUrl };
  const sub = runCli(
    t,
    ['subscribe', '--topic', 'https://example.com/p', '--json', '--count', '2'],
    env,
  );
  await until(() => sub.stderr.includes('connected to'), 'the subscriber connects', sub);

  const file = join(tempDir(t), 'data.json');
  writeFileSync(file, '{"from":"file"}\n');
  const fromFile = await publish(
    t,
    [
      '--topic',
      'https://example.com/p',
      '--data-file',
      file,
      '--private',
      '--type',
      't',
      '--retry',
      '5000',
    ],
    env,
  );
  assert.equal(fromFile.code, 0, fromFile.stderr);

  const child = spawn(
    process.execPath,
    [CLI, 'publish', '--topic', 'https://example.com/p', '--data-file', '-'],
    {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  child.stdin.end('from stdin');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);

  assert.equal(await sub.exited, 0);
  assert.deepEqual(
    lines(sub.stdout)
      .map((line) => JSON.parse(line) as { type: string; data: string })
      .map((e) => [e.type, e.data]),
    [
      ['t', '{"from":"file"}\n'],
      ['message', 'from stdin'],
    ],
  );
});

test('publish errors: the hub refusal with its problem detail (3), no answer (1), usage (2)', async (t) => {
  const hub = runCli(t, ['serve', '--port', '0', '--host', '127.0.0.1', '--store', 'memory'], {
    HERALD_JWT_KEY: KEY,
  });
  const hubUrl = await hub.ready;
  const topic = ['--hub', hubUrl, '--topic', 'https://example.com/x', '--data', 'x'];

  const noToken = await publish(t, topic, {});
  assert.equal(noToken.code, 3);
  assert.match(
    noToken.stderr,
    /^herald: the hub refused the update: 401 Unauthorized: .*\(HERALD_ERR_[A-Z_]+\)\. No token was given: pass --token or set HERALD_TOKEN\.\n$/,
  );
  assert.equal(noToken.stdout, '');

  const badToken = await publish(t, [...topic, '--token', 'not.a.jwt'], {});
  assert.equal(badToken.code, 3);
  assert.match(
    badToken.stderr,
    /^herald: the hub refused the update: 401 .*\(HERALD_ERR_[A-Z_]+\)\.\n$/,
  );

  // Subscribing without a token where anonymous subscribers are not allowed: refused, exit 3.
  const sub = runCli(t, ['subscribe', '--hub', hubUrl, '--topic', 'https://example.com/x']);
  assert.equal(await sub.exited, 3);
  assert.match(sub.stderr, /the hub refused the subscription: .*401.*\(HERALD_ERR_[A-Z_]+\)/);

  hub.child.kill('SIGTERM');
  assert.equal(await hub.exited, 0);
  const down = await publish(t, topic, {});
  assert.equal(down.code, 1);
  assert.match(
    down.stderr,
    /^herald: no answer from http:\/\/127\.0\.0\.1:\d+\/\.well-known\/mercure: /,
  );

  const usage = await publish(t, ['--data', 'x'], {});
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--topic is required/);
  const both = await publish(t, ['--topic', 'x', '--data', 'x', '--data-file', '-'], {});
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--data and --data-file exclude each other/);
  const selectors = runCli(t, ['subscribe']);
  assert.equal(await selectors.exited, 2);
  assert.match(selectors.stderr, /Give at least one selector/);
});

test('subscribe exits 0 on SIGTERM', async (t) => {
  const hub = runCli(t, ['serve', '--port', '0', '--host', '127.0.0.1', '--store', 'memory']);
  const hubUrl = await hub.ready;
  const sub = runCli(t, ['subscribe', '--hub', hubUrl, '--topic', '*']);
  await until(() => sub.stderr.includes('connected to'), 'the subscriber connects', sub);
  sub.child.kill('SIGTERM');
  assert.equal(await sub.exited, 0);
});
