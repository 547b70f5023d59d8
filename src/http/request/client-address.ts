import { BlockList, isIP } from 'node:net';
import type { HubRequest } from '../http-message.ts';

/**
 * Parses proxy addresses and CIDR ranges (`10.0.0.5`, `10.0.0.0/8`, `fd00::/8`) into the set of
 * proxies whose `X-Forwarded-For` is believed. Throws a RangeError naming the option (`name`)
 * and the bad entry.
 */
export function trustedProxySet(
  entries: readonly string[],
  name = 'trustedProxies',
): BlockList | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const bits = prefix === undefined ? undefined : Number(prefix);
    const max = family === 6 ? 128 : 32;
    if (
      family === 0 ||
      extra !== undefined ||
      (bits !== undefined && (!/^[0-9]{1,3}$/.test(prefix ?? '') || bits > max))
    ) {
      throw new RangeError(
        `${name} must list IP addresses or CIDR ranges such as 10.0.0.5, 10.0.0.0/8 or fd00::/8; got "${entry}".`,
      );
    }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
  }
  return list;
}

/**
 * The client's address: the socket's peer, unless that peer is a trusted proxy. Then the
 * `X-Forwarded-For` entries are read from the right (each proxy appends the address it saw),
 * skipping trusted proxies; the first other address is the client. Entries further left were
 * written by the client itself and are never believed.
 */
export function clientAddress(req: HubRequest, trusted: BlockList | undefined): string {
  const peer = plainAddress(req.socket.remoteAddress ?? '');
  if (trusted === undefined || !isTrusted(trusted, peer)) return peer;
  const header = req.headers['x-forwarded-for'];
  if (typeof header !== 'string') return peer;
  const hops = header.split(',').map((hop) => plainAddress(hop.trim()));
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] ?? '';
    // Something that is not an address cannot be told apart from a forgery: count the proxy.
    if (isIP(hop) === 0) return peer;
    if (!isTrusted(trusted, hop) || i === 0) return hop;
  }
  return peer;
}

/**
 * The key a client's streams are counted under: an IPv4 address, or the /64 prefix of an IPv6
 * address (one subscriber network gets a /64, so any single address of it is free to use).
 */
export function clientKey(address: string): string {
  if (isIP(address) !== 6) return address;
  return `${ipv6Groups(address).slice(0, 4).join(':')}::/64`;
}

function isTrusted(trusted: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, as dual-stack sockets report) as IPv4. */
function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

/** The eight 16-bit groups of a valid IPv6 address, in lowercase hex without leading zeros. */
function ipv6Groups(address: string): string[] {
  const [text = ''] = address.split('%'); // a zone, as in fe80::1%eth0
  const words = (part: string): string[] => {
    if (part === '') return [];
    return part.split(':').flatMap((word) => {
      if (!word.includes('.')) return [word];
      const [a = 0, b = 0, c = 0, d = 0] = word.split('.').map(Number);
      return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
    });
  };
  const [left = '', right] = text.split('::');
  const head = words(left);
  const tail = right === undefined ? [] : words(right);
  const zeros = Array.from({ length: 8 - head.length - tail.length }, () => '0');
  return [...head, ...zeros, ...tail].map((word) => parseInt(word, 16).toString(16));
}
