// A live price ticker: the app publishes a random-walk price for a few symbols every 500 ms as
// public updates, and the page shows them in a table, subscribed anonymously to a URL Pattern.
// Mercure 1.0 (protocol draft-08): `match_urlpattern=` subscriptions and access tokens.
//
//   npm run build && node examples/price-ticker/server.mjs
//
// By default this starts its own hub (in memory, with a random key). With HERALD_URL and
// HERALD_JWT_KEY set it uses that hub instead: see README.md for the flags the hub then needs.
/* global console, fetch, URL, setInterval, clearInterval -- Node's globals; the lint config knows no globals for .mjs */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import process from 'node:process';
import { mintAccessToken, startHerald } from 'herald';
import { pino } from 'pino';

const PORT = Number(process.env['PORT'] ?? 8080);
/** Every symbol's topic, as a draft-08 URL Pattern: what the page subscribes to, and all the app may publish. */
const PATTERN = 'https://example.com/prices/:symbol';
/** @param {string} symbol */
const topicOf = (symbol) => `https://example.com/prices/${symbol}`;
/** @type {Map<string, number>} symbol → price */
const prices = new Map([
  ['HRLD', 120],
  ['ACME', 42.5],
  ['GLBX', 980],
  ['INIT', 7.25],
]);

const page = await readFile(new URL('index.html', import.meta.url));

/** @type {{ url: string, key: string, issuer: string, close: () => Promise<void> } | undefined} */
let hub;
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', appOrigin);
  if (req.headers.host !== new URL(appOrigin).host) {
    // The hub allows exactly this origin (CORS): send browsers there.
    res.writeHead(307, { Location: `${appOrigin}${url.pathname}${url.search}` }).end();
  } else if (hub === undefined) {
    res.writeHead(503).end('Starting');
  } else if (req.method === 'GET' && url.pathname === '/') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page);
  } else if (req.method === 'GET' && url.pathname === '/config.json') {
    const config = { hubUrl: hub.url, pattern: PATTERN, symbols: [...prices.keys()] };
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(config));
  } else {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found');
  }
});
await new Promise((resolve) => server.listen(PORT, '127.0.0.1', () => resolve(undefined)));
const address = server.address();
if (address === null || typeof address === 'string') throw new Error('not listening on TCP');
const appOrigin = `http://127.0.0.1:${address.port}`;
hub = await connectHub(appOrigin);

let ticking = false;
const ticker = setInterval(() => {
  if (ticking) return; // the previous publish is still on its way: skip a beat
  ticking = true;
  tick().then(
    () => (ticking = false),
    (/** @type {unknown} */ error) => {
      ticking = false;
      console.error(`publish failed: ${String(error)}`);
    },
  );
}, 500);
console.log(`Example ready at ${appOrigin}/ (hub ${hub.url})`);

/** Moves every price a little and publishes them all in one request. */
async function tick() {
  if (hub === undefined) return;
  const at = new Date().toISOString();
  const updates = [...prices].map(([symbol, previous]) => {
    const price = Math.max(
      0.01,
      Math.round(previous * (1 + (Math.random() - 0.5) / 50) * 100) / 100,
    );
    prices.set(symbol, price);
    const change = Math.round((price - previous) * 100) / 100;
    return {
      topic: topicOf(symbol),
      data: JSON.stringify({ symbol, price, change, at }),
    };
  });
  // A short-lived access token (this app is its issuer, the hub its audience) that may publish
  // prices and nothing else.
  const token = await mintAccessToken({
    key: hub.key,
    algorithm: 'HS256',
    issuer: hub.issuer,
    audience: hub.url,
    publish: [{ match: PATTERN, matchType: 'urlpattern' }],
    ttlSeconds: 60,
  });
  // Herald's JSON batch: every symbol in one request, stored in one write.
  const response = await fetch(hub.url, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(updates),
  });
  const body = await response.text();
  if (!response.ok) throw new Error(`${response.status} ${body}`);
}

/**
 * The hub named by HERALD_URL and HERALD_JWT_KEY, else one embedded in this process. This app
 * issues the tokens, under its own origin: the hub trusts that issuer with the key.
 * @param {string} appOrigin the page's origin, which the hub must allow (CORS)
 */
async function connectHub(appOrigin) {
  const externalUrl = process.env['HERALD_URL'];
  const externalKey = process.env['HERALD_JWT_KEY'];
  if (externalUrl !== undefined && externalKey !== undefined) {
    const url = new URL(externalUrl);
    if (url.pathname === '/') url.pathname = '/.well-known/mercure';
    return { url: url.href, key: externalKey, issuer: appOrigin, close: () => Promise.resolve() };
  }
  if (externalUrl !== undefined || externalKey !== undefined) {
    throw new Error('Set both HERALD_URL and HERALD_JWT_KEY, or neither.');
  }
  const key = randomBytes(32).toString('base64url'); // never printed
  const herald = await startHerald(
    {
      publisherJwtKey: key,
      subscriberJwtKey: key,
      host: '127.0.0.1',
      port: 0,
      store: { kind: 'memory' },
      historySize: 1000, // a ticker needs little history
      corsOrigins: [appOrigin],
      anonymous: true, // prices are public: the page subscribes without a token
      accessTokenIssuer: appOrigin,
      protocol: '08', // Mercure 1.0 only: a draft-07 request would be refused
    },
    // The hub's request logs would drown the example's output: warnings only, on stderr.
    { logger: pino({ level: 'warn' }, pino.destination(2)) },
  );
  return { url: herald.hubUrl, key, issuer: appOrigin, close: () => herald.close() };
}

function stop() {
  clearInterval(ticker);
  server.close();
  server.closeAllConnections();
  (hub?.close() ?? Promise.resolve()).then(
    () => process.exit(0),
    (/** @type {unknown} */ error) => {
      console.error(`shutdown failed: ${String(error)}`);
      process.exit(1);
    },
  );
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
