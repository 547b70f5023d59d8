/*
 * Node reads and writes header values as latin1, one char per byte, while ids travel as UTF-8
 * (EventSource sends `Last-Event-ID` as UTF-8 bytes): these convert both ways, so that an id
 * like "commande-été" resumes and is echoed byte for byte, as the reference hub does.
 */

/** A header value as received, read as the UTF-8 it was sent as. */
export function headerToUtf8(value: string): string {
  return Buffer.from(value, 'latin1').toString('utf8');
}

// Bytes no header value may hold (Node refuses them, and a 500 would follow).
// eslint-disable-next-line no-control-regex -- these are the bytes to find
const NOT_IN_HEADER = /[\x00-\x08\x0a-\x1f\x7f]/g;

/**
 * A string as a header value, in UTF-8. Ids are refused at publish when they could not be one,
 * but history written before that rule (or by another tool) may hold anything: such bytes are
 * percent-encoded rather than let a stored value turn a request into a 500.
 */
export function utf8ToHeader(value: string): string {
  return Buffer.from(value, 'utf8')
    .toString('latin1')
    .replace(
      NOT_IN_HEADER,
      (byte) => `%${byte.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`,
    );
}
