/**
 * Generates `urn:uuid:` ids from UUIDv7 (RFC 9562): a 48-bit millisecond timestamp, then a
 * 12-bit counter that keeps ids issued within one millisecond in order, then random bits.
 * Ids from one generator therefore sort in the order they were issued, which keeps history
 * readable and makes ids useful as cursors.
 */
export function createIdGenerator(now: () => number = Date.now, after?: string): () => string {
  // Resuming after a stored id (a restart) keeps new ids sorting after it, whatever the clock says.
  // One past the stored id's millisecond, so that even a counter it had used cannot repeat. But a
  // publisher may have stored any id of this form: one that claims a time further ahead than a
  // clock step could explain is not one of ours, and following it would skew every new id (or,
  // past the 48-bit timestamp, make them malformed).
  const stored = after === undefined ? 0 : timestampOf(after);
  let lastMs = stored > 0 && stored <= now() + MAX_CLOCK_STEP_MS ? stored + 1 : 0;
  let counter = 0;
  const random = new Uint8Array(8);
  const hex: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

  return function nextId(): string {
    let ms = now();
    if (ms <= lastMs) {
      // Same millisecond, or the clock stepped back: stay monotonic by counting on from the last id.
      ms = lastMs;
      counter++;
      if (counter > 0xfff) {
        ms++;
        counter = 0;
      }
    } else {
      counter = 0;
    }
    // Unreachable from a real clock (year 10889); kept so that no input can malform an id.
    if (ms > MAX_TIMESTAMP) throw new RangeError('UUIDv7 timestamp exhausted');
    lastMs = ms;
    crypto.getRandomValues(random);
    const timeHex = ms.toString(16).padStart(12, '0');
    const versionAndCounter = (0x7000 | counter).toString(16);
    const variant = hex[((random[0] ?? 0) & 0x3f) | 0x80] ?? '80';
    let tail = '';
    for (let i = 2; i < 8; i++) tail += hex[random[i] ?? 0] ?? '00';
    return (
      `urn:uuid:${timeHex.slice(0, 8)}-${timeHex.slice(8, 12)}-${versionAndCounter}-` +
      `${variant}${hex[random[1] ?? 0] ?? '00'}-${tail}`
    );
  };
}

/** How far ahead of the clock a stored id of ours may be (the clock stepped back since). */
const MAX_CLOCK_STEP_MS = 10 * 60_000;
// The largest 48-bit timestamp: past it an id would no longer be a UUID.
const MAX_TIMESTAMP = 0xffff_ffff_ffff;

/** The millisecond timestamp of one of our ids, or 0 for an id of another form. */
function timestampOf(id: string): number {
  const match = /^urn:uuid:([0-9a-f]{8})-([0-9a-f]{4})-7/.exec(id);
  return match === null ? 0 : parseInt(`${match[1] ?? ''}${match[2] ?? ''}`, 16);
}
