import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fetch } from 'undici';
import { ARTIFACTS, launchChromium } from '../support/browser.ts';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub } from '../support/test-hub.ts';

const TOPIC = 'https://example.com/books/42';

test('in Chromium, the debugger subscribes, publishes, and shows the event; the dashboard is live', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, ui: true });
  const origin = new URL(hub.hubUrl).origin;
  const browser = await launchChromium(t);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));

  await page.goto(`${origin}/ui/`);
  await page.locator('#feed-status', { hasText: 'live' }).waitFor();

  await page.fill('#selectors', 'https://example.com/books/{id}');
  await page.click('#subscribe');
  await page.locator('#subscription-status', { hasText: 'Subscribed to' }).waitFor();

  await page.fill('#publish-topics', TOPIC);
  await page.fill('#publish-data', 'Hello from the browser\nsecond line');
  await page.fill('#publish-type', 'greeting');
  await page.fill('#event-types', 'greeting');
  // Event types are read when subscribing: subscribe again to listen for `greeting` too.
  await page.click('#unsubscribe');
  await page.click('#subscribe');
  await page.locator('#subscription-status', { hasText: 'Subscribed to' }).waitFor();
  await page.fill(
    '#publish-token',
    await hub.token({ publish: ['https://example.com/books/{id}'] }),
  );
  await page.click('#publish');
  const status = page.locator('#publish-status', { hasText: 'Published' });
  await status.waitFor();
  const id = ((await status.textContent()) ?? '').replace('Published ', '');
  assert.match(id, /^urn:uuid:/);

  const row = page.locator('#events tr', { hasText: id });
  await row.waitFor();
  assert.equal(await row.locator('td.type').textContent(), 'greeting');
  assert.match((await row.locator('td.time').textContent()) ?? '', /^\d\d:\d\d:\d\d\.\d{3}$/);
  assert.equal(await row.locator('td.data').textContent(), 'Hello from the browser\nsecond line');

  // The dashboard counts the debugger's own subscription and the publish.
  await page.locator('#stat-subscriptions', { hasText: /^1$/ }).waitFor();
  await page.screenshot({ path: join(ARTIFACTS, 'ui-debugger.png'), fullPage: true });
  await page.locator('#dashboard').screenshot({ path: join(ARTIFACTS, 'ui-dashboard.png') });

  // A refused publish is explained, not swallowed.
  await page.fill('#publish-token', 'not-a-token');
  await page.click('#publish');
  await page.locator('#publish-status', { hasText: 'Refused (401)' }).waitFor();
  assert.deepEqual(pageErrors, []);
});

test('the UI is off unless switched on, and served with protective headers when on', async (t) => {
  const off = await startTestHub(t);
  assert.equal((await fetch(new URL('/ui/', off.hubUrl))).status, 404);
  assert.equal((await fetch(new URL('/ui/stats', off.hubUrl))).status, 404);

  const on = await startTestHub(t, { ui: true });
  const page = await fetch(new URL('/ui', on.hubUrl), { redirect: 'manual' });
  assert.equal(page.status, 308);
  const index = await fetch(new URL('/ui/', on.hubUrl));
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  assert.equal(index.headers.get('x-frame-options'), 'DENY');
  assert.equal((await fetch(new URL('/ui/../package.json', on.hubUrl))).status, 404);
  assert.equal((await fetch(new URL('/ui/%2e%2e/package.json', on.hubUrl))).status, 404);

  const feed = await EventStream.open(t, new URL('/ui/stats', on.hubUrl).href);
  const [first] = await feed.waitForEvents(1);
  const stats = JSON.parse(first?.data ?? '{}') as Record<string, number>;
  assert.equal(stats['connections'], 0);
  assert.ok((stats['rssBytes'] ?? 0) > 0);
});
