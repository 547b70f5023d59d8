import { HeraldError } from '../../core/errors.ts';
import type { HubRequest } from '../http-message.ts';

/**
 * Reads a request body, refusing it as soon as it passes `maxBytes` (by its Content-Length
 * when declared, else while it streams in) so an oversized body is never held in memory.
 */
export async function readBody(req: HubRequest, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function tooLarge(maxBytes: number): HeraldError {
  return new HeraldError(
    'HERALD_ERR_BODY_TOO_LARGE',
    `The request body is larger than the limit of ${maxBytes} bytes.`,
  );
}
