import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { fetch } from 'undici';
import { mintToken } from '../../src/auth/mint-token.ts';
import { ARTIFACTS, launchChromium } from '../support/browser.ts';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub, TEST_KEY } from '../support/test-hub.ts';

const BOOKS = 'https://example.com/books/{id}';
const TOPIC = 'https://example.com/books/42';

test('in Chromium: the dashboard draws 15-minute charts and the busiest topics; the debugger shows typed events by default with the development token pre-filled', async (t) => {
  const developmentToken = await mintToken({
    key: TEST_KEY,
    algorithm: 'HS256',
    publish: ['*'],
    subscribe: ['*'],
  });
  const hub = await startTestHub(t, {
    anonymous: true,
    ui: true,
    subscriptions: true,
    developmentPublisherToken: developmentToken,
  });
  const origin = new URL(hub.hubUrl).origin;
  const browser = await launchChromium(t);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    // Chromium logs each refused request (the 401s asked for below); anything else counts.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      pageErrors.push(message.text());
    }
  });

  await page.goto(`${origin}/ui/`);
  await page.locator('#feed-status', { hasText: 'Live' }).waitFor();
  assert.equal(await page.inputValue('#publish-token'), developmentToken);

  // Traffic: two subscribers on one topic, one on another, a burst of publishes on each.
  const streams = await Promise.all([
    EventStream.open(t, hub.subscribeUrl([TOPIC])),
    EventStream.open(t, hub.subscribeUrl([TOPIC])),
    EventStream.open(t, hub.subscribeUrl(['https://example.com/quiet'])),
  ]);
  for (let round = 0; round < 20; round++) {
    assert.equal((await hub.publish({ topic: TOPIC, data: `burst ${round}` })).status, 200);
  }
  assert.equal((await hub.publish({ topic: 'https://example.com/quiet', data: 'x' })).status, 200);
  await streams[0].waitForEvents(20);

  // The charts hold points: uPlot's own data, then its pixels. (Page code as text: the test
  // runner's transpiler would wrap functions in helpers the page does not have.)
  await pageCondition(page, CHARTS_HAVE_POINTS);
  // uPlot draws in an animation frame after its data changes: a busy machine may not have
  // painted yet when the data is there. Bounded by the test's timeout, like every wait here.
  await pageCondition(page, `${PIXELS_IN_PUBLISHES_COLOUR} > 20`);
  const drawn = await page.evaluate<number>(PIXELS_IN_PUBLISHES_COLOUR);
  assert.ok(drawn > 20, `the publishes line is drawn in its colour (${drawn} pixels)`);

  // The busiest topics: the burst topic first, with its two subscribers.
  const first = page.locator('#busiest tr').first();
  await first.locator('td.topic', { hasText: TOPIC }).waitFor();
  assert.equal(await first.locator('td.num').first().textContent(), '2');
  // With --subscriptions: who is connected.
  await page.locator('#connected td.topic', { hasText: 'https://example.com/quiet' }).waitFor();

  // The debugger shows an event with a type without being told the type.
  await page.fill('#selectors', BOOKS);
  await page.click('#subscribe');
  await page.locator('#subscription-status', { hasText: 'Subscribed to' }).waitFor();
  await page.fill('#publish-topics', TOPIC);
  await page.fill('#publish-data', 'Hello from the browser\nsecond line');
  await page.fill('#publish-type', 'greeting');
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
  // An untyped one too, after it.
  await page.fill('#publish-type', '');
  await page.fill('#publish-data', 'plain');
  await page.click('#publish');
  await page.locator('#events tr td.type', { hasText: 'message' }).waitFor();

  // Draft-08 matchers: the same topic through a URL Pattern.
  await page.click('#unsubscribe');
  await page.fill('#selectors', 'https://example.com/books/:id');
  await page.selectOption('#selector-kind', 'match_urlpattern');
  await page.click('#subscribe');
  await page.locator('#subscription-status', { hasText: 'Subscribed to' }).waitFor();
  await page.fill('#publish-data', 'matched by a URL Pattern');
  await page.click('#publish');
  await page.locator('#events td.data', { hasText: 'matched by a URL Pattern' }).waitFor();

  // The favicon is served as the page links it.
  const favicon = await fetch(new URL('/ui/favicon.svg', origin));
  assert.equal(favicon.status, 200);
  assert.equal(favicon.headers.get('content-type'), 'image/svg+xml');

  await page.screenshot({ path: join(ARTIFACTS, 'ui-light.png'), fullPage: true });
  await page.locator('#dashboard').screenshot({ path: join(ARTIFACTS, 'ui-dashboard.png') });
  await page.emulateMedia({ colorScheme: 'dark' });
  await pageCondition(
    page,
    `getComputedStyle(document.body).backgroundColor !== 'rgb(246, 247, 249)'`,
  );
  await page.screenshot({ path: join(ARTIFACTS, 'ui-dark.png'), fullPage: true });

  // A refused publish is explained, not swallowed.
  await page.fill('#publish-token', 'not-a-token');
  await page.click('#publish');
  await page.locator('#publish-status', { hasText: 'Refused (401)' }).waitFor();
  // A refused subscription says why, and stops.
  await page.click('#unsubscribe');
  await page.fill('#subscribe-token', 'not-a-token');
  await page.click('#subscribe');
  await page.locator('#subscription-status', { hasText: 'Refused (401' }).waitFor();
  assert.deepEqual(pageErrors, []);
});

