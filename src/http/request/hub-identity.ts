import type { HeraldConfig } from '../../config.ts';
import type { HubRequest } from '../http-message.ts';
import { HUB_PATH, hubUrlOf } from './hub-url.ts';

/** RFC 9728 §3.1: the metadata of a resource lives under this prefix of its path. */
export const METADATA_PREFIX = '/.well-known/oauth-protected-resource';

/** Who the hub is to the client of one request. */
export interface HubIdentity {
  /** The hub's URL as the request reached it: relative URL patterns resolve against it. */
  readonly hubUrl: string;
  /** The OAuth resource identifier access tokens' `aud` must hold. */
  readonly resource: string;
  /** Where the protected resource metadata of `resource` is (RFC 9728), for challenges. */
  readonly metadataUrl: string;
}

/**
 * The hub's identity for a request. A configured resource identifier wins; otherwise it is the
 * hub's URL built from the request's Host (as the reference hub does), which lets a hub reachable
 * by several names work unconfigured but lets a client choose the audience checked: operators who
 * share signing keys between hubs set `resourceIdentifier` (docs/protocol.md).
 */
export function hubIdentity(config: HeraldConfig, req: HubRequest): HubIdentity {
  // A Host that is not a plain host[:port] gives a fallback: nothing of it reaches the URLs, nor
  // the quoted challenge parameter.
  const hubUrl = hubUrlOf(req, config.tls !== null);
  // A pure function of the configuration and the hub URL, which rarely changes: the last kept.
  if (last !== undefined && last.config === config && last.identity.hubUrl === hubUrl) {
    return last.identity;
  }
  const { origin } = new URL(hubUrl);
  const resource = config.resourceIdentifier ?? hubUrl;
  const identity = Object.freeze({
    hubUrl,
    resource,
    metadataUrl: metadataUrlOf(resource, origin),
  });
  last = { config, identity };
  return identity;
}

let last: { readonly config: HeraldConfig; readonly identity: HubIdentity } | undefined;

/**
 * RFC 9728 §3.1: the well-known prefix goes between a URL resource identifier's host and path.
 * A resource identifier that is not an http(s) URL has no derived location: the metadata is then
 * found under the hub's own path, where Herald serves it.
 */
function metadataUrlOf(resource: string, origin: string): string {
  let url: URL | undefined;
  try {
    url = new URL(resource);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    return `${origin}${METADATA_PREFIX}${HUB_PATH}`;
  }
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.origin}${METADATA_PREFIX}${path}${url.search}`;
}

/**
 * The paths Herald serves the metadata at: the one derived from its own hub path, and the one
 * derived from a configured resource identifier when that differs (a hub behind a path prefix).
 */
export function metadataPaths(config: HeraldConfig): ReadonlySet<string> {
  const paths = new Set([`${METADATA_PREFIX}${HUB_PATH}`]);
  if (config.resourceIdentifier !== null) {
    try {
      const url = new URL(config.resourceIdentifier);
      if (url.protocol === 'https:' || url.protocol === 'http:') {
        paths.add(`${METADATA_PREFIX}${url.pathname === '/' ? '' : url.pathname}`);
      }
    } catch {
      // Not a URL: only the hub-derived path.
    }
  }
  return paths;
}
