import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { fetch } from 'undici';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub } from '../support/test-hub.ts';
import { waitFor } from '../support/wait.ts';

const TOPIC = 'https://example.com/firehose';

test('a reader that never reads is dropped at its cap while the others keep receiving', async (t) => {
  const cap = 64 * 1024;
  const hub = await startTestHub(t, { anonymous: true, maxUnsentBytes: cap });
  const healthy = await EventStream.open(t, hub.subscribeUrl([TOPIC]));

  // A raw socket that sends its request and then never reads a byte.
  const url = new URL(hub.subscribeUrl([TOPIC]));
  const stalled = connect({ host: url.hostname, port: Number(url.port) });
  t.after(() => stalled.destroy());
  stalled.pause();
  stalled.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
  await waitFor(() => hub.herald.hub.subscriberCount >= 2, { message: 'two subscribers' });

  // Publish until the kernel's buffers and then the cap are full; bounded in count.
  const payload = 'x'.repeat(32 * 1024);
  let published = 0;
  while (hub.herald.hub.subscriberCount === 2 && published < 2000) {
    const result = await hub.publish({ topic: TOPIC, data: `${published} ${payload}` });
    assert.equal(result.status, 200);
    published++;
  }
  assert.equal(
    hub.herald.hub.subscriberCount,
    1,
    `the stalled reader was dropped (after ${published} updates)`,
  );

  // The healthy subscriber got every update, in order, and keeps receiving.
  await hub.publish({ topic: TOPIC, data: 'after the drop' });
  const events = await healthy.waitForEvents(published + 1, 20_000);
  assert.deepEqual(
    events.slice(0, published).map((event) => Number(event.data.split(' ')[0])),
    Array.from({ length: published }, (_, i) => i),
  );
  assert.equal(events.at(-1)?.data, 'after the drop');
  const metrics = await (await fetch(new URL('/metrics', hub.hubUrl))).text();
  assert.match(metrics, /^herald_slow_consumers_dropped_total 1$/m);
  assert.deepEqual(hub.internalErrors, []);
});
