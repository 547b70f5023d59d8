import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeraldError } from '../core/errors.ts';
import type { RouteContext } from './context.ts';
import { answerPreflight, applyCors } from './cors.ts';
import { sendProblem } from './problem.ts';
import { handlePublish } from './publish-route.ts';
import { handleSubscribe } from './subscribe-route.ts';

export const HUB_PATH = '/.well-known/mercure';

/** Routes a request and turns every thrown error into a problem response. */
export function createRequestHandler(
  context: RouteContext,
  onInternalError: (error: unknown) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  const corsOrigins = new Set(context.config.corsOrigins);

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The host is irrelevant to routing; a fixed base keeps a hostile Host header out of URL parsing.
    const url = new URL(req.url ?? '/', 'http://herald.invalid');
    applyCors(req, res, corsOrigins);
    if (context.closing()) {
      throw new HeraldError(
        'HERALD_ERR_SHUTTING_DOWN',
        'The hub is shutting down; retry on another node or shortly.',
      );
    }
    if (url.pathname === HUB_PATH) {
      switch (req.method) {
        case 'GET':
          return handleSubscribe(context, req, res, url);
        case 'POST':
          return handlePublish(context, req, res, url);
        case 'OPTIONS':
          answerPreflight(res);
          return;
        default:
          throw new HeraldError(
            'HERALD_ERR_METHOD_NOT_ALLOWED',
            `${req.method ?? 'This method'} is not allowed here; use GET to subscribe or POST to publish.`,
          );
      }
    }
    if (url.pathname === '/healthz' && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return;
    }
    throw new HeraldError('HERALD_ERR_NOT_FOUND', `Nothing is served at ${url.pathname}.`);
  }

  return (req, res) => {
    route(req, res).catch((error: unknown) => {
      if (!(error instanceof HeraldError)) onInternalError(error);
      const headers: Record<string, string> = {};
      if (error instanceof HeraldError && error.code === 'HERALD_ERR_METHOD_NOT_ALLOWED') {
        headers['Allow'] = 'GET, POST, OPTIONS';
      }
      // A refusal may come before the body was received: close rather than reuse the connection.
      if (!req.complete) headers['Connection'] = 'close';
      sendProblem(res, error, headers);
    });
  };
}
