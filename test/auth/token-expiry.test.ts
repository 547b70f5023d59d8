import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub, TEST_KEY } from '../support/test-hub.ts';
import { waitFor, WAIT_TIMEOUT_MS } from '../support/wait.ts';
import { sign } from './jwt-fixtures.ts';

const TOPIC = 'https://example.com/chat';
const SECRET = new TextEncoder().encode(TEST_KEY);
const CLAIMS = { mercure: { subscribe: [TOPIC] } };

/** A subscriber token whose `exp` is `seconds` whole seconds from now; returns it and its exp in ms. */
async function tokenExpiringIn(seconds: number): Promise<{ token: string; expMs: number }> {
  const exp = Math.floor(Date.now() / 1000) + seconds;
  const token = await sign({ ...CLAIMS, exp }, { algorithm: 'HS256', key: SECRET });
  return { token, expMs: exp * 1000 };
}

test('a stream ends once its token expires, not before; the client reconnects with a fresh token', async (t) => {
  const hub = await startTestHub(t, { heartbeatMs: null });
  const { token, expMs } = await tokenExpiringIn(2);
  const later = await tokenExpiringIn(60);
  const lasting = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
    Authorization: `Bearer ${later.token}`,
  });
  const noExpiry = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
    Authorization: `Bearer ${await sign(CLAIMS, { algorithm: 'HS256', key: SECRET })}`,
  });
  const stream = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
    Authorization: `Bearer ${token}`,
  });
  assert.equal(stream.status, 200);
  assert.equal(hub.herald.hub.subscriberCount, 3);

  // Live until exp: an update published now arrives.
  assert.equal((await hub.publish({ topic: TOPIC, data: 'before' })).status, 200);
  assert.equal((await stream.waitForEvents(1))[0]?.data, 'before');

  // How late after exp is the timer's business and the machine's load, not this test's.
  await stream.waitForEnd(expMs - Date.now() + WAIT_TIMEOUT_MS);
  const endedAt = Date.now();
  assert.ok(endedAt >= expMs - 50, `ended ${expMs - endedAt} ms before exp`);

  // The others stay open (a marker published after the end still reaches them), and the hub
  // forgot the expired subscriber.
  assert.equal((await hub.publish({ topic: TOPIC, data: 'marker' })).status, 200);
  for (const other of [lasting, noExpiry]) {
    assert.deepEqual(
      (await other.eventsBefore('marker')).map((event) => event.data),
      ['before'],
    );
    assert.equal(other.ended, false);
  }
  await waitFor(() => hub.herald.hub.subscriberCount === 2, {
    message: 'the hub to forget the expired subscriber',
  });

  // The expired token no longer subscribes; a fresh one does.
  const refused = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
    Authorization: `Bearer ${token}`,
  });
  assert.equal(refused.status, 401);
  assert.equal(
    (JSON.parse(refused.errorBody ?? '{}') as Record<string, unknown>)['reason'],
    'expired',
  );
  const fresh = await tokenExpiringIn(60);
  const again = await EventStream.open(t, hub.subscribeUrl([TOPIC]), {
    Authorization: `Bearer ${fresh.token}`,
  });
  assert.equal(again.status, 200);
  assert.equal((await hub.publish({ topic: TOPIC, data: 'after' })).status, 200);
  assert.equal((await again.waitForEvents(1))[0]?.data, 'after');
  assert.deepEqual(hub.internalErrors, []);
});

test('an earlier expiry re-arms the expiry timer: that stream ends, one expiring later stays open', async (t) => {
  const hub = await startTestHub(t, { heartbeatMs: null });
  // Opened latest-expiring first, so the single timer must re-arm for an earlier expiry.
  const tokens = [await tokenExpiringIn(60), await tokenExpiringIn(2), await tokenExpiringIn(2)];
  const streams = [];
  for (const { token } of tokens) {
    streams.push(
      await EventStream.open(t, hub.subscribeUrl([TOPIC]), { Authorization: `Bearer ${token}` }),
    );
  }
  const [late, early, leaving] = streams;
  assert.ok(late !== undefined && early !== undefined && leaving !== undefined);
  // One of the two early streams leaves by itself first: its bucket must not break the others.
  leaving.close();
  const expMs = tokens[1]?.expMs ?? 0;
  await early.waitForEnd(expMs - Date.now() + WAIT_TIMEOUT_MS);
  assert.ok(Date.now() >= expMs - 50, `ended ${expMs - Date.now()} ms before exp`);
  // The later stream is still served: a marker published now reaches it.
  assert.equal((await hub.publish({ topic: TOPIC, data: 'marker' })).status, 200);
  assert.deepEqual(await late.eventsBefore('marker'), []);
  assert.equal(late.ended, false);
  await waitFor(() => hub.herald.hub.subscriberCount === 1, { message: 'one subscriber left' });
});
