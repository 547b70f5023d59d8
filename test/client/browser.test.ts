import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { fetch } from 'undici';
import { mintToken } from '../../src/auth/mint-token.ts';
import { launchChromium } from '../support/browser.ts';
import { runCli, tempDir } from '../support/cli.ts';
import { waitFor } from '../support/wait.ts';

const KEY = 'browser-client-test-key-of-32-bytes-or-more';
const TOPIC = 'https://example.com/browser/feed';

test('in Chromium, the browser build subscribes with an Authorization header, survives a hub restart, and gets every event once', async (t) => {
  // The page comes from its own origin and loads the client from the hub, as an app would.
  const page = createServer((_, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>client</title><p>client test page</p>');
  });
  page.listen(0, '127.0.0.1');
  await once(page, 'listening');
  t.after(() => page.close());
  const pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;

  const file = join(tempDir(t), 'history.db');
  const serve = (port: string) =>
    runCli(
      t,
      [
        'serve',
        '--port',
        port,
        '--host',
        '127.0.0.1',
        '--store',
        `sqlite:${file}`,
        '--cors-origin',
        pageOrigin,
      ],
      {
        HERALD_JWT_KEY: KEY,
        HERALD_LOG_LEVEL: 'warn',
      },
    );
  let hub = serve('0');
  const hubUrl = await hub.ready;
  const port = new URL(hubUrl).port;
  const publisher = await mintToken({ key: KEY, algorithm: 'HS256', publish: [TOPIC] });
  const subscriber = await mintToken({ key: KEY, algorithm: 'HS256', subscribe: [TOPIC] });
  const publish = async (data: string) => {
    const response = await fetch(hubUrl, {
      method: 'POST',
      headers: { Authorization: `Bearer ${publisher}` },
      // Private: only a subscriber whose token covers the topic may see it, so the header counts.
      body: new URLSearchParams({ topic: TOPIC, data, private: 'on' }),
    });
    assert.equal(response.status, 200);
  };

  const browser = await launchChromium(t);
  const tab = await browser.newPage();
  const errors: string[] = [];
  tab.on('pageerror', (error) => errors.push(error.message));
  await tab.goto(`${pageOrigin}/`);
  await tab.evaluate(
    async ({ hubUrl, topic, token }) => {
      const client = (await import(new URL('/herald-client.js', hubUrl).href)) as {
        subscribe: (
          url: string,
          topics: string[],
          options: object,
        ) => {
          on: (type: string, handler: (event: { data: string }) => void) => void;
          onState: (handler: (change: { to: string }) => void) => void;
        };
      };
      const state = globalThis as unknown as { received: string[]; opens: number };
      state.received = [];
      state.opens = 0;
      const subscription = client.subscribe(hubUrl, [topic], { token, initialRetryDelay: 200 });
      subscription.on('message', (event) => state.received.push(event.data));
      subscription.onState((change) => {
        if (change.to === 'open') state.opens++;
      });
    },
    { hubUrl, topic: TOPIC, token: subscriber },
  );
  const received = () =>
    tab.evaluate(() => (globalThis as unknown as { received: string[] }).received);
  const opens = () => tab.evaluate(() => (globalThis as unknown as { opens: number }).opens);
  await waitFor(async () => (await opens()) >= 1, { message: 'the client to open' });

  for (let i = 0; i < 30; i++) await publish(`before ${i}`);
  await waitFor(async () => (await received()).length >= 30, { message: '30 events' });

  hub.child.kill('SIGTERM');
  assert.equal(await hub.exited, 0);
  hub = serve(port);
  await hub.ready;
  for (let i = 0; i < 30; i++) await publish(`after ${i}`);
  // Published last: once the marker has arrived, anything repeated or missing shows.
  await publish('marker');
  await waitFor(async () => (await received()).includes('marker'), {
    message: 'the marker, after 60 events',
  });
  assert.deepEqual(await received(), [
    ...Array.from({ length: 30 }, (_, i) => `before ${i}`),
    ...Array.from({ length: 30 }, (_, i) => `after ${i}`),
    'marker',
  ]);
  assert.ok((await opens()) >= 2, 'the client reconnected after the restart');
  assert.deepEqual(errors, []);
});
