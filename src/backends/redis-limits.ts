import { createHash, randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import type { RateLimit } from '../core/rate-limiter.ts';
import type { SharedLimitStore } from '../core/shared-limits.ts';
import type { RedisConnection } from './redis-scripts.ts';
import { RedisScript } from './redis-scripts.ts';

/**
 * How long a process's stream counts stand without renewal; it renews every third of it. A
 * process that dies without releasing its streams stops counting within this (docs/operations.md).
 */
export const STREAM_LEASE_MS = 15_000;
/**
 * How long a limits call may wait for Redis before this process decides alone. Shorter than
 * the store's own timeout: a subscriber waits for this before its stream is admitted.
 */
const LIMITS_COMMAND_TIMEOUT_MS = 1_000;

/*
 * Both scripts below read the Redis clock (TIME), so the nodes' clocks never matter.
 *
 * A client's stream counts: KEYS[1] is a hash with one field per process (its random id),
 * whose value is "<count> <expiry in ms, Redis clock>". A field past its expiry is a process
 * that stopped renewing (it died): it is not counted, and is removed when seen. The key itself
 * expires with the newest lease written, so nothing is left behind when every process is gone.
 */

/**
 * ARGV: this process's id, the streams it holds of the client, the limit, the lease. Counts
 * one more for this process if all live processes together hold fewer than the limit.
 * Returns 1 when counted, 0 when not.
 */
const OPEN_STREAM = new RedisScript(`
local key, me = KEYS[1], ARGV[1]
local held, limit, lease = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local total = held
local fields = redis.call('HGETALL', key)
for i = 1, #fields, 2 do
  if fields[i] ~= me then
    local count, expires = string.match(fields[i + 1], '^(%d+) (%d+)$')
    if count == nil or tonumber(expires) <= now then
      redis.call('HDEL', key, fields[i])
    else
      total = total + tonumber(count)
    end
  end
end
if total >= limit then return 0 end
redis.call('HSET', key, me, string.format('%d %d', held + 1, now + lease))
if redis.call('PTTL', key) < lease then redis.call('PEXPIRE', key, lease) end
return 1
`);

/** ARGV: this process's id, its count of the client's streams (0 removes it), the lease. */
const SET_STREAMS = new RedisScript(`
local key, me = KEYS[1], ARGV[1]
local held, lease = tonumber(ARGV[2]), tonumber(ARGV[3])
if held <= 0 then
  redis.call('HDEL', key, me)
  return 0
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('HSET', key, me, string.format('%d %d', held, now + lease))
if redis.call('PTTL', key) < lease then redis.call('PEXPIRE', key, lease) end
return held
`);

/**
 * A publisher's token bucket: KEYS[1] is a hash of `t` (tokens) and `a` (when, ms, Redis
 * clock). ARGV: tokens per second, burst, cost. Spends min(cost, burst) if the bucket holds
 * it. The key expires when the bucket would be full again: a full bucket is the same as none.
 * Returns {1 or 0 (spent or not), the level after, as text (Lua numbers lose their fraction
 * in a reply)}.
 */
const TAKE_TOKENS = new RedisScript(`
local key = KEYS[1]
local perMs, burst, cost = tonumber(ARGV[1]) / 1000, tonumber(ARGV[2]), tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local tokens = burst
local saved = redis.call('HMGET', key, 't', 'a')
if saved[1] and saved[2] then
  tokens = math.min(burst, tonumber(saved[1]) + math.max(0, now - tonumber(saved[2])) * perMs)
end
local needed = math.min(cost, burst)
if tokens < needed then return {0, tostring(tokens)} end
tokens = tokens - needed
redis.call('HSET', key, 't', tostring(tokens), 'a', string.format('%d', now))
redis.call('PEXPIRE', key, math.ceil((burst - tokens) / perMs) + 1000)
return {1, tostring(tokens)}
`);

/**
 * The cluster-wide limits on the Redis store, on a connection of their own (a publish waiting
 * for its replicas, `--redis-min-replicas`, holds the store's connection; an admission must
 * not wait behind it). Keys sit under the store's prefix: `<prefix>limits:streams:<client>`
 * and `<prefix>limits:publish:<SHA-256 of the publisher>` (a token's subject may be long or
 * hold anything; the hash is bounded and never names it).
 */
export class RedisLimitStore implements SharedLimitStore {
  readonly leaseMs: number;
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  /** This process's field in every client's hash. */
  readonly #me = randomUUID();

  private constructor(redis: RedisConnection, prefix: string, leaseMs: number) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.leaseMs = leaseMs;
  }

  /**
   * Opens a connection like `connection` (same server, Sentinels or cluster, TLS and
   * credentials; on a cluster each key, used alone, goes to the master of its own slot). An
   * unreachable Redis is not an error here: the limits start out deciding alone, and the first
   * call or the renewal timer finds Redis again.
   */
  static async open(
    connection: RedisConnection,
    prefix: string,
    leaseMs: number = STREAM_LEASE_MS,
  ): Promise<RedisLimitStore> {
    const own = { connectionName: 'herald-limits', commandTimeout: LIMITS_COMMAND_TIMEOUT_MS };
    const redis =
      connection instanceof Cluster
        ? connection.duplicate([], {
            lazyConnect: true,
            redisOptions: { ...connection.options.redisOptions, ...own },
          })
        : connection.duplicate({ ...own, lazyConnect: true });
    // Failures surface through the calls that fail; without a listener ioredis prints them.
    redis.on('error', () => undefined);
    await redis.connect().catch(() => undefined);
    return new RedisLimitStore(redis, prefix, leaseMs);
  }

  async openStream(client: string, held: number, limit: number): Promise<boolean> {
    const counted = await OPEN_STREAM.run(
      this.#redis,
      [this.#streamsKey(client)],
      [this.#me, held, limit, this.leaseMs],
    );
    return counted === 1;
  }

  async setStreams(client: string, held: number): Promise<void> {
    await SET_STREAMS.run(this.#redis, [this.#streamsKey(client)], [this.#me, held, this.leaseMs]);
  }

  async takeTokens(
    key: string,
    limit: RateLimit,
    cost: number,
  ): Promise<{ allowed: boolean; tokens: number }> {
    const hashed = createHash('sha256').update(key).digest('base64url');
    const [spent, tokens] = (await TAKE_TOKENS.run(
      this.#redis,
      [`${this.#prefix}limits:publish:${hashed}`],
      [limit.perSecond, limit.burst, cost],
    )) as [number, string];
    return { allowed: spent === 1, tokens: Number(tokens) };
  }

  async ping(): Promise<void> {
    await this.#redis.ping();
  }

  /**
   * Closes the connection. Counts this process still holds are left to expire with their
   * lease: a graceful shutdown releases its streams (setStreams 0) before this.
   */
  async close(): Promise<void> {
    try {
      await this.#redis.quit();
    } catch {
      this.#redis.disconnect();
    }
  }

  #streamsKey(client: string): string {
    return `${this.#prefix}limits:streams:${client}`;
  }
}
