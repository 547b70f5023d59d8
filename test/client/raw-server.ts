import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export interface RawServer {
  readonly url: string;
  /** Every request received, in order, with its headers and the time it arrived. */
  readonly requests: { readonly headers: IncomingMessage['headers']; readonly at: number }[];
}

/**
 * A bare node:http server on a loopback port 0, answering with `handle` (which gets the index of
 * the request), closed with all its connections when the test ends.
 */
export async function startRawServer(
  t: TestContext,
  handle: (req: IncomingMessage, res: ServerResponse, index: number) => void | Promise<void>,
): Promise<RawServer> {
  const requests: RawServer['requests'] = [];
  const server = createServer((req, res) => {
    const index = requests.length;
    requests.push({ headers: req.headers, at: performance.now() });
    void Promise.resolve(handle(req, res, index)).catch(() => res.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/.well-known/mercure`, requests };
}

/** Writes the chunks of an event stream one by one, a pause between them so each is its own read. */
export async function writeChunks(
  res: ServerResponse,
  chunks: readonly (string | Uint8Array)[],
  pauseMs = 15,
): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  for (const chunk of chunks) {
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    if (res.destroyed) return;
    res.write(chunk);
  }
  await new Promise((resolve) => setTimeout(resolve, pauseMs));
  res.end();
}
