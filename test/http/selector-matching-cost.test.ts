import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetch } from 'undici';
import { EventStream } from '../support/event-stream.ts';
import { startTestHub, type TestHub } from '../support/test-hub.ts';

// Regression tests for catastrophic backtracking in selector matching (issue 12, item 1). With
// the regular-expression matcher each of these publishes took from 45 s to minutes, with the
// whole hub (and /healthz) frozen meanwhile. The time bound below is only a failure guard, far
// above what a linear matcher needs (milliseconds) and far below what backtracking took.
const FAILURE_GUARD_MS = 10_000;

/** Publishes while polling /healthz; returns the publish's status and how many polls answered. */
async function publishWhilePolling(
  hub: TestHub,
  fields: Record<string, string>,
  token?: string,
): Promise<{ status: number; body: string; healthAnswers: number; elapsedMs: number }> {
  const healthUrl = new URL('/healthz', hub.hubUrl).href;
  const started = performance.now();
  const poll = { publishing: true };
  let healthAnswers = 0;
  const polling = (async () => {
    while (poll.publishing) {
      const response = await fetch(healthUrl);
      await response.text();
      if (response.status === 200) healthAnswers++;
    }
  })();
  const result = await hub.publish(fields, token);
  const elapsedMs = performance.now() - started;
  poll.publishing = false;
  await polling;
  // One more after the publish: the hub still serves.
  const after = await fetch(healthUrl);
  await after.text();
  assert.equal(after.status, 200);
  return { ...result, healthAnswers, elapsedMs };
}

test('a subscriber with many adjacent template variables cannot freeze a publish', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const adversarial = await EventStream.open(
    t,
    hub.subscribeUrl(['https://ex.com/books/{a}{b}{c}{d}{e}{f}{g}{h}{i}{j}{k}{l}']),
  );
  const ordinary = await EventStream.open(t, hub.subscribeUrl(['https://ex.com/books/{id}']));
  assert.equal(adversarial.status, 200);
  assert.equal(ordinary.status, 200);

  const topic = 'https://ex.com/books/the-hitchhikers-guide/reviews';
  const result = await publishWhilePolling(hub, { topic, data: 'review' });
  assert.equal(result.status, 200, result.body);
  assert.ok(result.elapsedMs < FAILURE_GUARD_MS, `publish took ${result.elapsedMs} ms`);

  // Matching is still right: the topic has a `/` inside the variables' part, so neither
  // selector matches it; a topic that fits both reaches both, and nothing else came before it.
  const fitting = await hub.publish({ topic: 'https://ex.com/books/42', data: 'fits' });
  assert.equal(fitting.status, 200);
  const [adversarialEvent] = await adversarial.waitForEvents(1);
  const [ordinaryEvent] = await ordinary.waitForEvents(1);
  assert.equal(adversarialEvent?.data, 'fits');
  assert.equal(ordinaryEvent?.data, 'fits');
  assert.deepEqual(hub.internalErrors, []);
});

test('a publisher allowed only {+rest} cannot freeze the hub with a run of commas', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const token = await hub.token({ publish: ['https://ex.com/t/{+rest}'] });
  const watcher = await EventStream.open(t, hub.subscribeUrl(['*']));

  const topic = `https://ex.com/t/${','.repeat(30)} `;
  const refused = await publishWhilePolling(hub, { topic, data: 'x' }, token);
  assert.equal(refused.status, 403, refused.body);
  assert.equal((JSON.parse(refused.body) as { code: string }).code, 'HERALD_ERR_FORBIDDEN');
  assert.ok(refused.elapsedMs < FAILURE_GUARD_MS, `publish took ${refused.elapsedMs} ms`);

  // The grant still works for what it allows, and the refused update was not delivered.
  const allowed = await hub.publish(
    { topic: `https://ex.com/t/${','.repeat(30)}x/y`, data: 'allowed' },
    token,
  );
  assert.equal(allowed.status, 200, allowed.body);
  const [event] = await watcher.waitForEvents(1);
  assert.equal(event?.data, 'allowed');
  assert.equal(watcher.events.length, 1);
});

test('a template selector past the length limit is refused with 400, in a query or a token', async (t) => {
  const hub = await startTestHub(t, { anonymous: true });
  const long = `https://ex.com/${'x'.repeat(1100)}/{id}`;
  const stream = await EventStream.open(t, hub.subscribeUrl([long]));
  assert.equal(stream.status, 400);
  const problem = JSON.parse((stream as { errorBody?: string }).errorBody ?? '{}') as {
    code?: string;
    detail?: string;
  };
  assert.equal(problem.code, 'HERALD_ERR_SELECTOR_TOO_LARGE');
  assert.match(problem.detail ?? '', /at most 1024 characters/);
  assert.equal(hub.herald.hub.subscriberCount, 0);

  // A plain (non-template) selector of the same length is only compared, and is accepted.
  const plain = await EventStream.open(t, hub.subscribeUrl([`https://ex.com/${'x'.repeat(1100)}`]));
  assert.equal(plain.status, 200);

  // In a token the same selector makes the token invalid: 401, not a silent narrowing.
  const token = await hub.token({ publish: [long] });
  const published = await hub.publish({ topic: 'https://ex.com/x/1', data: 'x' }, token);
  assert.equal(published.status, 401);
  const tokenProblem = JSON.parse(published.body) as { code?: string; reason?: string };
  assert.equal(tokenProblem.code, 'HERALD_ERR_INVALID_TOKEN');
  assert.equal(tokenProblem.reason, 'invalid-claims');
  assert.equal(plain.events.length, 0);
});
