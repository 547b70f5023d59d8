import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { StoreConfig } from '../config.ts';
import { DEFAULT_SQLITE_PATH } from '../config.ts';
import { OptionError } from './option-reading.ts';

/** The file, next to the SQLite history, that keeps development mode's generated key. */
export const DEVELOPMENT_KEY_FILE = 'development-jwt-key';

/** Development mode's HMAC key, and where it is (or will be) kept. */
export interface DevelopmentKey {
  readonly key: string;
  /** The file that keeps it; `undefined` with a store that has no data directory. */
  readonly file: string | undefined;
  /** True when the key was read from `file`; false when it was generated for this start. */
  readonly kept: boolean;
}

// 64 random bytes in base64url (as long as HS512's hash, so every HS algorithm accepts it): what
// `generate` writes, and all that is read back.
const KEY_FORMAT = /^[A-Za-z0-9_-]{86}$/;

/**
 * The key development mode runs on. With the SQLite store it belongs to the data directory:
 * read from there when an earlier start kept it (so yesterday's printed token still works),
 * else generated, to be kept by `keepDevelopmentKey` once the hub listens. Memory and Redis
 * stores have no data directory of Herald's own: their key lives as long as the process.
 *
 * Reading creates nothing, so a start that fails (a port in use) leaves nothing behind.
 */
export function loadDevelopmentKey(store: StoreConfig | undefined): DevelopmentKey {
  const sqlitePath =
    store === undefined ? DEFAULT_SQLITE_PATH : store.kind === 'sqlite' ? store.path : undefined;
  if (sqlitePath === undefined) return { key: generate(), file: undefined, kept: false };
  const file = join(dirname(sqlitePath), DEVELOPMENT_KEY_FILE);
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { key: generate(), file, kept: false };
    }
    throw new OptionError(`cannot read the development key ${file}: ${(error as Error).message}`);
  }
  // Like ssh with a private key: a key others can read is not used.
  if ((mode & 0o077) !== 0) {
    throw new OptionError(
      `the development key ${file} can be read by other users (mode ${(mode & 0o777).toString(8)}): run chmod 600 on it, or delete it for a new key.`,
    );
  }
  const key = readFileSync(file, 'utf8').trim();
  if (!KEY_FORMAT.test(key)) {
    throw new OptionError(
      `the development key ${file} is not one Herald wrote (86 base64url characters): delete it for a new key.`,
    );
  }
  return { key, file, kept: true };
}

/**
 * Keeps a generated key in its file, readable by its owner only (mode 0600). Called once the
 * hub listens, so the data directory exists and a start that failed wrote nothing.
 */
export function keepDevelopmentKey(developmentKey: DevelopmentKey): void {
  if (developmentKey.kept || developmentKey.file === undefined) return;
  // `wx`: never overwrite a key another start kept in the meantime.
  writeFileSync(developmentKey.file, `${developmentKey.key}\n`, { mode: 0o600, flag: 'wx' });
}

function generate(): string {
  const bytes = new Uint8Array(64);
  crypto.getRandomValues(bytes);
  return Buffer.from(bytes).toString('base64url');
}
