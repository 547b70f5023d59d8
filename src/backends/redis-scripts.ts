import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/** One Redis server (directly or through Sentinels), or a Redis Cluster. */
export type RedisConnection = Redis | Cluster;

/**
 * A Lua script run with EVALSHA, falling back to EVAL the first time a server does not hold it
 * (NOSCRIPT means the server ran nothing, so sending it again cannot store anything twice).
 */
export class RedisScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run(
    redis: RedisConnection,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return redis.eval(this.#source, keys.length, ...keys, ...args);
    }
  }

  /**
   * Runs the script, then `WAIT replicas timeoutMs`, in one pipeline: both go down the same
   * connection, which WAIT needs (it counts the replicas holding that connection's writes).
   * A cluster routes a lone WAIT (it has no key) to any node, so this is the only way there,
   * and it saves a round trip everywhere. Throws the script's error; gives the replicas that
   * confirmed, or the error WAIT answered.
   *
   * On a cluster, a MOVED answer means the server ran nothing and the slot is elsewhere now
   * (after a failover): ioredis does not retry a pipeline whose WAIT succeeded, so the slot map
   * is refreshed here and the pipeline sent once more to the new owner.
   */
  async runThenWait(
    redis: RedisConnection,
    keys: readonly string[],
    args: readonly (string | number)[],
    replicas: number,
    timeoutMs: number,
  ): Promise<{ readonly result: unknown; readonly confirmed: number | Error }> {
    let moved = false;
    for (;;) {
      let answer = await this.#pipelineThenWait(redis, 'evalsha', keys, args, replicas, timeoutMs);
      if (isNoScript(answer.error)) {
        answer = await this.#pipelineThenWait(redis, 'eval', keys, args, replicas, timeoutMs);
      }
      if (answer.error === undefined) return { result: answer.result, confirmed: answer.confirmed };
      if (!moved && 'refreshSlotsCache' in redis && /^MOVED /.test(answer.error.message)) {
        moved = true;
        await new Promise<void>((resolve) => {
          redis.refreshSlotsCache(() => {
            resolve();
          });
        });
        continue;
      }
      throw answer.error;
    }
  }

  async #pipelineThenWait(
    redis: RedisConnection,
    how: 'evalsha' | 'eval',
    keys: readonly string[],
    args: readonly (string | number)[],
    replicas: number,
    timeoutMs: number,
  ): Promise<{ error: Error | undefined; result: unknown; confirmed: number | Error }> {
    const pipeline = redis.pipeline();
    if (how === 'evalsha') pipeline.evalsha(this.#sha, keys.length, ...keys, ...args);
    else pipeline.eval(this.#source, keys.length, ...keys, ...args);
    const replies = await pipeline.wait(replicas, timeoutMs).exec();
    const [[scriptError, result] = [], [waitError, confirmed] = []] = replies ?? [];
    const error =
      scriptError ?? (replies === null ? new Error('the pipeline was discarded') : null);
    return {
      error: error === null ? undefined : error,
      result,
      confirmed: waitError ?? (confirmed as number),
    };
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** The prefix of the error the append script answers when a publisher id is taken. */
export const DUPLICATE_REPLY = 'HERALD_DUPLICATE_ID';

/*
 * The keys every script gets, in this order:
 *   KEYS[1] the stream of updates (one entry per update, its fields as in redis-entry.ts);
 *   KEYS[2] the id log: one tiny entry per update with the same stream id, holding only the
 *           publisher's id (or ''), so that retention, lookups and lastEventId never read
 *           update bodies, which may be a megabyte each;
 *   KEYS[3] a hash from publisher id to the stream id of the newest update with that id (an id
 *           may be reused), which finds it (and, when duplicates are refused, keeps ids unique).
 *   KEYS[4] (TRIM only) a string: the stream id of the newest update retention removed, which
 *           each node's live feed compares with the last update it delivered to notice a gap.
 * Only these scripts write them, so all three always describe the same updates.
 */

/**
 * Stores a batch atomically, or nothing of it. ARGV: '1' to refuse duplicate ids (else '0'), the
 * number of updates, then for each its publisher id ('' for none), the number of entry fields and
 * values, and those. Returns the stream ids, in order; when refusing, a taken or repeated
 * publisher id answers `HERALD_DUPLICATE_ID <index in the batch>` before anything is written.
 */
export const APPEND = new RedisScript(`
local stream, idlog, ids = KEYS[1], KEYS[2], KEYS[3]
local refuse = ARGV[1] == '1'
local count = tonumber(ARGV[2])
local given, first, last, seen = {}, {}, {}, {}
local at = 3
for u = 1, count do
  local id = ARGV[at]
  local length = tonumber(ARGV[at + 1])
  if refuse and id ~= '' then
    if seen[id] or redis.call('HEXISTS', ids, id) == 1 then
      return redis.error_reply('${DUPLICATE_REPLY} ' .. (u - 1))
    end
    seen[id] = true
  end
  given[u], first[u], last[u] = id, at + 2, at + 1 + length
  at = at + 2 + length
end
local assigned = {}
for u = 1, count do
  local sid = redis.call('XADD', stream, '*', unpack(ARGV, first[u], last[u]))
  redis.call('XADD', idlog, sid, 'i', given[u])
  if given[u] ~= '' then redis.call('HSET', ids, given[u], sid) end
  assigned[u] = sid
end
return assigned
`);

/**
 * Starts a history read. ARGV: the mode ('earliest', 'given' for a publisher id, 'stream' for
 * a stream id), the id, the page size. Answers {0} when the id names no kept update, else
 * {1, the newest stream id now ('' when history is empty), the first page of entries, the
 * entry read after (none for 'earliest')}: the lookup, the snapshot's end and the first page
 * are taken at one instant. A reused publisher id reads after its newest update.
 */
export const READ_START = new RedisScript(`
local stream, idlog, ids = KEYS[1], KEYS[2], KEYS[3]
local mode, id, size = ARGV[1], ARGV[2], ARGV[3]
local after, entry = '-', {}
local sid = nil
if mode == 'given' then
  sid = redis.call('HGET', ids, id)
  if not sid then return {0} end
elseif mode == 'stream' then
  if #redis.call('XRANGE', idlog, id, id) == 0 then return {0} end
  sid = id
end
if sid then
  after = '(' .. sid
  entry = redis.call('XRANGE', stream, sid, sid)
end
local newest = redis.call('XREVRANGE', idlog, '+', '-', 'COUNT', 1)[1]
if not newest then return {1, '', {}, entry} end
return {1, newest[1], redis.call('XRANGE', stream, after, newest[1], 'COUNT', size), entry}
`);

/**
 * One retention pass: removes, oldest first and at most ARGV[4] of them, the updates beyond
 * ARGV[1] (the most kept; -1: no count limit) or older than ARGV[2] ms (-1: no age limit), with
 * their publisher ids, but none younger than ARGV[3] ms (-1: no grace), by the Redis clock.
 * Returns how many were removed.
 */
export const TRIM = new RedisScript(`
local stream, idlog, ids = KEYS[1], KEYS[2], KEYS[3]
local most, maxAge, grace, batch = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local excess = 0
if most >= 0 then excess = redis.call('XLEN', idlog) - most end
if excess <= 0 and maxAge < 0 then return 0 end
local doomed = {}
for _, entry in ipairs(redis.call('XRANGE', idlog, '-', '+', 'COUNT', batch)) do
  local ms = tonumber(string.match(entry[1], '^[0-9]+'))
  if grace >= 0 and ms > now - grace then break end
  if excess <= 0 and not (maxAge >= 0 and ms < now - maxAge) then break end
  excess = excess - 1
  doomed[#doomed + 1] = entry[1]
  local given = entry[2][2]
  -- A reused id stays findable through its newer update.
  if given ~= '' and redis.call('HGET', ids, given) == entry[1] then redis.call('HDEL', ids, given) end
end
if #doomed > 0 then
  redis.call('XDEL', stream, unpack(doomed))
  redis.call('XDEL', idlog, unpack(doomed))
  -- The newest update ever removed: a node whose live feed is behind it missed some (a gap).
  redis.call('SET', KEYS[4], doomed[#doomed])
end
return #doomed
`);
