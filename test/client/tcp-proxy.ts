import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import type { TestContext } from 'node:test';

export interface TcpProxy {
  readonly port: number;
  /** Connections cut so far. */
  cuts: number;
  /** Destroys every connection going through the proxy, as a network failure would. */
  cutAll(): void;
}

/** A TCP proxy on a loopback port 0 in front of `targetPort`, to cut connections at will. */
export async function startTcpProxy(t: TestContext, targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const proxy: TcpProxy = {
    port: (server.address() as AddressInfo).port,
    cuts: 0,
    cutAll() {
      for (const [client, upstream] of pairs) {
        proxy.cuts++;
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
  };
  t.after(async () => {
    proxy.cutAll();
    server.close();
    await once(server, 'close');
  });
  return proxy;
}
