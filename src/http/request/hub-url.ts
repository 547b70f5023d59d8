import type { HubRequest } from '../http-message.ts';

import { HUB_PATH } from '../../core/reserved-namespace.ts';

export { HUB_PATH };

/** The hub URL when a request names no usable host (HTTP/1.0 without `Host`, or a hostile one). */
export const FALLBACK_HUB_URL = `http://herald.invalid${HUB_PATH}`;

// What a Host (or :authority) value may hold: a name or an IPv4/IPv6 literal, and a port.
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The hub URL a request reached, as draft-08 uses it: the base against which relative URL
 * Patterns and relative topics resolve. Like the reference hub, Herald derives it from each
 * request (scheme and `Host`), so a hub reachable under several names needs no configuration.
 * A Host that is not a plain host[:port] gives the fallback, so it cannot smuggle a path in.
 */
export function hubUrlOf(req: HubRequest, tls: boolean): string {
  const authority = req.headers[':authority'] ?? req.headers.host;
  if (typeof authority !== 'string') return FALLBACK_HUB_URL;
  // Nearly every request of a hub names the same host: the last answer, per scheme, is kept.
  const last = tls ? lastHttps : lastHttp;
  if (last.authority === authority) return last.hubUrl;
  const hubUrl = derive(authority, tls);
  if (tls) lastHttps = { authority, hubUrl };
  else lastHttp = { authority, hubUrl };
  return hubUrl;
}

let lastHttp = { authority: '', hubUrl: FALLBACK_HUB_URL };
let lastHttps = { authority: '', hubUrl: FALLBACK_HUB_URL };

function derive(authority: string, tls: boolean): string {
  if (!HOST.test(authority)) return FALLBACK_HUB_URL;
  try {
    return `${new URL(`${tls ? 'https' : 'http'}://${authority}`).origin}${HUB_PATH}`;
  } catch {
    return FALLBACK_HUB_URL;
  }
}
