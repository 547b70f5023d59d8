import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fetch } from 'undici';
import { ARTIFACTS, launchChromium } from '../support/browser.ts';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub, TEST_KEY } from '../support/test-hub.ts';

// The examples import the package by its own name (`herald`), which resolves to dist/: they run
// against the build, as `npm test` leaves it.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const READY = /^Example ready at (\S+) \(hub (\S+)\)$/m;

interface RunningExample {
  readonly child: ChildProcess;
  /** The page, e.g. `http://127.0.0.1:41234/`. */
  readonly appUrl: string;
  readonly hubUrl: string;
  output(): { stdout: string; stderr: string };
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Runs `node examples/<name>/server.mjs` with PORT=0, killed by its own pid when the test ends. */
async function startExample(
  t: TestContext,
  name: string,
  env: Record<string, string> = {},
): Promise<RunningExample> {
  const child = spawn(process.execPath, [`examples/${name}/server.mjs`], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

  const deadline = Date.now() + 15_000;
  let match: RegExpExecArray | null = null;
  while ((match = READY.exec(stdout)) === null) {
    if (child.exitCode !== null) assert.fail(`${name} exited with ${child.exitCode}:\n${stderr}`);
    if (Date.now() > deadline) assert.fail(`${name} printed no ready line:\n${stdout}\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const [, appUrl = '', hubUrl = ''] = match;
  return {
    child,
    appUrl,
    hubUrl,
    output: () => ({ stdout, stderr }),
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * Checks what every example shares: its page, its config, its quiet output, its clean stop.
 * Streams still open are left for the stop to end (a stream undici aborts keeps its socket open
 * for a few seconds, which would hold up the hub's graceful close).
 */
async function checkPageAndStop(example: RunningExample, title: RegExp): Promise<void> {
  const page = await fetch(example.appUrl);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  const html = await page.text();
  assert.match(html, title);
  assert.doesNotMatch(html, /innerHTML/, 'pages write event data as text');
  const configResponse = await fetch(new URL('config.json', example.appUrl));
  const config = (await configResponse.json()) as { hubUrl: string };
  assert.equal(config.hubUrl, example.hubUrl);

  assert.equal(await example.stop(), 0, 'SIGTERM stops the example cleanly');
  const { stdout, stderr } = example.output();
  // Exactly the ready line: no hub request logs, no key, no token.
  assert.deepEqual(stdout.trim().split('\n'), [
    `Example ready at ${example.appUrl} (hub ${example.hubUrl})`,
  ]);
  assert.doesNotMatch(stdout + stderr, /eyJ/, 'no token is printed');
}

/** A draft-08 subscription URL: the examples speak Mercure 1.0 only. */
function subscribeUrl(
  hubUrl: string,
  matchers: { match?: string[]; match_urlpattern?: string[] },
  query: Record<string, string> = {},
) {
  const url = new URL(hubUrl);
  for (const match of matchers.match ?? []) url.searchParams.append('match', match);
  for (const pattern of matchers.match_urlpattern ?? []) {
    url.searchParams.append('match_urlpattern', pattern);
  }
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  return url.href;
}

/** A port free a moment ago, for an example whose origin (its issuer) must be known in advance. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const PRICES = 'https://example.com/prices/:symbol';

test('price-ticker publishes public JSON prices that an anonymous subscriber receives', async (t) => {
  const example = await startExample(t, 'price-ticker');
  const origin = new URL(example.appUrl).origin;
  const stream = await EventStream.open(
    t,
    subscribeUrl(example.hubUrl, { match_urlpattern: [PRICES] }),
    { Origin: origin },
  );
  assert.equal(stream.status, 200);
  // The hub lets the page's origin read the stream (CORS).
  assert.equal(stream.headers.get('access-control-allow-origin'), origin);

  const [event] = await stream.waitForEvents(1, 5000);
  assert.ok(event !== undefined);
  assert.match(event.id ?? '', /^urn:uuid:/);
  const price = JSON.parse(event.data) as { symbol: unknown; price: unknown; change: unknown };
  assert.equal(typeof price.symbol, 'string');
  assert.equal(typeof price.price, 'number');
  assert.ok((price.price as number) > 0);
  assert.equal(typeof price.change, 'number');

  // The embedded hub speaks draft-08 only: a draft-07 subscription is refused, with the reason.
  const draft07 = await fetch(`${example.hubUrl}?topic=${encodeURIComponent(PRICES)}`);
  assert.equal(draft07.status, 400);
  assert.match(await draft07.text(), /HERALD_ERR_DIALECT_NOT_SERVED.*not topic=/);

  await checkPageAndStop(example, /<title>Herald example: price ticker<\/title>/);
});

test('price-ticker uses the hub named by HERALD_URL and HERALD_JWT_KEY instead of its own', async (t) => {
  // The hub trusts the example's origin as the issuer of its access tokens, as its README says.
  const port = await freePort();
  const hub = await startTestHub(t, {
    anonymous: true,
    accessTokenIssuer: `http://127.0.0.1:${port}`,
  });
  const stream = await EventStream.open(
    t,
    subscribeUrl(hub.hubUrl, { match_urlpattern: [PRICES] }),
  );
  const example = await startExample(t, 'price-ticker', {
    HERALD_URL: hub.hubUrl,
    HERALD_JWT_KEY: TEST_KEY,
    PORT: String(port),
  });
  assert.equal(example.hubUrl, hub.hubUrl);
  const [event] = await stream.waitForEvents(1, 5000);
  assert.ok(event !== undefined);
  assert.equal(typeof (JSON.parse(event.data) as { price: unknown }).price, 'number');
  stream.close();
  await checkPageAndStop(example, /price ticker/);
});

test('job-progress: POST /jobs starts a job whose progress then done reach its subscriber', async (t) => {
  const example = await startExample(t, 'job-progress');
  const startJob = async () => {
    const response = await fetch(new URL('jobs', example.appUrl), { method: 'POST' });
    assert.equal(response.status, 201);
    return (await response.json()) as { id: string; topic: string; token: string };
  };
  const [job, other] = await Promise.all([startJob(), startJob()]);
  assert.equal(job.topic, `https://example.com/jobs/${job.id}`);

  // earliest: whatever the job published before this subscription is replayed first. The token
  // travels in the Authorization header, as the page's herald/client sends it.
  const stream = await EventStream.open(
    t,
    subscribeUrl(example.hubUrl, { match: [job.topic] }, { last_event_id: 'earliest' }),
    { Authorization: `Bearer ${job.token}` },
  );
  assert.equal(stream.status, 200);
  // The other job's token asks for every job; it covers only its own job's private updates.
  const snooper = await EventStream.open(
    t,
    subscribeUrl(
      example.hubUrl,
      { match_urlpattern: ['https://example.com/jobs/:id'] },
      { last_event_id: 'earliest' },
    ),
    { Authorization: `Bearer ${other.token}` },
  );
  assert.equal(snooper.status, 200);
  // Without a token nobody may watch a job.
  const anonymous = await EventStream.open(
    t,
    subscribeUrl(example.hubUrl, { match: [job.topic] }, { last_event_id: 'earliest' }),
  );
  assert.equal(anonymous.status, 401);
  // Draft-08 never takes a token from the URL, which is why the page does not use EventSource.
  const inTheUrl = await fetch(
    subscribeUrl(example.hubUrl, { match: [job.topic] }, { authorization: job.token }),
  );
  assert.equal(inTheUrl.status, 400);
  assert.match(await inTheUrl.text(), /URL/);

  for (const watcher of [stream, snooper]) {
    await watcher.until(() => watcher.events.some((e) => e.event === 'done'), 'done', 10_000);
  }
  const types = stream.events.map((e) => e.event);
  assert.equal(types.at(-1), 'done');
  assert.ok(types.slice(0, -1).every((type) => type === 'progress'));
  const percents = stream.events
    .slice(0, -1)
    .map((e) => (JSON.parse(e.data) as { percent: number }).percent);
  assert.equal(percents[0], 0);
  assert.equal(percents.at(-1), 100);
  assert.ok(
    percents.every((p, i) => i === 0 || p > (percents[i - 1] ?? 0)),
    `progress rises: ${percents.join(' ')}`,
  );
  assert.match(stream.events.at(-1)?.data ?? '', new RegExp(job.id));

  // The snooper saw its own job to the end, and nothing of the other one.
  assert.match(snooper.events.at(-1)?.data ?? '', new RegExp(other.id));
  const seen = new Set(stream.events.map((e) => e.id));
  assert.ok(snooper.events.every((e) => !seen.has(e.id) && !e.data.includes(job.id)));

  await checkPageAndStop(example, /<title>Herald example: job progress<\/title>/);
});

test('notifications: a private notification reaches its user by cookie, and nobody else', async (t) => {
  const example = await startExample(t, 'notifications');
  const origin = new URL(example.appUrl).origin;
  const login = async (user: string): Promise<string> => {
    const response = await fetch(new URL('login', example.appUrl), {
      method: 'POST',
      body: new URLSearchParams({ user }),
    });
    assert.equal(response.status, 200);
    const cookie = response.headers.get('set-cookie') ?? '';
    const attributes = cookie.split(';').map((part) => part.trim());
    assert.ok(attributes.includes('HttpOnly'), cookie);
    assert.ok(attributes.includes('SameSite=Strict'), cookie);
    assert.ok(attributes.includes('Path=/.well-known/mercure'), cookie);
    const [pair = ''] = attributes;
    assert.match(pair, /^mercure_access_token=eyJ/);
    return pair;
  };
  const notify = async (user: string, message: string): Promise<void> => {
    const response = await fetch(new URL('notify', example.appUrl), {
      method: 'POST',
      body: new URLSearchParams({ user, message }),
    });
    assert.equal(response.status, 200, await response.clone().text());
  };
  const aliceTopic = 'https://example.com/users/alice/notifications';

  const alice = await EventStream.open(t, subscribeUrl(example.hubUrl, { match: [aliceTopic] }), {
    Cookie: await login('alice'),
    Origin: origin,
  });
  assert.equal(alice.status, 200);
  // The page's EventSource sends the cookie (withCredentials): the hub must allow that origin.
  assert.equal(alice.headers.get('access-control-allow-origin'), origin);
  assert.equal(alice.headers.get('access-control-allow-credentials'), 'true');
  // Bob asks for every user's notifications; his token covers only his own.
  const bob = await EventStream.open(
    t,
    subscribeUrl(example.hubUrl, {
      match: [aliceTopic],
      match_urlpattern: ['https://example.com/users/:user/notifications'],
    }),
    { Cookie: await login('bob') },
  );
  assert.equal(bob.status, 200);
  // Without a cookie the hub refuses to subscribe at all (it allows no anonymous subscribers).
  const anonymous = await EventStream.open(
    t,
    subscribeUrl(example.hubUrl, { match: [aliceTopic] }),
  );
  assert.equal(anonymous.status, 401);

  await notify('alice', 'Hello <b>Alice</b>');
  await notify('bob', 'Hello Bob');

  const [forAlice] = await alice.waitForEvents(1);
  assert.equal(
    (JSON.parse(forAlice?.data ?? '') as { message: string }).message,
    'Hello <b>Alice</b>',
  );
  // Bob's own notification was published after Alice's: had hers reached him, it would be first.
  const [forBob] = await bob.waitForEvents(1);
  assert.equal((JSON.parse(forBob?.data ?? '') as { message: string }).message, 'Hello Bob');
  assert.equal(bob.events.length, 1);
  assert.equal(alice.events.length, 1);

  await checkPageAndStop(example, /<title>Herald example: notifications<\/title>/);
});

test('in Chromium, each page shows its live events', async (t) => {
  const browser = await launchChromium(t);
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });

