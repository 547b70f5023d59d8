import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetch } from 'undici';
import { parseServeOptions } from '../../src/cli/serve-options.ts';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub, TEST_KEY } from '../support/test-hub.ts';
import { sign } from './jwt-fixtures.ts';
import { WAIT_TIMEOUT_MS } from '../support/wait.ts';

const TOPIC = 'https://example.com/clock';
const SECRET = new TextEncoder().encode(TEST_KEY);

/** A token whose `exp` is `seconds` whole seconds from now (negative: in the past). */
async function tokenExpiring(
  seconds: number,
  mercure: object,
): Promise<{ token: string; expMs: number }> {
  const exp = Math.floor(Date.now() / 1000) + seconds;
  return {
    token: await sign({ mercure, exp }, { algorithm: 'HS256', key: SECRET }),
    expMs: exp * 1000,
  };
}

function reasonOf(body: string | undefined): unknown {
  return (JSON.parse(body ?? '{}') as Record<string, unknown>)['reason'];
}

async function publishWith(hubUrl: string, token: string, data: string) {
  const response = await fetch(hubUrl, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body: new URLSearchParams({ topic: TOPIC, data }),
  });
  return { status: response.status, body: await response.text() };
}

test('a token expired 2 s ago is refused with no clock tolerance, for subscribing and publishing', async (t) => {
  const hub = await startTestHub(t, { anonymous: true, jwtClockToleranceMs: 0 });
  const watcher = await EventStream.open(t, hub.subscribeUrl([TOPIC]));
  const subscriber = await tokenExpiring(-2, { subscribe: [TOPIC] });
  const refused = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
    Authorization: `Bearer ${subscriber.token}`,
  });
  assert.equal(refused.status, 401);
  assert.equal(reasonOf(refused.errorBody), 'expired');

  const publisher = await tokenExpiring(-2, { publish: [TOPIC] });
  const published = await publishWith(hub.hubUrl, publisher.token, 'late');
  assert.equal(published.status, 401);
  assert.equal(reasonOf(published.body), 'expired');
  // Nothing was stored or delivered: the next event anyone sees is the marker.
  assert.equal((await hub.publish({ topic: TOPIC, data: 'marker' })).status, 200);
  assert.deepEqual(
    (await watcher.waitForEvents(1)).map((event) => event.data),
    ['marker'],
  );
  assert.equal(hub.herald.hub.subscriberCount, 1);
});

test('with a 10 s tolerance the same token is accepted, and its stream stays open', async (t) => {
  const hub = await startTestHub(t, { jwtClockToleranceMs: 10_000, heartbeatMs: null });
  const subscriber = await tokenExpiring(-2, { subscribe: [TOPIC] });
  const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
    Authorization: `Bearer ${subscriber.token}`,
  });
  assert.equal(stream.status, 200);

  const publisher = await tokenExpiring(-2, { publish: [TOPIC] });
  assert.equal((await publishWith(hub.hubUrl, publisher.token, 'within tolerance')).status, 200);
  assert.equal((await stream.waitForEvents(1))[0]?.data, 'within tolerance');
  // Not ended at once for being past `exp` (which would make the client reconnect in a loop):
  // a second update, published after an end due now would have come, still arrives.
  assert.equal((await publishWith(hub.hubUrl, publisher.token, 'still open')).status, 200);
  assert.deepEqual(
    (await stream.eventsBefore('still open')).map((event) => event.data),
    ['within tolerance'],
  );
  assert.equal(stream.ended, false);
  assert.equal(hub.herald.hub.subscriberCount, 1);
});

test('a stream accepted within the tolerance ends when the tolerance runs out, not before', async (t) => {
  const hub = await startTestHub(t, { jwtClockToleranceMs: 3_000, heartbeatMs: null });
  const { token, expMs } = await tokenExpiring(-1, { subscribe: [TOPIC] });
  const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
    Authorization: `Bearer ${token}`,
  });
  assert.equal(stream.status, 200);
  const endsAt = expMs + 3_000;
  await stream.waitForEnd(endsAt - Date.now() + WAIT_TIMEOUT_MS);
  const endedAt = Date.now();
  assert.ok(endedAt >= endsAt - 50, `ended ${endsAt - endedAt} ms before exp + tolerance`);
  // Past exp + tolerance, the token is refused.
  const refused = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
    Authorization: `Bearer ${token}`,
  });
  assert.equal(refused.status, 401);
  assert.equal(reasonOf(refused.errorBody), 'expired');
});

test('a token valid from 2 s ahead (nbf) is refused with no tolerance and accepted with 10 s', async (t) => {
  const early = await sign(
    { mercure: { subscribe: [TOPIC] } },
    { algorithm: 'HS256', key: SECRET, notBefore: 2 },
  );
  const strict = await startTestHub(t, { jwtClockToleranceMs: 0 });
  const refused = await EventStream.open(t, strict.subscribeUrl([TOPIC]), {
    Authorization: `Bearer ${early}`,
  });
  assert.equal(refused.status, 401);
  assert.equal(reasonOf(refused.errorBody), 'not-yet-valid');

  const lenient = await startTestHub(t, { jwtClockToleranceMs: 10_000 });
  const accepted = await EventStream.open(t, lenient.subscribeUrl([TOPIC]), {
    Authorization: `Bearer ${early}`,
  });
  assert.equal(accepted.status, 200);
});

test('--jwt-clock-tolerance takes a duration; the default is none', () => {
  const env = { HERALD_JWT_KEY: 'k'.repeat(40) };
  const parsed = parseServeOptions(['--jwt-clock-tolerance', '10s'], env);
  assert.notEqual(parsed, 'help');
  if (parsed === 'help') return;
  assert.equal(parsed.herald.jwtClockToleranceMs, 10_000);
  const fromEnv = parseServeOptions([], { ...env, HERALD_JWT_CLOCK_TOLERANCE: '1500ms' });
  assert.equal(fromEnv !== 'help' && fromEnv.herald.jwtClockToleranceMs, 1500);
  const none = parseServeOptions([], env);
  assert.equal(none !== 'help' && none.herald.jwtClockToleranceMs, undefined);
  assert.throws(
    () => parseServeOptions(['--jwt-clock-tolerance', 'soon'], env),
    /--jwt-clock-tolerance must be a duration/,
  );
  assert.throws(
    () => parseServeOptions(['--jwt-clock-tolerance', '2h'], env),
    /--jwt-clock-tolerance must be at most 1h/,
  );
});
