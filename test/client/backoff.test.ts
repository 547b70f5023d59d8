import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, backoffWindow, subscribe } from '../../src/client/index.ts';
import { startRawServer } from './raw-server.ts';
import { waitFor } from '../support/wait.ts';

const options = { initialDelay: 100, maxDelay: 1000 };

test('the window doubles from initialDelay up to maxDelay, and the delay lies within it', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 50, 5000].map((attempt) => backoffWindow(attempt, options)),
    [100, 200, 400, 800, 1000, 1000, 1000, 1000],
  );
  for (let attempt = 0; attempt < 12; attempt++) {
    const window = backoffWindow(attempt, options);
    assert.equal(backoffDelay(attempt, { ...options, random: () => 0 }), 0);
    assert.equal(backoffDelay(attempt, { ...options, random: () => 0.5 }), Math.floor(window / 2));
    assert.equal(backoffDelay(attempt, { ...options, random: () => 0.999999 }), window - 1);
  }
  // With Math.random: always within [0, window].
  for (let i = 0; i < 1000; i++) {
    const attempt = i % 8;
    const delay = backoffDelay(attempt, options);
    assert.ok(delay >= 0 && delay <= backoffWindow(attempt, options), `${delay} at ${attempt}`);
  }
});

test("the server's retry replaces the base, and raises the cap when it is larger", () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((attempt) => backoffWindow(attempt, { ...options, serverRetry: 300 })),
    [300, 600, 1000, 1000, 1000],
  );
  assert.deepEqual(
    [0, 1, 2].map((attempt) => backoffWindow(attempt, { ...options, serverRetry: 5000 })),
    [5000, 5000, 5000],
  );
  assert.equal(backoffDelay(0, { ...options, serverRetry: 0, random: () => 0.9 }), 0);
});

test('a failing hub is retried after delays within their bounds', async (t) => {
  const server = await startRawServer(t, (_req, res) => {
    res.writeHead(503, { 'Content-Type': 'text/plain' }).end('busy');
  });
  const draws = [0.999, 0.999, 0.999, 0.999, 0.5, 0];
  const drawn: number[] = [];
  // The delays the client asks its timers for: exact, whatever the load on the machine.
  const sleeps: number[] = [];
  const subscription = subscribe(server.url, 'topic', {
    initialRetryDelay: 40,
    maxRetryDelay: 160,
    stallTimeout: null,
    random: () => {
      const value = draws[drawn.length] ?? 0.999;
      drawn.push(value);
      return value;
    },
    timers: {
      setTimeout: (callback, milliseconds) => {
        sleeps.push(milliseconds);
        return setTimeout(callback, milliseconds);
      },
      clearTimeout: (handle) => {
        clearTimeout(handle as ReturnType<typeof setTimeout>);
      },
    },
  });
  t.after(() => {
    subscription.close();
  });
  const codes: string[] = [];
  subscription.onError((error) => codes.push(error.code));
  await waitFor(() => server.requests.length >= 7, { message: 'seven requests' });
  subscription.close();
  const expected = [39, 79, 159, 159, 80, 0]; // floor(draw × window): windows 40, 80, 160, 160…
  assert.deepEqual(sleeps.slice(0, 6), expected);
  const gaps = server.requests
    .slice(1, 7)
    .map((request, i) => request.at - (server.requests[i]?.at ?? 0));
  for (const [i, gap] of gaps.entries()) {
    // Never sooner than the delay (a loaded machine can only make it later).
    const delay = expected[i] ?? 0;
    assert.ok(gap >= delay - 1, `gap ${i}: ${gap.toFixed(1)} ms for ${delay}`);
  }
  assert.ok(
    codes.every((code) => code === 'HERALD_CLIENT_ERR_RETRYABLE_STATUS'),
    String(codes),
  );
});

test("the server's retry field sets the base of the next reconnection", async (t) => {
  const server = await startRawServer(t, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    res.end('retry: 300\ndata: x\n\n');
  });
  const sleeps: number[] = [];
  const subscription = subscribe(server.url, 'topic', {
    initialRetryDelay: 10,
    maxRetryDelay: 20,
    stallTimeout: null,
    random: () => 0.5,
    timers: {
      setTimeout: (callback, milliseconds) => {
        sleeps.push(milliseconds);
        return setTimeout(callback, milliseconds);
      },
      clearTimeout: (handle) => {
        clearTimeout(handle as ReturnType<typeof setTimeout>);
      },
    },
  });
  t.after(() => {
    subscription.close();
  });
  await waitFor(() => server.requests.length === 2, { message: 'the reconnection' });
  subscription.close();
  assert.equal(subscription.serverRetry, 300);
  // 0.5 × 300, although maxRetryDelay is 20: the server's reconnection time wins.
  assert.equal(sleeps[0], 150);
  const gap = (server.requests[1]?.at ?? 0) - (server.requests[0]?.at ?? 0);
  assert.ok(gap >= 149, `reconnected after ${gap.toFixed(1)} ms`);
});
