import assert from 'node:assert/strict';
import type { Worker } from 'node:cluster';
import { test } from 'node:test';
import { Registry, Counter } from 'prom-client';
import { ClusterMetrics } from '../../src/cli/cluster-metrics.ts';
import type { MetricsSnapshot } from '../../src/http/metrics.ts';
import type { ToWorker } from '../../src/cli/worker-messages.ts';
import { waitFor } from '../support/wait.ts';

/** A worker as the primary sees it: what it was sent. The real ones are IPC channels. */
function fakeWorker(): Worker & { readonly inbox: ToWorker[] } {
  const inbox: ToWorker[] = [];
  return {
    inbox,
    isConnected: () => true,
    send: (message: ToWorker) => {
      inbox.push(message);
      return true;
    },
  } as unknown as Worker & { readonly inbox: ToWorker[] };
}

async function snapshotWith(published: number): Promise<MetricsSnapshot> {
  const registry = new Registry();
  new Counter({ name: 'herald_published_total', help: 'h', registers: [registry] }).inc(published);
  return registry.getMetricsAsJSON();
}

function collectId(worker: { inbox: ToWorker[] }): number {
  const ask = worker.inbox.find((message) => message.type === 'collect-metrics');
  assert.ok(ask !== undefined, 'asked for its metrics');
  return ask.id;
}

test('a scrape gets every worker’s figures summed once all have answered', async () => {
  const workers = [fakeWorker(), fakeWorker()];
  const metrics = new ClusterMetrics(() => workers);
  const [first, second] = workers as [ReturnType<typeof fakeWorker>, ReturnType<typeof fakeWorker>];
  metrics.gather(first, 7);
  metrics.received(first, collectId(first), await snapshotWith(3));
  assert.equal(first.inbox.filter((m) => m.type === 'metrics').length, 0, 'waits for the other');
  metrics.received(second, collectId(second), await snapshotWith(4));
  const answer = await waitFor(() => first.inbox.find((m) => m.type === 'metrics'));
  assert.equal(answer.id, 7);
  assert.match(answer.text ?? '', /herald_published_total 7/);
});

test('a worker that has never answered fails the scrape rather than halve a counter', async () => {
  // Leaving it out would look like a counter reset to Prometheus: the scrape fails instead.
  const workers = [fakeWorker(), fakeWorker()];
  const metrics = new ClusterMetrics(() => workers, 50);
  const [first] = workers as [ReturnType<typeof fakeWorker>];
  metrics.gather(first, 1);
  metrics.received(first, collectId(first), await snapshotWith(3));
  const answer = await waitFor(() => first.inbox.find((m) => m.type === 'metrics'));
  assert.equal(answer.text, undefined);
  assert.match(answer.error ?? '', /1 workers have not sent their metrics yet/);
});

test('a worker late for a scrape is counted with its last figures, and the scrape says so', async () => {
  const workers = [fakeWorker(), fakeWorker()];
  const metrics = new ClusterMetrics(() => workers, 50);
  const [first, second] = workers as [ReturnType<typeof fakeWorker>, ReturnType<typeof fakeWorker>];
  const answers = () => first.inbox.filter((m) => m.type === 'metrics');
  const asks = (worker: { inbox: ToWorker[] }) =>
    worker.inbox.filter((m) => m.type === 'collect-metrics').map((m) => m.id);

  // Both answer: 3 + 4, nobody stale.
  metrics.gather(first, 1);
  metrics.received(first, collectId(first), await snapshotWith(3));
  metrics.received(second, collectId(second), await snapshotWith(4));
  const fresh = await waitFor(() => answers()[0]);
  assert.match(fresh.text ?? '', /^herald_published_total 7$/m);
  assert.match(fresh.text ?? '', /^herald_metrics_stale_workers 0$/m);

  // The second is busy: its last figures (4) stand in, and the counter does not go back.
  metrics.gather(first, 2);
  metrics.received(first, asks(first)[1] ?? -1, await snapshotWith(5));
  const late = await waitFor(() => answers()[1]);
  assert.equal(late.id, 2);
  assert.match(late.text ?? '', /^herald_published_total 9$/m);
  assert.match(late.text ?? '', /^herald_metrics_stale_workers 1$/m);

  // Its answer comes after all: the next scrape counts it.
  metrics.received(second, asks(second)[1] ?? -1, await snapshotWith(6));
  metrics.gather(first, 3);
  metrics.received(first, asks(first)[2] ?? -1, await snapshotWith(5));
  const stale = await waitFor(() => answers()[2]);
  assert.match(stale.text ?? '', /^herald_published_total 11$/m);
  assert.match(stale.text ?? '', /^herald_metrics_stale_workers 1$/m, 'it missed this one too');
});
