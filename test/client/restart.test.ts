import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { mintToken } from '../../src/auth/mint-token.ts';
import { publish, subscribe } from '../../src/client/index.ts';
import type { RunningCli } from '../support/cli.ts';
import { runCli, tempDir } from '../support/cli.ts';
import { TEST_KEY } from '../support/test-hub.ts';
import { waitFor } from '../support/wait.ts';

const TOPIC = 'https://example.com/feed';

test('resumes across hub process restarts on one SQLite file: 1,000 events, no gap, no duplicate', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'herald.db');
  const serve = (port: number | string): RunningCli =>
    runCli(
      t,
      [
        'serve',
        ...['--host', '127.0.0.1', '--port', String(port), '--store', `sqlite:${file}`],
        ...['--jwt-key', TEST_KEY, '--anonymous'],
      ],
      {},
      dir,
    );
  let hub = serve(0);
  const hubUrl = await hub.ready;
  const port = new URL(hubUrl).port;
  const token = await mintToken({ key: TEST_KEY, algorithm: 'HS256', publish: ['*'] });

  const subscription = subscribe(hubUrl, TOPIC, { initialRetryDelay: 50, maxRetryDelay: 200 });
  t.after(() => {
    subscription.close();
  });
  const received: string[] = [];
  subscription.on('message', (event) => received.push(event.id));
  const resumedAfter: (string | undefined)[] = [];
  subscription.onState((change) => {
    if (change.to === 'open') resumedAfter.push(change.resumedAfter);
  });
  await waitFor(() => subscription.state === 'open', { message: 'open' });

  const published: string[] = [];
  for (let round = 0; round < 4; round++) {
    for (let request = 0; request < 25; request++) {
      const updates = Array.from({ length: 10 }, (_, k) => ({
        topic: TOPIC,
        data: `r${round} n${request * 10 + k}`,
      }));
      published.push(...(await publish(hubUrl, updates, { token })));
    }
    if (round === 3) break;
    // Each restart cuts a live stream (otherwise two restarts could fall in one backoff).
    await waitFor(() => subscription.state === 'open', { message: 'the reconnection' });
    // A graceful stop ends every stream; the next process takes the same port and file.
    hub.child.kill('SIGTERM');
    assert.equal(await hub.exited, 0);
    hub = serve(port);
    await hub.ready;
  }
  assert.equal(published.length, 1000);
  // A marker published last: once it has arrived, anything repeated would have come before it.
  const [marker = ''] = await publish(hubUrl, [{ topic: TOPIC, data: 'marker' }], { token });
  await waitFor(() => received.includes(marker), { message: 'the marker, after 1,000 events' });
  assert.deepEqual(received, [...published, marker]);
  // Three restarts, three reconnections, each resumed after an id the new process knew (the
  // updates published before the client came back were replayed from the file).
  assert.equal(resumedAfter.length, 4);
  assert.equal(resumedAfter[0], undefined);
  for (const id of resumedAfter.slice(1)) assert.ok(published.includes(id ?? ''), String(id));
});
