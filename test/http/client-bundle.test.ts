import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetch } from 'undici';
import { startTestHub } from '../support/test-hub.ts';

test('the hub serves the browser build of herald/client at a stable path, to any origin', async (t) => {
  const hub = await startTestHub(t);
  const response = await fetch(new URL('/herald-client.js', hub.hubUrl), {
    headers: { Origin: 'https://elsewhere.example' },
  });
  assert.equal(response.status, 200, 'built by npm run build (build:browser)');
  assert.equal(response.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(response.headers.get('access-control-allow-origin'), '*');
  const code = await response.text();
  assert.match(code, /export\s*\{/, 'an ES module');
  assert.ok(!code.includes('node:'), 'no Node built-in reaches the browser build');
});
