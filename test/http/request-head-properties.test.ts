import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseRequestHead } from '../../src/http/direct/request-head.ts';

// The stream door's parser (src/http/direct/request-head.ts) reads heads from anyone. Two
// properties, on seeded random heads built from the pieces that make parsers disagree:
// it never throws, and whatever it accepts, Node's own parser (the reference: it reads every
// connection the door does not serve) reads the same way: the same target, the same headers.

const SEED = 2911_2026;
const MAX_HEADER_BYTES = 16_384;

// Mostly well formed, with the pieces that make parsers disagree mixed in (one in ~10).
const rare = <T>(common: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: common, weight: 12 }, { arbitrary: odd, weight: 1 });
const chars = (safe: string, odd: readonly string[], maxLength: number) =>
  fc
    .array(rare(fc.constantFrom(...safe.split('')), fc.constantFrom(...odd)), { maxLength })
    .map((list) => list.join(''));

const method = rare(fc.constant('GET'), fc.constantFrom('get', 'POST', 'HEAD', 'GET ', ' GET'));
const version = rare(
  fc.constant('HTTP/1.1'),
  fc.constantFrom('HTTP/1.0', 'HTTP/1.2', 'http/1.1', 'HTTP/2.0', 'HTTP/1.1 '),
);
const target = chars(
  "/abz09?=&%-._~:@!$()*+,;'",
  [' ', '\t', '\u00e9', '\u007f', '#', '"', '<', '\\', '{', '|', '^', '`'],
  24,
).map((rest) => `/${rest}`);
const name = rare(
  fc.constantFrom(
    'Accept',
    'Last-Event-ID',
    'Authorization',
    'Cookie',
    'Origin',
    'X-Forwarded-For',
    'X-Request-Id',
    'Cache-Control',
    'User-Agent',
  ),
  fc.constantFrom(
    'Host',
    'Content-Length',
    'Transfer-Encoding',
    'Connection',
    'Upgrade',
    '__proto__',
    'constructor',
    'X Bad',
    'X(bad)',
    '',
    'Caf\u00e9',
    'accept',
  ),
);
const value = chars(
  'abcXYZ019 ;=,"\'/:*-',
  ['\t', '\u0000', '\u0001', '\u007f', '\u0080', '\u00ff', '\r', '\n', ' '],
  16,
);
const lineEnd = rare(fc.constant('\r\n'), fc.constantFrom('\n', '\r', '\r\n ', '\r\n\t'));

// What an accepted head never holds: whitespace, controls or non-ASCII in the target; padding,
// controls (but tabs) or non-ASCII in a value.
// eslint-disable-next-line no-control-regex -- control characters are what is looked for
const NOT_IN_TARGET = /[\s\x00-\x1f\x7f-\xff]/;
// eslint-disable-next-line no-control-regex -- control characters are what is looked for
const NOT_IN_VALUE = /^[ \t]|[ \t]$|[\x00-\x08\x0a-\x1f\x7f-\xff]/;

/** A head as clients (and attackers) write them. */
const head = fc
  .record({
    method,
    target,
    version,
    headers: fc.array(
      fc.record({ name, before: rare(fc.constant(''), fc.constant(' ')), value, end: lineEnd }),
      { maxLength: 6 },
    ),
    withHost: rare(fc.constant(true), fc.constant(false)),
    trailer: rare(fc.constant(''), fc.constantFrom('x', 'GET / HTTP/1.1\r\nHost: y\r\n\r\n')),
  })
  .map(({ method, target, version, headers, withHost, trailer }) => {
    let text = `${method} ${target} ${version}\r\n`;
    if (withHost) text += 'Host: example.test\r\n';
    for (const { name, before, value, end } of headers) text += `${name}${before}:${value}${end}`;
    return Buffer.from(`${text}\r\n${trailer}`, 'latin1');
  });

test('the head parser never throws, and what it accepts is well formed', () => {
  fc.assert(
    fc.property(head, (bytes) => {
      const parsed = parseRequestHead(bytes, MAX_HEADER_BYTES);
      if (parsed === undefined) return;
      assert.ok(parsed.target.startsWith('/'));
      assert.doesNotMatch(parsed.target, NOT_IN_TARGET);
      assert.equal(Object.getPrototypeOf(parsed.headers), null);
      assert.ok(parsed.headers['host'] !== undefined);
      for (const [name, value] of Object.entries(parsed.headers)) {
        assert.match(name, /^[!#$%&'*+\-.^_`|~0-9a-z]+$/);
        assert.doesNotMatch(value, NOT_IN_VALUE);
      }
      for (const name of ['content-length', 'transfer-encoding', 'upgrade', 'expect']) {
        assert.equal(parsed.headers[name], undefined);
      }
    }),
    { seed: SEED, numRuns: 5000 },
  );
});

test("whatever the head parser accepts, Node's parser reads the same way", async (t) => {
  // The reference: node:http, answering each request with what it read.
  const server = createServer((req, res) => {
    res.setHeader('Connection', 'close');
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  let accepted = 0;
  await fc.assert(
    fc.asyncProperty(head, async (bytes) => {
      const parsed = parseRequestHead(bytes, MAX_HEADER_BYTES);
      if (parsed === undefined) return;
      accepted++;
      const answer = await exchange(port, bytes);
      const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
      assert.match(answer, /^HTTP\/1\.1 200 /, `Node refused what the door accepts: ${answer}`);
      const read = JSON.parse(body) as { method: string; url: string; headers: object };
      assert.equal(read.method, 'GET');
      assert.equal(read.url, parsed.target);
      assert.deepEqual({ ...read.headers }, { ...parsed.headers });
    }),
    { seed: SEED, numRuns: 3000 },
  );
  // The generator must reach the interesting side, or the property proves nothing.
  assert.ok(accepted >= 50, `only ${accepted} heads accepted`);
});

function exchange(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      resolve(received);
    });
    socket.end(bytes);
  });
}