  const notifications = await startExample(t, 'notifications');
  await page.goto(notifications.appUrl);
  await page.click('#login button');
  await page.waitForSelector('#status:has-text("Logged in as alice")', { timeout: 5000 });
  await page.fill('#notify input[name=message]', '<img src=x onerror=alert(1)> shipped');
  await page.click('#notify button');
  await page.waitForSelector('#inbox li', { timeout: 5000 });
  assert.match(
    (await page.textContent('#inbox li span')) ?? '',
    /<img src=x onerror=alert\(1\)> shipped/,
  );
  await page.screenshot({ path: `${ARTIFACTS}/example-notifications.png` });
  // Leave the page first: its EventSource would otherwise log a refused reconnection.
  await page.goto('about:blank');
  assert.equal(await notifications.stop(), 0);

  const ticker = await startExample(t, 'price-ticker');
  await page.goto(ticker.appUrl);
  await page.waitForSelector('#prices tr:nth-child(4)', { timeout: 5000 });
  await page.screenshot({ path: `${ARTIFACTS}/example-price-ticker.png` });
  // Leave the page first: its EventSource would otherwise log a refused reconnection.
  await page.goto('about:blank');
  assert.equal(await ticker.stop(), 0);

  const jobs = await startExample(t, 'job-progress');
  await page.goto(jobs.appUrl);
  await page.click('#start');
  await page.waitForSelector('#jobs li:has-text("done")', { timeout: 10_000 });
  assert.equal(await page.getAttribute('#jobs progress', 'value'), '100');
  await page.screenshot({ path: `${ARTIFACTS}/example-job-progress.png` });
  // Leave the page first: its EventSource would otherwise log a refused reconnection.
  await page.goto('about:blank');
  assert.equal(await jobs.stop(), 0);

  assert.deepEqual(problems, []);
});
