import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import type { TestContext } from 'node:test';

export interface LoadBalancer {
  /** The loopback port clients connect to. */
  readonly port: number;
  /** The backend port new connections go to; open connections stay where they are. */
  target: number;
  /** The backend port of every connection accepted so far, in order. */
  readonly routed: number[];
  /** Destroys every open connection, as a network failure would; returns how many. */
  cutAll(): number;
}

/**
 * A TCP load balancer on a loopback port in front of cluster nodes: each new connection goes
 * to `target`, which a test moves from node to node. It lets a real client keep one URL while
 * its connections are cut and re-routed, as behind a real balancer when a node fails.
 */
export async function startLoadBalancer(t: TestContext, target: number): Promise<LoadBalancer> {
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client) => {
    const port = balancer.target;
    balancer.routed.push(port);
    const upstream = connect(port, '127.0.0.1');
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
  const balancer: LoadBalancer = {
    port: (server.address() as AddressInfo).port,
    target,
    routed: [],
    cutAll() {
      const count = pairs.size;
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
      return count;
    },
  };
  t.after(async () => {
    balancer.cutAll();
    server.close();
    await once(server, 'close');
  });
  return balancer;
}
