import type { TestContext } from 'node:test';
import { startLoadBalancer } from '../support/load-balancer.ts';

export interface TcpProxy {
  readonly port: number;
  /** Connections cut so far. */
  cuts: number;
  /** Destroys every connection going through the proxy, as a network failure would. */
  cutAll(): void;
}

/**
 * A TCP proxy on a loopback port 0 in front of `targetPort`, to cut connections at will: the
 * cluster tests' load balancer with a target that never moves.
 */
export async function startTcpProxy(t: TestContext, targetPort: number): Promise<TcpProxy> {
  const balancer = await startLoadBalancer(t, targetPort);
  const proxy: TcpProxy = {
    port: balancer.port,
    cuts: 0,
    cutAll() {
      proxy.cuts += balancer.cutAll();
    },
  };
  return proxy;
}
