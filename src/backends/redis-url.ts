/**
 * Redis connection URLs as `--store` takes them:
 * - `redis://[user:pass@]host:port[/db]`, or `rediss://` for TLS: one server;
 * - `redis+sentinel://[user:pass@]host:port,host:port/mymaster[?db=N]`, or `rediss+sentinel://`
 *   for TLS: the master of the group `mymaster`, as the listed Sentinels name it (the port
 *   defaults to 26379). The credentials are the Redis servers', not the Sentinels'.
 * - `redis+cluster://[user:pass@]host:port,host:port`, or `rediss+cluster://` for TLS: a Redis
 *   Cluster, found through any of the listed nodes (the port defaults to 6379). A cluster has
 *   only database 0, so there is no path.
 *
 * Checked before anything connects, so that a typo is reported as such rather than as an
 * unreachable server; and shown only without the password.
 */
export function checkRedisUrl(value: string): string | undefined {
  if (SENTINEL_SCHEME.test(value)) {
    const parsed = parseSentinelUrl(value);
    return typeof parsed === 'string' ? parsed : undefined;
  }
  if (CLUSTER_SCHEME.test(value)) {
    const parsed = parseClusterUrl(value);
    return typeof parsed === 'string' ? parsed : undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'it is not a URL';
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    return 'it must start with redis:// or rediss:// (TLS), redis+sentinel:// or rediss+sentinel://, or redis+cluster:// or rediss+cluster://';
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
  const sentinels = parseHostList(hostList, 'Sentinel', DEFAULT_SENTINEL_PORT);
  if (typeof sentinels === 'string') return sentinels;
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    return 'the path must name the master group the Sentinels monitor, e.g. /mymaster';
  }
  let db = 0;
  if (query !== undefined && query !== '') {
    const dbMatch = /^db=([0-9]{1,5})$/.exec(query);
    if (dbMatch === null) return 'the query may only be a database number, e.g. ?db=0';
    db = Number(dbMatch[1]);
  }
  const credentials = parseUserinfo(userinfo);
  if (typeof credentials === 'string') return credentials;
  return {
    sentinels,
    name,
    ...credentials,
    db,
    tls: scheme.toLowerCase() === 'rediss',
  };
}

/** True for the URL forms that name Redis Cluster nodes. */
export function isClusterUrl(value: string): boolean {
  return CLUSTER_SCHEME.test(value);
}

/** What a Cluster URL says, in the terms ioredis's Cluster support takes. */
export interface ClusterTarget {
  /** Nodes to ask for the cluster's layout first; the others are found through them. */
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: boolean;
}

const CLUSTER_SCHEME = /^rediss?\+cluster:/i;
const CLUSTER_URL =
  /^(rediss?)\+cluster:\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(\?[^#]*)?(#.*)?$/i;
const DEFAULT_CLUSTER_PORT = 6379;

/** The Cluster URL's parts, or why it cannot be used (the same wording as `checkRedisUrl`). */
export function parseClusterUrl(value: string): ClusterTarget | string {
  const match = CLUSTER_URL.exec(value);
  if (match === null) return 'it is not a URL';
  const [, scheme = '', userinfo, hostList = '', path, query, fragment] = match;
  const nodes = parseHostList(hostList, 'cluster node', DEFAULT_CLUSTER_PORT);
  if (typeof nodes === 'string') return nodes;
  if (path !== undefined && path !== '/') {
    return 'a cluster has only database 0: the URL must not have a path';
  }
  if (query !== undefined || fragment !== undefined) {
    return 'it must not have a query or a fragment';
  }
  const credentials = parseUserinfo(userinfo);
  if (typeof credentials === 'string') return credentials;
  return { nodes, ...credentials, tls: scheme.toLowerCase() === 'rediss' };
}

/** `host:port,host:port` (each port optional; IPv6 in brackets), or why not. */
function parseHostList(
  hostList: string,
  what: string,
  defaultPort: number,
): { host: string; port: number }[] | string {
  if (hostList === '') return 'it names no host';
  const hosts: { host: string; port: number }[] = [];
  for (const item of hostList.split(',')) {
    const address = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::([0-9]{1,5}))?$/i.exec(item);
    if (address === null) return `"${item}" is not a ${what} address (host:port)`;
    const port = address[2] === undefined ? defaultPort : Number(address[2]);
    if (port < 1 || port > 65_535) return `"${item}" has no valid port`;
    hosts.push({ host: (address[1] ?? '').replace(/^\[|\]$/g, ''), port });
  }
  return hosts;
}

/** The percent-decoded `user:password` before the `@`, each `undefined` when empty. */
function parseUserinfo(
  userinfo: string | undefined,
): { username: string | undefined; password: string | undefined } | string {
  if (userinfo === undefined) return { username: undefined, password: undefined };
  const colon = userinfo.indexOf(':');
  try {
    return {
      username: decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon)) || undefined,
      password: colon < 0 ? undefined : decodeURIComponent(userinfo.slice(colon + 1)) || undefined,
    };
  } catch {
    return 'its user or password is not properly percent-encoded';
  }
}

/** The URL with its password masked, for messages and logs. */
export function redactRedisUrl(value: string): string {
  if (SENTINEL_SCHEME.test(value) || CLUSTER_SCHEME.test(value)) {
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
