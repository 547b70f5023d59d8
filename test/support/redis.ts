import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The machine's Redis, which .ci/run starts. Tests that need it fail (never skip) without it. */
export const REDIS_URL = process.env['HERALD_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A key prefix no other test run uses. */
export function uniquePrefix(label = 'test'): string {
  return `herald-test:${label}:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `prefix` (SCAN + UNLINK), on the Redis at `url`. */
export async function deleteKeys(prefix: string, url: string = REDIS_URL): Promise<void> {
  await scanKeys(prefix, url, async (redis, keys) => {
    await redis.unlink(...keys);
  });
}

/** How many keys exist under `prefix`. */
export async function countKeys(prefix: string, url: string = REDIS_URL): Promise<number> {
  let count = 0;
  await scanKeys(prefix, url, (_redis, keys) => {
    count += keys.length;
    return Promise.resolve();
  });
  return count;
}

/** Walks the keys under `prefix` a SCAN page at a time, on a connection of its own. */
async function scanKeys(
  prefix: string,
  url: string,
  eachPage: (redis: Redis, keys: string[]) => Promise<void>,
): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(
        cursor,
        'MATCH',
        `${escapeGlob(prefix)}*`,
        'COUNT',
        1000,
      );
      cursor = next;
      if (keys.length > 0) await eachPage(redis, keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
