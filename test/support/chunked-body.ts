import assert from 'node:assert/strict';

/**
 * Decodes a chunked HTTP/1.1 body strictly (RFC 9112 §7.1), as received so far; returns the data
 * and whether the last chunk ended it. Asserts on any byte out of place, so a test reading raw
 * socket bytes proves the framing, not only the payload.
 */
export function dechunk(body: string): { data: string; ended: boolean } {
  let data = '';
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd === -1) return { data, ended: false };
    const sizeText = body.slice(at, lineEnd);
    assert.match(sizeText, /^[0-9a-f]+$/, `a chunk size line, at byte ${at}`);
    const size = parseInt(sizeText, 16);
    if (size === 0) {
      assert.equal(body.slice(lineEnd + 2), '\r\n', 'the last chunk ends the body');
      return { data, ended: true };
    }
    const start = lineEnd + 2;
    if (body.length < start + size + 2) return { data, ended: false };
    data += body.slice(start, start + size);
    assert.equal(body.slice(start + size, start + size + 2), '\r\n', 'CRLF after chunk data');
    at = start + size + 2;
  }
}
