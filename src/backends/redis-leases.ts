import type { LeaseRenewal, NodeLeases } from '../core/backend.ts';
import type { NewUpdate } from '../core/update.ts';
import { encodeEntry } from './redis-entry.ts';
import type { RedisConnection } from './redis-scripts.ts';
import { RedisScript } from './redis-scripts.ts';

/** The keys of one store that leases read and write. */
export interface RedisLeaseKeys {
  /** Every key of the store starts with it (see RedisBackendOptions.keyPrefix). */
  readonly prefix: string;
  /** The stream of updates and its id log (redis-scripts.ts): settling appends to both. */
  readonly stream: string;
  readonly idlog: string;
}

// Expired leases one renewal reports; the others are found by the next ones.
const EXPIRED_PER_RENEWAL = 16;
// Keys one settling script stores the updates of: a dead node with many subscriptions is
// settled in several short scripts rather than one that holds Redis for long.
const SETTLE_BATCH = 500;

/**
 * Takes or renews a lease. KEYS: the leases (a sorted set: node → expiry in ms, Redis clock).
 * ARGV: node, ttl in ms, '1' for the node's first renewal, how many expired leases to report.
 * Returns {1 when the lease had lapsed (expired, or settled and removed) else 0, expired nodes}.
 */
const RENEW = new RedisScript(`
local leases, node = KEYS[1], ARGV[1]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local previous = redis.call('ZSCORE', leases, node)
local lapsed = 0
if ARGV[3] ~= '1' and (not previous or tonumber(previous) <= now) then lapsed = 1 end
redis.call('ZADD', leases, now + tonumber(ARGV[2]), node)
return {lapsed, redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, tonumber(ARGV[4]))}
`);

/**
 * Settles part of an expired lease. KEYS: the leases, the node's held updates (a hash: key →
 * JSON list of stream entries' field lists), the stream, the id log. ARGV: node, batch size.
 * When the lease is alive or gone, does nothing. Else appends the updates of up to a batch of
 * keys to the stream and id log exactly as the append script does for updates without a
 * publisher id, removes those keys, and the lease once none is left. Returns {keys settled,
 * keys left}. Atomic: two nodes settling the same lease never store the same key twice.
 */
const SETTLE = new RedisScript(`
local leases, held, stream, idlog = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local node, batch = ARGV[1], tonumber(ARGV[2])
local expiry = redis.call('ZSCORE', leases, node)
if not expiry then return {0, 0} end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if tonumber(expiry) > now then return {0, 0} end
local entries = redis.call('HSCAN', held, '0', 'COUNT', batch)[2]
local settled = 0
for i = 1, #entries, 2 do
  for _, fields in ipairs(cjson.decode(entries[i + 1])) do
    local sid = redis.call('XADD', stream, '*', unpack(fields))
    redis.call('XADD', idlog, sid, 'i', '')
  end
  redis.call('HDEL', held, entries[i])
  settled = settled + 1
end
local left = redis.call('HLEN', held)
if left == 0 then redis.call('ZREM', leases, node) end
return {settled, left}
`);

/**
 * Node leases in Redis, beside the stream of one store: a sorted set of leases by expiry (the
 * Redis clock, so nodes' clocks need not agree) and, per node, a hash of what to append should
 * it die. Every key starts with the store's prefix (hash-tagged on a Redis Cluster), so each
 * script touches one slot.
 */
export class RedisNodeLeases implements NodeLeases {
  readonly #redis: RedisConnection;
  readonly #keys: RedisLeaseKeys;
  readonly #call: <T>(command: () => Promise<T>) => Promise<T>;

  constructor(
    redis: RedisConnection,
    keys: RedisLeaseKeys,
    call: <T>(command: () => Promise<T>) => Promise<T>,
  ) {
    this.#redis = redis;
    this.#keys = keys;
    this.#call = call;
  }

  async renew(node: string, ttlMs: number, first: boolean): Promise<LeaseRenewal> {
    const [lapsed, expired] = (await this.#call(() =>
      RENEW.run(
        this.#redis,
        [this.#leases],
        [node, Math.ceil(ttlMs), first ? '1' : '0', EXPIRED_PER_RENEWAL],
      ),
    )) as [number, string[]];
    return { lapsed: lapsed === 1, expired: expired.filter((other) => other !== node) };
  }

  async hold(node: string, key: string, updates: readonly NewUpdate[]): Promise<void> {
    const entries = JSON.stringify(updates.map((update) => encodeEntry(update)));
    await this.#call(() => this.#redis.hset(this.#heldBy(node), key, entries));
  }

  async release(node: string, key: string): Promise<void> {
    await this.#call(() => this.#redis.hdel(this.#heldBy(node), key));
  }

  async settle(node: string): Promise<number> {
    let settled = 0;
    for (;;) {
      const [count, left] = (await this.#call(() =>
        SETTLE.run(
          this.#redis,
          [this.#leases, this.#heldBy(node), this.#keys.stream, this.#keys.idlog],
          [node, SETTLE_BATCH],
        ),
      )) as [number, number];
      settled += count;
      if (count === 0 || left === 0) return settled;
    }
  }

  async drop(node: string): Promise<void> {
    await this.#call(() =>
      this.#redis.multi().zrem(this.#leases, node).del(this.#heldBy(node)).exec(),
    );
  }

  get #leases(): string {
    return `${this.#keys.prefix}leases`;
  }

  #heldBy(node: string): string {
    return `${this.#keys.prefix}lease:${node}`;
  }
}
