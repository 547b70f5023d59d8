import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import type { RequestListener } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import type { TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { Agent, setGlobalDispatcher } from 'undici';
import { ARTIFACTS, launchChromium } from '../support/browser.ts';
import { startTestHub } from '../support/test-hub.ts';
import type { TestHub } from '../support/test-hub.ts';
import { selfSignedCertificate } from '../support/tls-certificate.ts';
import { waitFor } from '../support/wait.ts';

const NEWS = 'https://example.com/news';
const INBOX = 'https://example.com/users/alice/inbox';
const STREAMS = 10;

const certificate = selfSignedCertificate();
after(() => {
  certificate.remove();
});
// The test publishes with undici over HTTPS: it trusts the test certificate.
setGlobalDispatcher(new Agent({ connect: { ca: certificate.cert } }));

const page: RequestListener = (_, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end('<!doctype html><title>streams</title><p>an app on its own origin</p>');
};

/** Serves the app's page on its own origin (its own port), over HTTPS or plain HTTP. */
async function servePage(t: TestContext, secure: boolean): Promise<string> {
  const server = secure
    ? createHttpsServer({ cert: certificate.cert, key: certificate.key }, page)
    : createHttpServer(page);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `${secure ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface PageState {
  opened: number;
  news: string[][];
  inboxWithCookie: string[];
  inboxWithout: string[];
}

/**
 * Opens `count` EventSources on the news and, with `inbox`, two on the inbox: with and without
 * the cookie (`withCredentials`).
 */
async function openStreams(tab: Page, hub: TestHub, count: number, inbox: boolean): Promise<void> {
  await tab.evaluate(
    ({ news, inbox, count }) => {
      const state: PageState = { opened: 0, news: [], inboxWithCookie: [], inboxWithout: [] };
      (globalThis as unknown as { state: PageState }).state = state;
      // No named functions in here: tsx would wrap them in a helper the page does not have.
      const sources: [url: string, into: string[], withCredentials: boolean][] = [];
      for (let i = 0; i < count; i++) {
        const received: string[] = [];
        state.news.push(received);
        sources.push([news, received, false]);
      }
      if (inbox !== null) {
        sources.push([inbox, state.inboxWithCookie, true], [inbox, state.inboxWithout, false]);
      }
      for (const [url, into, withCredentials] of sources) {
        const source = new EventSource(url, { withCredentials });
        source.onopen = () => {
          state.opened++;
        };
        source.onmessage = (event: { data: string }) => {
          into.push(event.data);
        };
      }
    },
    { news: hub.subscribeUrl([NEWS]), inbox: inbox ? hub.subscribeUrl([INBOX]) : null, count },
  );
}

function pageState(tab: Page): Promise<PageState> {
  return tab.evaluate(() => (globalThis as unknown as { state: PageState }).state);
}

test('in Chromium over HTTPS and HTTP/2, ten EventSources on one origin and a cookie-authenticated one all receive their updates', async (t) => {
  const pageOrigin = await servePage(t, true);
  const hub = await startTestHub(t, {
    anonymous: true,
    corsOrigins: [pageOrigin],
    tls: { cert: certificate.certPath, key: certificate.keyPath },
  });
  const hubOrigin = new URL(hub.hubUrl).origin;

  const browser = await launchChromium(t);
  // The certificate is self-signed: this context trusts it as a browser with the CA installed.
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  t.after(() => context.close());
  // The app logged Alice in: the hub's cookie (same site as the page: same host, both HTTPS).
  const token = await hub.token({ subscribe: [INBOX] });
  await context.addCookies([
    {
      name: 'mercureAuthorization',
      value: token,
      url: hubOrigin,
      httpOnly: true,
      secure: true,
      sameSite: 'Strict',
    },
  ]);
  const tab = await context.newPage();
  const errors: string[] = [];
  tab.on('pageerror', (error) => errors.push(error.message));
  await tab.goto(`${pageOrigin}/`);

  await openStreams(tab, hub, STREAMS, true);
  // Twelve streams open at once from one page to one origin, eleven without credentials:
  // over HTTP/1.1 Chromium would hold those at six (the next test).
  await waitFor(() => hub.herald.hub.subscriberCount === STREAMS + 2, {
    message: 'every stream to connect',
  });
  await tab.waitForFunction((expected) => {
    return (globalThis as unknown as { state: PageState }).state.opened === expected;
  }, STREAMS + 2);

  assert.equal((await hub.publish({ topic: NEWS, data: 'for every tab' })).status, 200);
  assert.equal(
    (await hub.publish({ topic: INBOX, data: 'for Alice only', private: 'on' })).status,
    200,
  );
  assert.equal((await hub.publish({ topic: INBOX, data: 'for anyone' })).status, 200);
  await tab.waitForFunction(() => {
    const state = (globalThis as unknown as { state: PageState }).state;
    return (
      state.news.every((received) => received.length === 1) &&
      state.inboxWithCookie.length === 2 &&
      state.inboxWithout.length === 1
    );
  });
  const state = await pageState(tab);
  assert.deepEqual(
    state.news,
    Array.from({ length: STREAMS }, () => ['for every tab']),
  );
  assert.deepEqual(state.inboxWithCookie, ['for Alice only', 'for anyone']);
  assert.deepEqual(state.inboxWithout, ['for anyone'], 'no cookie, no private update');

  await tab.screenshot({ path: `${ARTIFACTS}/http2-event-sources.png` });
  await tab.close();
  // The browser spoke HTTP/2 to the hub: as the hub logged every stream, and as a page on the
  // hub's origin sees it (a cross-origin page is not told the protocol).
  await waitFor(() => hub.herald.hub.subscriberCount === 0, { message: 'the streams to close' });
  const subscribes = hub.logs.filter(
    (line) =>
      line['msg'] === 'request' &&
      line['method'] === 'GET' &&
      line['path'] === '/.well-known/mercure',
  );
  assert.equal(subscribes.length, STREAMS + 2);
  assert.deepEqual(new Set(subscribes.map((line) => line['httpVersion'])), new Set(['2.0']));
  const onHub = await context.newPage();
  await onHub.goto(`${hubOrigin}/healthz`);
  const protocol = await onHub.evaluate(
    () =>
      (
        performance.getEntries() as unknown as { entryType: string; nextHopProtocol: string }[]
      ).find((entry) => entry.entryType === 'navigation')?.nextHopProtocol,
  );
  assert.equal(protocol, 'h2');
  assert.deepEqual(errors, []);
  assert.deepEqual(hub.internalErrors, []);
});

test('in Chromium over plain HTTP/1.1, the same page gets only six streams to the hub', async (t) => {
  const pageOrigin = await servePage(t, false);
  const hub = await startTestHub(t, { anonymous: true, corsOrigins: [pageOrigin] });
  const browser = await launchChromium(t);
  const tab = await browser.newPage();
  await tab.goto(`${pageOrigin}/`);

  // Only streams without credentials: Chromium pools credentialed requests apart, six more.
  await openStreams(tab, hub, STREAMS, false);
  await waitFor(() => hub.herald.hub.subscriberCount === 6, { message: 'six streams to connect' });
  // What the HTTPS test shows is not a given: the seventh stream waits for a free connection.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal(hub.herald.hub.subscriberCount, 6);
  assert.equal((await pageState(tab)).opened, 6);
});
