import type { Update } from './update.ts';

const encoder = new TextEncoder();
const LINE_BREAK = /\r\n|\r|\n/;

/**
 * Encodes an update as one SSE frame. The hub calls this once per update and writes the same
 * bytes to every matching subscriber. The update was validated before it was stored, so `id`
 * and `type` carry no line break; `data` is split on every line-break form (CRLF, CR, LF), one
 * `data:` line each, which is how an SSE parser joins them back with LF.
 */
export function encodeFrame(update: Update): Uint8Array {
  let frame = `id: ${update.id}\n`;
  if (update.type !== undefined) frame += `event: ${update.type}\n`;
  if (update.retry !== undefined) frame += `retry: ${update.retry}\n`;
  for (const line of update.data.split(LINE_BREAK)) frame += `data: ${line}\n`;
  return encoder.encode(frame + '\n');
}

/** A comment frame: keeps proxies from timing out idle streams and flushes headers. */
export const COMMENT_FRAME: Uint8Array = encoder.encode(':\n\n');
