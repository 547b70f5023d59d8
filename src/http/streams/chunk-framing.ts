const CRLF = Buffer.from('\r\n');

/*
 * The hub hands every subscriber of an update the same frame object, one after the other: a
 * one-entry cache turns that frame into its chunk once per update, not once per subscriber.
 */
let lastFrame: Uint8Array | undefined;
let lastChunk: Buffer = Buffer.alloc(0);

/**
 * One frame as one HTTP/1.1 chunk (RFC 9112 §7.1): its size in hex, CRLF, the bytes, CRLF.
 * These are the bytes Node's `res.write` sends for the frame, in a single buffer.
 */
export function chunkOf(frame: Uint8Array): Buffer {
  if (frame === lastFrame) return lastChunk;
  // A zero-size chunk would end the body: an empty frame sends nothing.
  if (frame.byteLength === 0) return Buffer.alloc(0);
  lastChunk = Buffer.concat([Buffer.from(`${frame.byteLength.toString(16)}\r\n`), frame, CRLF]);
  lastFrame = frame;
  return lastChunk;
}
