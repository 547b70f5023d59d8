import type { RouteContext } from '../context.ts';
import type { HubRequest, HubResponse } from '../http-message.ts';
import { FALLBACK_HUB_URL, HUB_PATH, hubUrlOf } from '../request/hub-url.ts';

/**
 * `GET /`: where someone lands who types the hub's address into a browser. With the web UI on,
 * it is one redirect away; otherwise a short text says what this is and where the hub is,
 * rather than a JSON 404 that looks like a broken server.
 */
export function handleRoot(context: RouteContext, req: HubRequest, res: HubResponse): void {
  if (context.ui !== undefined) {
    res.writeHead(302, { Location: '/ui/', 'Cache-Control': 'no-store' });
    res.end();
    return;
  }
  const reached = hubUrlOf(req, context.config.tls !== null);
  // A request without a usable Host gets the path alone, not a made-up host.
  const hubUrl = reached === FALLBACK_HUB_URL ? HUB_PATH : reached;
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(
    [
      'Herald: a Mercure hub.',
      '',
      `Hub URL: ${hubUrl}`,
      `  subscribe: GET ${HUB_PATH}?topic=<topic or URI template> (Server-Sent Events)`,
      `  publish:   POST ${HUB_PATH} with a publisher token`,
      'Health: /healthz and /readyz; metrics: /metrics.',
      '',
    ].join('\n'),
  );
}
