import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './private-redis.ts';
import { waitFor } from './wait.ts';

/** The master group name the test's Sentinels monitor. */
export const MASTER_NAME = 'herald-test';

/** One redis-server or redis-sentinel process of the test's own, stopped by its pid. */
export class RedisProcess {
  readonly port: number;
  readonly #dir: string;
  readonly #command: string;
  #args: string[];
  #child: ChildProcess | undefined;

  constructor(command: string, port: number, dir: string, args: string[]) {
    this.#command = command;
    this.port = port;
    this.#dir = dir;
    this.#args = args;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Starts the process (again, with `args` if given) and waits until it answers PING. */
  async start(args?: string[]): Promise<void> {
    if (this.#child !== undefined) throw new Error(`port ${this.port} is running already`);
    if (args !== undefined) this.#args = args;
    const child = spawn(this.#command, this.#args, { stdio: 'ignore', cwd: this.#dir });
    this.#child = child;
    child.once('exit', () => {
      if (this.#child === child) this.#child = undefined;
    });
    await waitFor(async () => (await this.call('PING')) === 'PONG', {
      message: `${this.#command} on port ${this.port} to answer`,
    });
  }

  /** Stops the process with `signal` (SIGKILL: a crash) and waits until it has exited. */
  async stop(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
    this.#child = undefined;
  }

  /** One command on a fresh connection; `undefined` when the process does not answer. */
  async call(...command: [string, ...(string | number)[]]): Promise<unknown> {
    const probe = new Redis({
      host: '127.0.0.1',
      port: this.port,
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      connectTimeout: 1_000,
      commandTimeout: 1_000,
    });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      return await probe.call(...command);
    } catch {
      return undefined;
    } finally {
      probe.disconnect();
    }
  }
}

/**
 * A replicated Redis watched by Sentinels, all real processes on free loopback ports: a master,
 * one replica, and three Sentinels (quorum 2) that declare the master down after 1 s without
 * an answer and promote the replica. Every process is stopped by its pid when the test ends.
 */
export class SentinelTopology {
  /** The redis-servers: the first starts as master, the second as its replica. */
  readonly servers: readonly [RedisProcess, RedisProcess];
  readonly sentinels: readonly RedisProcess[];

  private constructor(servers: [RedisProcess, RedisProcess], sentinels: RedisProcess[]) {
    this.servers = servers;
    this.sentinels = sentinels;
  }

  /** `t` is the test's context, or anything that runs cleanups at the end (a benchmark). */
  /** `t` is the test's context, or anything that runs cleanups at the end (a benchmark). */
  static async start(t: { after(cleanup: () => Promise<void>): void }): Promise<SentinelTopology> {
    const dir = mkdtempSync(join(tmpdir(), 'herald-sentinel-'));
    const all: RedisProcess[] = [];
    t.after(async () => {
      await Promise.all(all.map((process) => process.stop('SIGKILL')));
      rmSync(dir, { recursive: true, force: true });
    });
    const serverArgs = (port: number, name: string) => [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--dbfilename',
      `${name}.rdb`,
      '--save',
      '',
      '--appendonly',
      'no',
      // A replica joining is synced at once, not after the default 5 s wait for others.
      '--repl-diskless-sync-delay',
      '0',
      '--logfile',
      join(dir, `${name}.log`),
    ];
    const [masterPort, replicaPort] = [await freePort(), await freePort()];
    const master = new RedisProcess('redis-server', masterPort, dir, serverArgs(masterPort, 'a'));
    const replica = new RedisProcess('redis-server', replicaPort, dir, [
      ...serverArgs(replicaPort, 'b'),
      '--replicaof',
      '127.0.0.1',
      String(masterPort),
    ]);
    all.push(master, replica);
    await master.start();
    await replica.start();
    await waitFor(
      async () => /master_link_status:up/.test(String(await replica.call('INFO', 'replication'))),
      { message: 'the replica to be in sync' },
    );

    const sentinels: RedisProcess[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const config = join(dir, `sentinel-${i}.conf`);
      // Sentinel rewrites its configuration file: each gets a writable one of its own.
      writeFileSync(
        config,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `logfile ${join(dir, `sentinel-${i}.log`)}`,
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
          `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
          `sentinel failover-timeout ${MASTER_NAME} 3000`,
          `sentinel parallel-syncs ${MASTER_NAME} 1`,
          '',
        ].join('\n'),
      );
      const sentinel = new RedisProcess('redis-sentinel', port, dir, [config]);
      all.push(sentinel);
      sentinels.push(sentinel);
    }
    await Promise.all(sentinels.map((sentinel) => sentinel.start()));
    // Ready once every Sentinel knows the replica and the two other Sentinels: only then can
    // they agree on a failover.
    for (const sentinel of sentinels) {
      await waitFor(
        async () => {
          const replicas = (await sentinel.call('SENTINEL', 'REPLICAS', MASTER_NAME)) as
            unknown[] | undefined;
          const peers = (await sentinel.call('SENTINEL', 'SENTINELS', MASTER_NAME)) as
            unknown[] | undefined;
          return replicas?.length === 1 && peers?.length === 2;
        },
        { message: 'the Sentinels to know the replica and each other' },
      );
    }
    return new SentinelTopology([master, replica], sentinels);
  }

  /** `redis+sentinel://…/herald-test`, naming every Sentinel. */
  get url(): string {
    const hosts = this.sentinels.map((sentinel) => `127.0.0.1:${sentinel.port}`).join(',');
    return `redis+sentinel://${hosts}/${MASTER_NAME}`;
  }

  /** The server the Sentinels name as master (asking the first that answers). */
  async master(): Promise<RedisProcess> {
    for (const sentinel of this.sentinels) {
      const address = (await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as
        [string, string] | undefined;
      const server = this.servers.find((s) => String(s.port) === address?.[1]);
      if (server !== undefined) return server;
    }
    throw new Error('no Sentinel names a master');
  }

  /**
   * Waits until the Sentinels have promoted another server than `old` and it acts as master.
   * Returns the new master.
   */
  async failedOver(old: RedisProcess, timeoutMs = 30_000): Promise<RedisProcess> {
    return waitFor(
      async () => {
        const named = await this.master();
        if (named === old) return undefined;
        const role = (await named.call('ROLE')) as unknown[] | undefined;
        return role?.[0] === 'master' ? named : undefined;
      },
      { message: 'the Sentinels to promote the replica', timeout: timeoutMs },
    );
  }

  /**
   * Starts a stopped server again as a replica of the current master (as an operator's
   * configuration management would after a failover) and waits until the master counts it.
   */
  async rejoin(server: RedisProcess, name: string): Promise<void> {
    const master = await this.master();
    await server.start([
      '--port',
      String(server.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dbfilename',
      `${name}.rdb`,
      '--logfile',
      `${name}.log`,
      '--replicaof',
      '127.0.0.1',
      String(master.port),
    ]);
    await waitFor(
      async () =>
        new RegExp(`slave[0-9]+:ip=127\\.0\\.0\\.1,port=${server.port},state=online`).test(
          String(await master.call('INFO', 'replication')),
        ),
      { message: 'the old master to be in sync as a replica' },
    );
  }
}
