/**
 * Redis connection URLs as `--store` takes them:
 * - `redis://[user:pass@]host:port[/db]`, or `rediss://` for TLS: one server;
 * - `redis+sentinel://[user:pass@]host:port,host:port/mymaster[?db=N]`, or `rediss+sentinel://`
 *   for TLS: the master of the group `mymaster`, as the listed Sentinels name it (the port
 *   defaults to 26379). The credentials are the Redis servers', not the Sentinels'.
 *
 * Checked before anything connects, so that a typo is reported as such rather than as an
 * unreachable server; and shown only without the password.
 */
export function checkRedisUrl(value: string): string | undefined {
  if (SENTINEL_SCHEME.test(value)) {
    const parsed = parseSentinelUrl(value);
    return typeof parsed === 'string' ? parsed : undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'it is not a URL';
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    return 'it must start with redis:// or rediss:// (TLS), or redis+sentinel:// or rediss+sentinel://';
  }
  if (url.hostname === '') return 'it names no host';
  if (url.pathname !== '' && url.pathname !== '/' && !/^\/[0-9]{1,5}$/.test(url.pathname)) {
    return 'the path may only be a database number, e.g. /0';
  }
  if (url.search !== '' || url.hash !== '') return 'it must not have a query or a fragment';
  return undefined;
}

/** True for the URL forms that name Sentinels rather than one server. */
export function isSentinelUrl(value: string): boolean {
  return SENTINEL_SCHEME.test(value);
}

/** What a Sentinel URL says, in the terms ioredis's Sentinel support takes. */
export interface SentinelTarget {
  readonly sentinels: readonly { readonly host: string; readonly port: number }[];
  /** The master group name the Sentinels monitor. */
  readonly name: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly db: number;
  readonly tls: boolean;
}

const SENTINEL_SCHEME = /^rediss?\+sentinel:/i;
const SENTINEL_URL =
  /^(rediss?)\+sentinel:\/\/(?:([^@/?#]*)@)?([^/?#]*)(?:\/([^/?#]*))?(?:\?([^#]*))?(#.*)?$/i;
const DEFAULT_SENTINEL_PORT = 26379;

/** The Sentinel URL's parts, or why it cannot be used (the same wording as `checkRedisUrl`). */
export function parseSentinelUrl(value: string): SentinelTarget | string {
  const match = SENTINEL_URL.exec(value);
  if (match === null) return 'it is not a URL';
  const [, scheme = '', userinfo, hostList = '', name = '', query, fragment] = match;
  if (fragment !== undefined) return 'it must not have a fragment';
  if (hostList === '') return 'it names no host';
  const sentinels: { host: string; port: number }[] = [];
  for (const item of hostList.split(',')) {
    const address = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::([0-9]{1,5}))?$/i.exec(item);
    if (address === null) return `"${item}" is not a Sentinel address (host:port)`;
    const port = address[2] === undefined ? DEFAULT_SENTINEL_PORT : Number(address[2]);
    if (port < 1 || port > 65_535) return `"${item}" has no valid port`;
    sentinels.push({ host: (address[1] ?? '').replace(/^\[|\]$/g, ''), port });
  }
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    return 'the path must name the master group the Sentinels monitor, e.g. /mymaster';
  }
  let db = 0;
  if (query !== undefined && query !== '') {
    const dbMatch = /^db=([0-9]{1,5})$/.exec(query);
    if (dbMatch === null) return 'the query may only be a database number, e.g. ?db=0';
    db = Number(dbMatch[1]);
  }
  let username: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    try {
      username = decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon)) || undefined;
      password = colon < 0 ? undefined : decodeURIComponent(userinfo.slice(colon + 1)) || undefined;
    } catch {
      return 'its user or password is not properly percent-encoded';
    }
  }
  return {
    sentinels,
    name,
    username,
    password,
    db,
    tls: scheme.toLowerCase() === 'rediss',
  };
}

/** The URL with its password masked, for messages and logs. */
export function redactRedisUrl(value: string): string {
  if (SENTINEL_SCHEME.test(value)) {
    // Not a WHATWG URL (several hosts): mask what lies between the user's colon and the `@`.
    return value.replace(/^([^:]+:\/\/[^:@/?#]*:)[^@/?#]+@/, '$1***@');
  }
  try {
    const url = new URL(value);
    if (url.password !== '') url.password = '***';
    return url.href;
  } catch {
    return '(unparsable URL)';
  }
}
