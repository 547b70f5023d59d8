/*
 * The `Date` header's value (RFC 9110 §6.6.1), rebuilt at most once a second: a reconnect storm
 * opens thousands of streams a second, and each head carries it.
 */
let second = -1;
let value = '';

/** Now, as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`). */
export function httpDate(): string {
  const now = Date.now();
  const current = Math.floor(now / 1000);
  if (current !== second) {
    second = current;
    value = new Date(now).toUTCString();
  }
  return value;
}
