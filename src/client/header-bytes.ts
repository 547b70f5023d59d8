/**
 * Header values are byte strings (one character per byte). An id beyond ASCII travels in
 * `Last-Event-ID` as its UTF-8 bytes, as EventSource sends it and as the hub reads it; `fetch`
 * would otherwise send a character such as `é` as one Latin-1 byte, or refuse `日`.
 */
export function toHeaderBytes(text: string): string {
  let bytes = '';
  for (const byte of new TextEncoder().encode(text)) bytes += String.fromCharCode(byte);
  return bytes;
}

/** The reverse of {@link toHeaderBytes}, for header values the hub sends as UTF-8. */
export function fromHeaderBytes(value: string): string {
  const bytes = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) bytes[i] = value.charCodeAt(i) & 0xff;
  return new TextDecoder().decode(bytes);
}
