import type { HubRequest, HubResponse } from './http-message.ts';

const ALLOWED_HEADERS = 'Authorization, Cache-Control, Last-Event-ID, Content-Type';

/**
 * CORS for an explicit allowlist: an allowed Origin gets itself back with credentials; any
 * other origin gets no CORS headers, so the browser refuses to expose the response.
 */
export function applyCors(
  req: HubRequest,
  res: HubResponse,
  allowedOrigins: ReadonlySet<string>,
): void {
  res.setHeader('Vary', 'Origin');
  const origin = req.headers.origin;
  if (origin === undefined || !allowedOrigins.has(origin)) return;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  res.setHeader('Access-Control-Expose-Headers', 'Last-Event-ID, Link');
}

/** Answers a preflight request (the CORS headers themselves come from applyCors). */
export function answerPreflight(res: HubResponse): void {
  res.writeHead(204, {
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Allow-Headers': ALLOWED_HEADERS,
    'Access-Control-Max-Age': '600',
  });
  res.end();
}
