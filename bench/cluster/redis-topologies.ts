/**
 * The Redis deployments the cluster benchmark can put behind its Herald nodes, each started for
 * one configuration and stopped after it (every process by its pid, its directory removed):
 *
 * - `single`: one redis-server of the benchmark's own;
 * - `sentinel`: a master, one replica and three Sentinels (test/support/sentinel-topology.ts);
 * - `cluster`: a Redis Cluster of three masters and three replicas (test/support/redis-cluster.ts).
 *
 * All three run redis-server 7 with the same settings (no RDB snapshots, no AOF), so that what
 * differs between them is the topology: replication, Sentinel discovery, cluster routing.
 * Like the machine's Redis, none is pinned to a CPU (the benchmark itself runs pinned, and its
 * children would inherit that).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/support/private-redis.ts';
import { RedisCluster } from '../../test/support/redis-cluster.ts';
import { RedisProcess, SentinelTopology } from '../../test/support/sentinel-topology.ts';

export type Topology = 'single' | 'sentinel' | 'cluster';

export const TOPOLOGIES: readonly Topology[] = ['single', 'sentinel', 'cluster'];

export interface RunningTopology {
  /** What `--store` takes to reach it. */
  readonly url: string;
  /** The redis-server processes (not the Sentinels), whose CPU the benchmark counts. */
  serverPids(): number[];
  stop(): Promise<void>;
}

export async function startTopology(topology: Topology): Promise<RunningTopology> {
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    switch (topology) {
      case 'single': {
        const dir = mkdtempSync(join(tmpdir(), 'herald-bench-redis-'));
        const port = await freePort();
        const server = new RedisProcess('redis-server', port, dir, [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
          '--logfile',
          join(dir, 'redis.log'),
        ]);
        cleanups.push(async () => {
          await server.stop('SIGKILL');
          rmSync(dir, { recursive: true, force: true });
        });
        await server.start();
        unpin([server]);
        return { url: `redis://127.0.0.1:${port}`, serverPids: () => pids([server]), stop };
      }
      case 'sentinel': {
        const sentinel = await SentinelTopology.start({
          after: (cleanup) => cleanups.push(cleanup),
        });
        unpin([...sentinel.servers, ...sentinel.sentinels]);
        return { url: sentinel.url, serverPids: () => pids(sentinel.servers), stop };
      }
      case 'cluster': {
        const cluster = await RedisCluster.start((cleanup) => cleanups.push(cleanup));
        unpin(cluster.servers);
        return { url: cluster.url, serverPids: () => pids(cluster.servers), stop };
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
}

function pids(servers: readonly RedisProcess[]): number[] {
  return servers.flatMap((server) => (server.pid === undefined ? [] : [server.pid]));
}

/** Lets the processes run on every CPU (all their threads), whatever the benchmark's pinning. */
function unpin(processes: readonly RedisProcess[]): void {
  for (const pid of pids(processes)) {
    try {
      const all = `0-${String(cpus().length - 1)}`;
      execFileSync('taskset', ['-a', '-p', '-c', all, String(pid)], { stdio: 'ignore' });
    } catch {
      // No taskset (or one CPU): nothing was pinned either.
    }
  }
}
