import { MERCURE_DETAIL_TYPE } from '../../auth/authorization-details.ts';
import { MATCH_TYPES } from '../../core/url-pattern.ts';
import type { RouteContext } from '../context.ts';
import { hubIdentity } from '../request/hub-identity.ts';
import type { HubRequest, HubResponse } from '../http-message.ts';

/**
 * `GET /.well-known/oauth-protected-resource/.well-known/mercure`: the hub's OAuth 2.0 Protected
 * Resource Metadata (RFC 9728) with the members draft-08 defines, so that a client learns the
 * `aud` to ask for, who issues tokens, and how to present them, from the hub URL alone.
 *
 * The document is public and carries no credential-dependent data, so any origin may read it
 * (`Access-Control-Allow-Origin: *`, never with credentials), unlike the hub's credentialed
 * endpoints, which answer only their allowlisted origins.
 */
export function handleResourceMetadata(
  context: RouteContext,
  req: HubRequest,
  res: HubResponse,
): void {
  const { config } = context;
  const { resource } = hubIdentity(config, req);
  const authorizationServers = [
    ...new Set(
      config.trustedIssuers
        .filter((trusted) => trusted.authorizationServer === true)
        .map((trusted) => trusted.issuer),
    ),
  ];
  const document = {
    resource,
    ...(authorizationServers.length === 0 ? {} : { authorization_servers: authorizationServers }),
    // RFC 6750 methods only: the query parameter is never accepted in draft-08, and the cookie
    // is not an RFC 6750 method (it has its own member).
    bearer_methods_supported: ['header'],
    authorization_details_types_supported: [MERCURE_DETAIL_TYPE],
    mercure_cookie: config.accessTokenCookie,
    mercure_matcher_types_supported: MATCH_TYPES,
    ...(config.subscriptions ? { mercure_subscriptions: true } : {}),
  };
  const body = JSON.stringify(document, null, 2);
  publicCors(res);
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    // The document changes only with the configuration.
    'Cache-Control': 'public, max-age=300',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The preflight of a cross-origin metadata fetch: simple GETs only, no credentials. */
export function answerMetadataPreflight(res: HubResponse): void {
  publicCors(res);
  res.writeHead(204, {
    'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
    'Access-Control-Max-Age': '600',
  });
  res.end();
}

/** Replaces the allowlisted, credentialed CORS headers every response gets with public ones. */
function publicCors(res: HubResponse): void {
  res.removeHeader('Access-Control-Allow-Credentials');
  res.removeHeader('Access-Control-Expose-Headers');
  res.removeHeader('Vary');
  res.setHeader('Access-Control-Allow-Origin', '*');
}
