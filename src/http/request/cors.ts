import type { HubRequest, HubResponse } from '../http-message.ts';

const ALLOWED_HEADERS = 'Authorization, Cache-Control, Last-Event-ID, Content-Type';

/**
 * The CORS headers of a response to `req`, for an explicit allowlist: an allowed Origin gets
 * itself back with credentials; any other origin gets no CORS headers, so the browser refuses
 * to expose the response.
 */
export function corsHeaders(
  req: HubRequest,
  allowedOrigins: ReadonlySet<string>,
): Record<string, string> {
  const origin = req.headers.origin;
  if (origin === undefined || !allowedOrigins.has(origin)) return { Vary: 'Origin' };
  return {
    Vary: 'Origin',
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Credentials': 'true',
    'Access-Control-Expose-Headers': 'Last-Event-ID, Mercure-Last-Event-ID, Link',
  };
}

/** Answers a preflight request (the CORS headers themselves come from corsHeaders). */
export function answerPreflight(res: HubResponse): void {
  res.writeHead(204, {
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Allow-Headers': ALLOWED_HEADERS,
    'Access-Control-Max-Age': '600',
  });
  res.end();
}
