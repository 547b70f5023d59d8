import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { TestContext } from 'node:test';

const tick = () => new Promise((resolve) => setTimeout(resolve, 10));

/**
 * Runs a printed or documented curl pair as a reader would paste it: the subscribe command
 * (bounded in time), then the publish command; checks that the published `Hello` arrives on the
 * subscription with the id the publish answered.
 */
export async function checkCurlExample(
  t: TestContext,
  subscribe: string,
  publish: string,
  env: Record<string, string> = {},
): Promise<void> {
  assert.match(subscribe, /^curl -N /);
  const subscriber = spawn('bash', ['-c', `${subscribe} --max-time 20`], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  t.after(() => subscriber.kill());
  let stream = '';
  subscriber.stdout.on('data', (chunk: Buffer) => (stream += chunk.toString()));
  while (!stream.startsWith(':')) await tick();

  const publisher = spawn('bash', ['-c', publish], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let id = '';
  publisher.stdout.on('data', (chunk: Buffer) => (id += chunk.toString()));
  await once(publisher, 'exit');
  assert.match(id, /^urn:uuid:/);
  while (!stream.includes('data: Hello')) await tick();
  assert.ok(stream.includes(`id: ${id}`));
}
