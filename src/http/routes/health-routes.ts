import { HeraldError } from '../../core/errors.ts';
import type { RouteContext } from '../context.ts';
import type { HubResponse } from '../http-message.ts';

// A readiness probe that hangs is as bad as a failing one: answer within this.
const PROBE_TIMEOUT_MS = 1_000;

/** `GET /healthz`: the process is up and serving HTTP. */
export function handleHealth(res: HubResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end('ok');
}

/** `GET /readyz`: the history backend answers, so publishes can be stored and acknowledged. */
export async function handleReady(context: RouteContext, res: HubResponse): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      context.probeBackend(),
      new Promise((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`));
        }, PROBE_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    throw new HeraldError(
      'HERALD_ERR_BACKEND_UNAVAILABLE',
      `Not ready: the history backend does not answer (${error instanceof Error ? error.message : String(error)}).`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end('ready');
}

/** `GET /metrics`: Prometheus text format. */
export async function handleMetrics(context: RouteContext, res: HubResponse): Promise<void> {
  const body = await context.metricsExposition();
  res.writeHead(200, {
    'Content-Type': context.metrics.registry.contentType,
    'Cache-Control': 'no-store',
  });
  res.end(body);
}
