// A notifications center: every user has a private topic, and the browser proves who it is to
// the hub with a short-lived access token the app puts in an HttpOnly cookie.
// Mercure 1.0 (protocol draft-08): access tokens, `match=` subscriptions.
//
//   npm run build && node examples/notifications/server.mjs
//
// By default this starts its own hub (in memory, with a random key). With HERALD_URL and
// HERALD_JWT_KEY set it uses that hub instead: see README.md for the flags the hub then needs.
/* global console, fetch, URL, URLSearchParams -- Node's globals; the lint config knows no globals for .mjs */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import process from 'node:process';
import { mintAccessToken, startHerald } from 'herald';
import { pino } from 'pino';

const PORT = Number(process.env['PORT'] ?? 8080);
/** How long one login lasts: the subscriber token in the cookie expires then. */
const SESSION_SECONDS = 10 * 60;
const USER = /^[A-Za-z0-9_-]{1,32}$/;
/** @param {string} user */
const topicOf = (user) => `https://example.com/users/${user}/notifications`;
/**
 * The cookie the hub reads the access token from. Draft-08's default name,
 * `__Secure-mercure_access_token`, is only stored by browsers over HTTPS: this plain-HTTP demo
 * renames it (the hub's `accessTokenCookie`, `--access-token-cookie`). Behind HTTPS, keep the
 * default and add `Secure` to the cookie.
 */
const COOKIE = 'mercure_access_token';

const page = await readFile(new URL('index.html', import.meta.url));

/** @type {{ url: string, key: string, issuer: string, close: () => Promise<void> } | undefined} */
let hub;
const server = createServer((req, res) => {
  handle(req, res).catch((/** @type {unknown} */ error) => {
    console.error(`request failed: ${String(error)}`);
    if (!res.headersSent) send(res, 500, 'text/plain', 'Internal error');
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
    // The hub allows exactly this origin, and the cookie only reaches the hub on the same host.
    res.writeHead(307, { Location: `${appOrigin}${url.pathname}${url.search}` }).end();
    return;
  }
  if (hub === undefined) return send(res, 503, 'text/plain', 'Starting');
  const route = `${req.method ?? ''} ${url.pathname}`;
  switch (route) {
    case 'GET /':
      return send(res, 200, 'text/html; charset=utf-8', page);
    case 'GET /config.json':
      return sendJson(res, 200, { hubUrl: hub.url });
    case 'POST /login': {
      // A demo login: no password. A real app would check its own session here.
      const user = (await readForm(req)).get('user') ?? '';
      if (!USER.test(user)) return send(res, 400, 'text/plain', 'user: 1-32 of A-Z a-z 0-9 _ -');
      const token = await mintAccessToken({
        key: hub.key,
        algorithm: 'HS256',
        issuer: hub.issuer,
        audience: hub.url,
        subject: user,
        subscribe: [{ match: topicOf(user) }], // this user's topic and nothing else
        ttlSeconds: SESSION_SECONDS,
      });
      res.setHeader('Set-Cookie', hubCookie(token, SESSION_SECONDS));
      return sendJson(res, 200, { user, topic: topicOf(user), expiresIn: SESSION_SECONDS });
    }
    case 'POST /logout':
      res.setHeader('Set-Cookie', hubCookie('', 0));
      return sendJson(res, 200, {});
    case 'POST /notify': {
      const form = await readForm(req);
      const user = form.get('user') ?? '';
      const message = form.get('message') ?? '';
      if (!USER.test(user)) return send(res, 400, 'text/plain', 'user: 1-32 of A-Z a-z 0-9 _ -');
      if (message === '' || message.length > 500) {
        return send(res, 400, 'text/plain', 'message: 1-500 characters');
      }
      const id = await publish(topicOf(user), { message, sentAt: new Date().toISOString() });
      return sendJson(res, 200, { id });
    }
    default:
      return send(res, 404, 'text/plain', 'Not found');
  }
}

/**
 * The cookie the hub reads (COOKIE). Cookies ignore ports, so one set by this app on 127.0.0.1
 * reaches the hub on 127.0.0.1 too; the path keeps it away from every other URL.
 * Behind HTTPS, add `Secure`.
 * @param {string} token
 * @param {number} maxAge
 */
function hubCookie(token, maxAge) {
  const path = hub === undefined ? '/.well-known/mercure' : new URL(hub.url).pathname;
  return `${COOKIE}=${token}; Path=${path}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict`;
}

/**
 * Publishes a private update (only subscribers whose token covers the topic receive it) with a
 * publisher token for this one topic. A standard Mercure form, so any Mercure hub takes it.
 * @param {string} topic
 * @param {unknown} data
 * @returns {Promise<string>} the update's id
 */
async function publish(topic, data) {
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
    body: new URLSearchParams({ topic, data: JSON.stringify(data), private: 'on' }),
  });
  const body = await response.text();
  if (!response.ok) throw new Error(`publish refused: ${response.status} ${body}`);
  return body.trim();
}

/**
 * The hub named by HERALD_URL and HERALD_JWT_KEY, else one embedded in this process. This app
 * issues the tokens, under its own origin: the hub trusts that issuer with the key.
 * @param {string} appOrigin the page's origin, which the hub must allow (CORS with credentials)
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
      anonymous: false,
      accessTokenIssuer: appOrigin,
      accessTokenCookie: COOKIE,
      protocol: '08', // Mercure 1.0 only: a draft-07 request would be refused
    },
    // The hub's request logs would drown the example's output: warnings only, on stderr.
    { logger: pino({ level: 'warn' }, pino.destination(2)) },
  );
  return { url: herald.hubUrl, key, issuer: appOrigin, close: () => herald.close() };
}

/** @param {import('node:http').IncomingMessage} req */
async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > 10_000) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

/**
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {string} type
 * @param {string | Buffer} body
 */
function send(res, status, type, body) {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' }).end(body);
}

/**
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {unknown} value
 */
function sendJson(res, status, value) {
  send(res, status, 'application/json', JSON.stringify(value));
}

function stop() {
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
