import { checkRedisUrl, redactRedisUrl } from '../backends/redis-url.ts';
import type { StoreConfig } from '../config.ts';
import { ConfigError } from './config-error.ts';
import type { ValueKind } from './value-kinds.ts';

/** Where `herald serve` keeps its data unless told otherwise, relative to the working directory. */
export const DEFAULT_SQLITE_PATH = 'herald-data/herald.db';

/** The key prefix of the Redis store unless told otherwise. */
export const DEFAULT_REDIS_PREFIX = 'herald:';

const REDIS_FORMS =
  'Use redis://[user:pass@]host:port[/db], or rediss:// for TLS, or redis+sentinel://[user:pass@]host:port,host:port/mymaster[?db=N], or redis+cluster://[user:pass@]host:port,host:port.';

/**
 * Where history is kept: `memory`, `sqlite`, `sqlite:<file>` or a Redis URL on the command line;
 * a `StoreConfig` for `startHerald()`. A Redis URL may hold a password: messages show it masked.
 */
export function store(): ValueKind {
  return {
    placeholder: '<store>',
    form: 'value',
    read(text, name): StoreConfig {
      if (text === 'memory') return { kind: 'memory' };
      if (text === 'sqlite') return { kind: 'sqlite', path: DEFAULT_SQLITE_PATH };
      if (text.startsWith('sqlite:') && text.length > 'sqlite:'.length) {
        return { kind: 'sqlite', path: text.slice('sqlite:'.length) };
      }
      if (/^rediss?(\+sentinel|\+cluster)?:/i.test(text)) {
        refuseRedisUrl(text, name);
        return { kind: 'redis', url: text, keyPrefix: DEFAULT_REDIS_PREFIX };
      }
      throw new ConfigError(
        `${name} must be sqlite:<file>, sqlite, memory or a redis:// URL; got "${text}".`,
      );
    },
    check(value, subject) {
      const config = (typeof value === 'object' && value !== null ? value : {}) as Record<
        string,
        unknown
      >;
      const { kind, path, url } = config;
      if (kind === 'memory') return;
      if (kind === 'sqlite' && typeof path === 'string' && path !== '') return;
      if (kind === 'redis' && typeof url === 'string') {
        refuseRedisUrl(url, subject.name);
        return;
      }
      // Only the kind is shown: a URL in the value may hold a password.
      throw new ConfigError(
        `${subject.name} must be { kind: 'memory' }, { kind: 'sqlite', path } or { kind: 'redis', url, keyPrefix }; got ${kind === 'redis' ? 'a Redis store without a url' : `kind ${kind === undefined ? 'undefined' : JSON.stringify(kind)}`}.`,
      );
    },
    format(value) {
      const config = value as StoreConfig;
      if (config.kind === 'sqlite') {
        return config.path === DEFAULT_SQLITE_PATH ? 'sqlite' : `sqlite:${config.path}`;
      }
      return config.kind === 'memory' ? 'memory' : redactRedisUrl(config.url);
    },
  };
}

function refuseRedisUrl(url: string, name: string): void {
  const problem = checkRedisUrl(url);
  if (problem !== undefined) {
    throw new ConfigError(
      `${name} is not a usable Redis URL (${problem}): "${redactRedisUrl(url)}". ${REDIS_FORMS}`,
    );
  }
}
