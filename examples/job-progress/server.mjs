// A job-progress bar: POST /jobs starts a (fake) job that publishes its progress to its own topic,
// and the page shows it in a <progress> element. Each job's updates are private: the browser
// gets a short-lived token that may read that one job's topic and nothing else.
// Mercure 1.0 (protocol draft-08): access tokens, and the page subscribes with herald/client,
// which sends the token in the Authorization header (EventSource cannot).
//
//   npm run build && node examples/job-progress/server.mjs
//
// By default this starts its own hub (in memory, with a random key). With HERALD_URL and
// HERALD_JWT_KEY set it uses that hub instead: see README.md for the flags the hub then needs.
/* global console, fetch, URL, URLSearchParams, AbortController -- Node's globals; the lint config knows no globals for .mjs */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { mintAccessToken, startHerald } from 'herald';
import { pino } from 'pino';

const PORT = Number(process.env['PORT'] ?? 8080);
const MAX_RUNNING_JOBS = 20;
/** How long the browser's token for one job's topic lasts. */
const WATCH_SECONDS = 5 * 60;
/** @param {string} id */
const topicOf = (id) => `https://example.com/jobs/${id}`;

const page = await readFile(new URL('index.html', import.meta.url));
/** @type {Set<string>} the ids of the jobs running */
const running = new Set();
const stopping = new AbortController();

/** @type {{ url: string, key: string, issuer: string, close: () => Promise<void> } | undefined} */
let hub;
const server = createServer((req, res) => {
  handle(req, res).catch((/** @type {unknown} */ error) => {
    console.error(`request failed: ${String(error)}`);
    if (!res.headersSent) res.writeHead(500).end('Internal error');
    else res.destroy();
  });
});
await new Promise((resolve) => server.listen(PORT, '127.0.0.1', () => resolve(undefined)));
const address = server.address();
if (address === null || typeof address === 'string') throw new Error('not listening on TCP');
const appOrigin = `http://127.0.0.1:${address.port}`;
hub = await connectHub(appOrigin);
console.log(`Example ready at ${appOrigin}/ (hub ${hub.url})`);

/**
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 */
async function handle(req, res) {
  const url = new URL(req.url ?? '/', appOrigin);
  if (req.headers.host !== new URL(appOrigin).host) {
    // The hub allows exactly this origin (CORS): send browsers there.
    res.writeHead(307, { Location: `${appOrigin}${url.pathname}${url.search}` }).end();
  } else if (hub === undefined) {
    res.writeHead(503).end('Starting');
  } else if (req.method === 'GET' && url.pathname === '/') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page);
  } else if (req.method === 'GET' && url.pathname === '/config.json') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ hubUrl: hub.url }));
  } else if (req.method === 'POST' && url.pathname === '/jobs') {
    if (running.size >= MAX_RUNNING_JOBS) {
      res.writeHead(429, { 'Content-Type': 'text/plain' }).end('Too many jobs running');
      return;
    }
    const id = randomUUID();
    const topic = topicOf(id);
    // What the browser needs to watch this job, and no more.
    const token = await mintAccessToken({
      key: hub.key,
      algorithm: 'HS256',
      issuer: hub.issuer,
      audience: hub.url,
      subscribe: [{ match: topic }],
      ttlSeconds: WATCH_SECONDS,
    });
    void runJob(id);
    res.writeHead(201, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify({ id, topic, token }));
  } else {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found');
  }
}

/**
 * A pretend job: progress 0 → 100 in uneven steps (event type `progress`), then `done`. Each
 * step is published before the next one, so the events keep their order.
 * @param {string} id
 */
async function runJob(id) {
  const topic = topicOf(id);
  running.add(id);
  try {
    for (let percent = 0; ; percent = Math.min(100, percent + randomInt(5, 16))) {
      await publish(topic, 'progress', { percent });
      if (percent === 100) break;
      await sleep(200, undefined, { signal: stopping.signal });
    }
    await publish(topic, 'done', { result: `job ${id} finished`, at: new Date().toISOString() });
  } catch (error) {
    if (!stopping.signal.aborted) console.error(`job ${id} failed: ${String(error)}`);
  } finally {
    running.delete(id);
  }
}

/**
 * Publishes a private update of the given event type (a standard Mercure form, so any Mercure
 * hub takes it) with a token that may publish to this one topic.
 * @param {string} topic
 * @param {string} type
 * @param {unknown} data
 */
async function publish(topic, type, data) {
  if (hub === undefined) throw new Error('no hub yet');
  const token = await mintAccessToken({
    key: hub.key,
    algorithm: 'HS256',
    issuer: hub.issuer,
    audience: hub.url,
    publish: [{ match: topic }],
    ttlSeconds: 60,
  });
  const response = await fetch(hub.url, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body: new URLSearchParams({ topic, type, data: JSON.stringify(data), private: 'on' }),
  });
  const body = await response.text();
  if (!response.ok) throw new Error(`${response.status} ${body}`);
}

/**
 * The hub named by HERALD_URL and HERALD_JWT_KEY, else one embedded in this process.
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
      corsOrigins: [appOrigin],
      anonymous: false, // every job's updates are private
      accessTokenIssuer: appOrigin,
      protocol: '08', // Mercure 1.0 only: a draft-07 request would be refused
    },
    // The hub's request logs would drown the example's output: warnings only, on stderr.
    { logger: pino({ level: 'warn' }, pino.destination(2)) },
  );
  return { url: herald.hubUrl, key, issuer: appOrigin, close: () => herald.close() };
}

function stop() {
  stopping.abort();
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
