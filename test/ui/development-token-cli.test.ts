import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetch } from 'undici';
import { runCli } from '../support/cli.ts';

const TOKEN_TAG = /<meta name="herald-development-publisher-token" content="([^"]+)"/;

test('herald serve in development mode hands the web UI the token it printed, and that token publishes', async (t) => {
  const cli = runCli(t, ['serve', '--port', '0', '--host', '127.0.0.1', '--store', 'memory']);
  const hubUrl = await cli.ready;
  const printed = /Publisher token[^\n]*\n\s+(\S+)/.exec(cli.stdout)?.[1] ?? '';
  assert.match(printed, /^ey/);
  const page = await fetch(new URL('/ui/', hubUrl)).then((response) => response.text());
  assert.equal(TOKEN_TAG.exec(page)?.[1], printed);
  const published = await fetch(hubUrl, {
    method: 'POST',
    headers: { Authorization: `Bearer ${printed}` },
    body: new URLSearchParams({ topic: 'https://example.com/books/1', data: 'from the UI token' }),
  });
  assert.equal(published.status, 200);
});

test('herald serve with a configured key never gives the web UI a token', async (t) => {
  const cli = runCli(
    t,
    ['serve', '--port', '0', '--host', '127.0.0.1', '--store', 'memory', '--ui'],
    {
      HERALD_JWT_KEY: 'a-configured-key-of-at-least-thirty-two-bytes',
    },
  );
  const hubUrl = await cli.ready;
  const page = await fetch(new URL('/ui/', hubUrl)).then((response) => response.text());
  assert.equal(page.includes('herald-development-publisher-token'), false);
});
