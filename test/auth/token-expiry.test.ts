import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub, TEST_KEY } from '../support/test-hub.ts';
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

test('a stream ends within one second of its token expiring; the client reconnects with a fresh token', async (t) => {
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

  await stream.waitForEnd(expMs - Date.now() + 3000);
  const endedAt = Date.now();
  assert.ok(endedAt >= expMs - 50, `ended ${expMs - endedAt} ms before exp`);
  assert.ok(endedAt <= expMs + 1000, `ended ${endedAt - expMs} ms after exp`);

  // The others stay open, and the hub forgot the expired subscriber.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(lasting.ended, false);
  assert.equal(noExpiry.ended, false);
  assert.equal(hub.herald.hub.subscriberCount, 2);

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

test('streams with different expiries end each at its own second, earliest first', async (t) => {
  const hub = await startTestHub(t, { heartbeatMs: null });
  // Opened latest-expiring first, so the single timer must re-arm for an earlier expiry.
  const tokens = [await tokenExpiringIn(3), await tokenExpiringIn(2), await tokenExpiringIn(2)];
  const streams = [];
  for (const { token } of tokens) {
    streams.push(
      await EventStream.open(t, hub.subscribeUrl([TOPIC]), { Authorization: `Bearer ${token}` }),
    );
  }
  // One of the two early streams leaves by itself first: its bucket must not break the others.
  streams[2]?.close();
  const ended: number[] = [];
  await Promise.all(
    streams.slice(0, 2).map(async (stream, index) => {
      await stream.waitForEnd(6000);
      ended[index] = Date.now();
    }),
  );
  for (const [index, at] of ended.entries()) {
    const expMs = tokens[index]?.expMs ?? 0;
    assert.ok(at >= expMs - 50 && at <= expMs + 1000, `stream ${index}: ${at - expMs} ms from exp`);
  }
  assert.equal(hub.herald.hub.subscriberCount, 0);
});