test('the connecting state reads as connecting, not as a broken page', async (t) => {
  const hub = await startTestHub(t, { ui: true });
  const browser = await launchChromium(t);
  const page = await browser.newPage({ viewport: { width: 1280, height: 700 } });
  // Hold the feed back so the page stays in its connecting state.
  await page.route('**/ui/stats', () => undefined);
  await page.goto(new URL('/ui/', hub.hubUrl).href);
  const pill = page.locator('#feed-status.connecting', { hasText: 'Connecting to the hub' });
  await pill.waitFor();
  assert.equal(await page.locator('#busiest-empty').isVisible(), true);
  await page.screenshot({ path: join(ARTIFACTS, 'ui-connecting.png') });
});

test('the development token is given only to a page loaded from this machine, and only when set', async (t) => {
  const token = await mintToken({ key: TEST_KEY, algorithm: 'HS256', publish: ['*'] });
  const dev = await startTestHub(t, { ui: true, developmentPublisherToken: token });
  const index = (headers: Record<string, string> = {}) =>
    fetch(new URL('/ui/', dev.hubUrl), { headers }).then((response) => response.text());
  assert.ok((await index()).includes(`content="${token}"`));
  // Through a proxy (even one on this machine), the page goes to others: no token.
  for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip']) {
    const page = await index({
      [header]: header === 'forwarded' ? 'for=203.0.113.9' : '203.0.113.9',
    });
    assert.ok(!page.includes(token), `not through ${header}`);
    assert.ok(!page.includes('herald-development-publisher-token'));
  }
  const production = await startTestHub(t, { ui: true });
  const page = await fetch(new URL('/ui/', production.hubUrl)).then((r) => r.text());
  assert.ok(!page.includes('herald-development-publisher-token'));
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
  // The chart library comes from the installed package, with its license.
  const uplot = await fetch(new URL('/ui/vendor/uPlot.iife.min.js', on.hubUrl));
  assert.equal(uplot.status, 200);
  assert.match(await uplot.text(), /uPlot/);
  assert.match(
    await fetch(new URL('/ui/vendor/uPlot.LICENSE.txt', on.hubUrl)).then((r) => r.text()),
    /MIT License/,
  );

  const feed = await EventStream.open(t, new URL('/ui/stats', on.hubUrl).href);
  const [activity] = await feed.waitForEvents(1);
  assert.equal(activity?.event, 'topics');
  assert.deepEqual(JSON.parse(activity.data), { busiest: [], connected: null });
});

/**
 * Waits until `expression` is true in the page. Evaluated through the DevTools protocol, which
 * the page's CSP (no 'unsafe-eval') does not govern, unlike waitForFunction's string form.
 */
async function pageCondition(page: Page, expression: string): Promise<void> {
  for (;;) {
    if ((await page.evaluate(expression)) === true) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** True once every chart holds points from the traffic (read from uPlot's own data). */
const CHARTS_HAVE_POINTS = `(() => {
  const { charts } = window.herald;
  const max = (values) => Math.max(0, ...(values ?? []).map(Number).filter(Number.isFinite));
  return (
    max(charts.traffic.uplot.data[1]) > 0 &&
    max(charts.clients.uplot.data[2]) >= 3 &&
    max(charts.fanout.uplot.data[2]) > 0 &&
    max(charts.memory.uplot.data[1]) > 0
  );
})()`;

/** Pixels of the publishes/s chart's canvas drawn in the publishes series' colour. */
const PIXELS_IN_PUBLISHES_COLOUR = `(() => {
  const canvas = document.querySelector('#chart-traffic canvas');
  const context = canvas.getContext('2d');
  const hex = getComputedStyle(document.documentElement).getPropertyValue('--series-3').trim();
  const [r, g, b] = hex.slice(1).match(/../g).map((pair) => parseInt(pair, 16));
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let matching = 0;
  for (let at = 0; at < pixels.length; at += 4) {
    const close =
      Math.abs(pixels[at] - r) < 24 &&
      Math.abs(pixels[at + 1] - g) < 24 &&
      Math.abs(pixels[at + 2] - b) < 24 &&
      pixels[at + 3] > 200;
    if (close) matching++;
  }
  return matching;
})()`;
