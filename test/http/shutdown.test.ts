import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { test } from 'node:test';
import { Agent, fetch, request } from 'undici';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub } from '../support/test-hub.ts';

const TOPIC = 'https://example.com/shutdown/feed';

/**
 * Resolves with 'closed' when shutdown completes, or 'still open' after `boundMs`: far below the
 * hub's own timeouts (60 s), so only a shutdown that stops waiting for idle clients gets there.
 */
async function shutdownOutcome(close: Promise<void>, boundMs = 20_000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    close.then(() => 'closed'),
    new Promise<string>((resolve) => {
      timer = setTimeout(resolve, boundMs, 'still open');
    }),
  ]);
  clearTimeout(timer);
  return outcome;
}

test('shutdown does not wait for a pooled client connection that carries no request (an aborted stream just before)', async (t) => {
  const hub = await startTestHub(t, {
    anonymous: true,
    shutdownTimeoutMs: 60_000,
    headersTimeoutMs: 60_000,
  });
  const origin = new URL(hub.hubUrl).origin;
  // A publisher's connection pool: one request, then the connection idles, kept alive.
  const pool = new Agent({ keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000 });
  t.after(() => pool.destroy());
  const health = await request(`${origin}/healthz`, { dispatcher: pool });
  await health.body.text();
  // A stream aborted by its client on the same pool: undici opens a spare connection.
  const aborted = new AbortController();
  const response = await fetch(hub.subscribeUrl([TOPIC]), {
    dispatcher: pool,
    signal: aborted.signal,
  });
  await response.body?.getReader().read();
  aborted.abort();
  // And the plainest case of all: a connection that has not sent a byte yet.
  const silent = connect({ host: '127.0.0.1', port: hub.herald.port });
  t.after(() => silent.destroy());
  await once(silent, 'connect');
  const silentClosed = once(silent, 'close');
  // A live stream, which shutdown ends.
  const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC]));

  assert.equal(await shutdownOutcome(hub.herald.close()), 'closed');
  await stream.waitForEnd();
  await silentClosed;
});
