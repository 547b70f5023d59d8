import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { DirectResponse } from '../../src/http/direct/direct-response.ts';

/** A real loopback connection: the server side for the response, and what the client reads. */
async function connection(t: TestContext): Promise<{ socket: Socket; received: Promise<string> }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const [socket] = (await once(server, 'connection')) as [Socket];
  let text = '';
  client.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  const received = new Promise<string>((resolve) => {
    client.on('close', () => {
      resolve(text);
    });
  });
  return { socket, received };
}

test('a header value that would split the head is refused before anything is written', async (t) => {
  const { socket, received } = await connection(t);
  const res = new DirectResponse(socket);
  for (const value of ['a\r\nSet-Cookie: x=1', 'a\nb', 'a\rb', 'nul\u0000', 'del\u007f']) {
    assert.throws(() => res.writeHead(200, { 'X-Echo': value }), TypeError);
  }
  assert.throws(() => res.writeHead(200, { 'Bad Name': 'x' }), TypeError);
  assert.equal(res.headersSent, false, 'a refused head leaves the response answerable');
  // The route's error handler then answers, with a length (no chunks).
  const body = '{"status":500}';
  res.writeHead(500, { 'Content-Type': 'application/problem+json', 'Content-Length': 14 });
  res.end(body);
  const text = await received;
  assert.match(text, /^HTTP\/1\.1 500 Internal Server Error\r\n/);
  assert.doesNotMatch(text, /Set-Cookie|Transfer-Encoding/i);
  assert.match(text, /\r\nConnection: close\r\n/);
  assert.ok(text.endsWith(`\r\n\r\n${body}`));
});

test('a stream is chunked, says Connection: close once, and ends with the last chunk', async (t) => {
  const { socket, received } = await connection(t);
  const res = new DirectResponse(socket);
  let closes = 0;
  res.on('close', () => closes++);
  res.setHeader('X-Request-Id', 'set-before');
  res.setHeader('Vary', 'dropped');
  // Given again at writeHead (another case): the later one wins, once.
  res.writeHead(200, { vary: 'Origin', Connection: 'keep-alive', 'Content-Type': 'text/plain' });
  assert.throws(() => res.writeHead(200), /after they are sent/);
  res.write('hello');
  res.write(new Uint8Array(0));
  res.write(Buffer.from('world!'));
  res.end();
  const text = await received;
  const headEnd = text.indexOf('\r\n\r\n');
  const head = text.slice(0, headEnd);
  const body = text.slice(headEnd + 4);
  assert.match(head, /\r\nX-Request-Id: set-before\r\n/);
  assert.match(head, /\r\nvary: Origin\r\n/);
  assert.doesNotMatch(head, /dropped|keep-alive/);
  assert.equal(head.match(/Connection:/gi)?.length, 1);
  assert.match(head, /\r\nTransfer-Encoding: chunked$/);
  assert.equal(body, '5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n');
  assert.equal(closes, 1, "'close' once, when the end is written");
});
