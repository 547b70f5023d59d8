import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './private-redis.ts';
import { RedisProcess } from './sentinel-topology.ts';
import { waitFor } from './wait.ts';

const run = promisify(execFile);

/** How long a cluster node may be silent before the others count it as failing. */
const NODE_TIMEOUT_MS = 1_000;

/**
 * A Redis Cluster of the test's own, real processes on free loopback ports: three masters and
 * three replicas (one each), joined by `redis-cli --cluster create`. A master silent for 1 s
 * is failed by the others and its replica promoted. Every process is stopped by its pid and
 * the directory removed when the test (or file) ends, through `onEnd`.
 */
export class RedisCluster {
  readonly servers: readonly RedisProcess[];
  readonly #args: Map<RedisProcess, string[]>;

  private constructor(servers: RedisProcess[], args: Map<RedisProcess, string[]>) {
    this.servers = servers;
    this.#args = args;
  }

  static async start(onEnd: (cleanup: () => Promise<void>) => void): Promise<RedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'herald-cluster-'));
    const servers: RedisProcess[] = [];
    onEnd(async () => {
      await Promise.all(servers.map((server) => server.stop('SIGKILL')));
      rmSync(dir, { recursive: true, force: true });
    });
    const args = new Map<RedisProcess, string[]>();
    for (let i = 0; i < 6; i++) {
      const [port, busPort] = [await freePort(), await freePort()];
      const serverArgs = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--cluster-enabled',
        'yes',
        '--cluster-port',
        String(busPort),
        // Where the node keeps its view of the cluster: a restarted node rejoins with it.
        '--cluster-config-file',
        `nodes-${i}.conf`,
        '--cluster-node-timeout',
        String(NODE_TIMEOUT_MS),
        '--dbfilename',
        `node-${i}.rdb`,
        '--save',
        '',
        '--appendonly',
        'no',
        '--repl-diskless-sync-delay',
        '0',
        '--logfile',
        join(dir, `node-${i}.log`),
      ];
      const server = new RedisProcess('redis-server', port, dir, serverArgs);
      servers.push(server);
      args.set(server, serverArgs);
    }
    await Promise.all(servers.map((server) => server.start()));
    // The first three become masters, each of the others a replica of one of them.
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...servers.map((server) => `127.0.0.1:${server.port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { timeout: 60_000 },
    );
    const cluster = new RedisCluster(servers, args);
    await cluster.healthy();
    return cluster;
  }

  /** `redis+cluster://…` naming the three first nodes (any one would do). */
  get url(): string {
    const nodes = this.servers.slice(0, 3).map((server) => `127.0.0.1:${server.port}`);
    return `redis+cluster://${nodes.join(',')}`;
  }

  /**
   * Waits until every running node says the cluster is ok and knows three masters, each
   * followed by a replica in sync.
   */
  async healthy(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      async () => {
        const running = this.servers.filter((server) => server.running);
        for (const server of running) {
          const info = String(await server.call('CLUSTER', 'INFO'));
          if (!/cluster_state:ok/.test(info) || !/cluster_size:3/.test(info)) return undefined;
        }
        const roles = await Promise.all(running.map((server) => server.call('ROLE')));
        const masters = roles.filter((role) => (role as unknown[] | undefined)?.[0] === 'master');
        const replicas = roles.filter((role) => (role as unknown[] | undefined)?.[0] === 'slave');
        const inSync = replicas.every((role) => (role as unknown[])[3] === 'connected');
        return masters.length === 3 && replicas.length === 3 && inSync;
      },
      {
        timeout: timeoutMs,
        message: 'the cluster to be ok, with three masters each followed by a replica in sync',
      },
    );
  }

  /** The slot Redis places `key` in. */
  async slotOf(key: string): Promise<number> {
    for (const server of this.servers.filter((s) => s.running)) {
      const slot = await server.call('CLUSTER', 'KEYSLOT', key);
      if (typeof slot === 'number') return slot;
    }
    throw new Error('no cluster node answers');
  }

  /** The server that a running node names as master of `slot` (asking each until one says). */
  async masterOf(slot: number): Promise<RedisProcess | undefined> {
    for (const server of this.servers.filter((s) => s.running)) {
      const ranges = (await server.call('CLUSTER', 'SLOTS')) as
        [number, number, [string, number, ...unknown[]], ...unknown[]][] | undefined;
      const range = ranges?.find(([first, last]) => first <= slot && slot <= last);
      if (range === undefined) continue;
      return this.servers.find((s) => s.port === range[2][1]);
    }
    return undefined;
  }

  /**
   * Waits until the cluster has promoted another server than `old` for `slot`, and that server
   * acts as master. Returns it.
   */
  async failedOver(old: RedisProcess, slot: number, timeoutMs = 30_000): Promise<RedisProcess> {
    return waitFor(
      async () => {
        const named = await this.masterOf(slot);
        if (named === undefined || named === old) return undefined;
        const role = (await named.call('ROLE')) as unknown[] | undefined;
        const info = String(await named.call('CLUSTER', 'INFO'));
        return role?.[0] === 'master' && /cluster_state:ok/.test(info) ? named : undefined;
      },
      { timeout: timeoutMs, message: `the cluster to promote a replica for slot ${slot}` },
    );
  }

  /**
   * Starts a stopped server again with its own configuration: it rejoins the cluster with the
   * node id it had and, having been failed over, as a replica of its successor.
   */
  async restart(server: RedisProcess): Promise<void> {
    await server.start(this.#args.get(server));
  }

  /** Deletes every key starting with `prefix` on every running master (SCAN + UNLINK). */
  async deleteKeys(prefix: string): Promise<void> {
    for (const server of this.servers.filter((s) => s.running)) {
      const redis = new Redis({
        host: '127.0.0.1',
        port: server.port,
        lazyConnect: true,
        maxRetriesPerRequest: 1,
      });
      redis.on('error', () => undefined);
      try {
        await redis.connect();
        if ((await redis.role())[0] !== 'master') continue;
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(
            cursor,
            'MATCH',
            `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`,
            'COUNT',
            1000,
          );
          cursor = next;
          // All of one hub's keys share a slot: one UNLINK takes them.
          if (keys.length > 0) await redis.unlink(...keys);
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    }
  }
}
