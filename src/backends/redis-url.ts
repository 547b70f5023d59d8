/**
 * Redis connection URLs as `--store` takes them: `redis://[user:pass@]host:port[/db]`, or
 * `rediss://` for TLS. Checked before anything connects, so that a typo is reported as such
 * rather than as an unreachable server; and shown only without the password.
 */
export function checkRedisUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'it is not a URL';
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    return 'it must start with redis:// or rediss:// (TLS)';
  }
  if (url.hostname === '') return 'it names no host';
  if (url.pathname !== '' && url.pathname !== '/' && !/^\/[0-9]{1,5}$/.test(url.pathname)) {
    return 'the path may only be a database number, e.g. /0';
  }
  if (url.search !== '' || url.hash !== '') return 'it must not have a query or a fragment';
  return undefined;
}

/** The URL with its password masked, for messages and logs. */
export function redactRedisUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password !== '') url.password = '***';
    return url.href;
  } catch {
    return '(unparsable URL)';
  }
}
