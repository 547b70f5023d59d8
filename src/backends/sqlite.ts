import { closeSync, fsync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Backend, HistoryRead, Position } from '../core/backend.ts';
import { BEFORE_ALL, EARLIEST } from '../core/backend.ts';
import { HeraldError } from '../core/errors.ts';
import { duplicateId, FeedListeners, storeClosed, storeFailed } from './store-feed.ts';
import { StoreOpenError } from './store-open-error.ts';
import { createIdGenerator } from '../core/ids.ts';
import type { NewUpdate, Update } from '../core/update.ts';
import { isSubscriptionEvent, SUBSCRIPTIONS_PATH } from '../core/subscription-events.ts';

export interface SqliteBackendOptions {
  /** The database file; created with its folder when missing. */
  readonly path: string;
  /** Most updates kept; older ones are trimmed in the background. `null`: no count limit. */
  readonly maxEvents: number | null;
  /** Oldest update kept, in milliseconds of age. `null`: no age limit. */
  readonly maxAgeMs: number | null;
  /** How often retention runs. */
  readonly trimIntervalMs?: number;
  readonly now?: () => number;
  /** Refuse an id already in history (HERALD_ERR_DUPLICATE_ID) rather than store it again. */
  readonly refuseDuplicateIds?: boolean | undefined;
  /** Flushes a file to the disk; `fs.fsync` unless a test needs a disk that fails. */
  readonly fsync?: (fd: number, done: (error: Error | null) => void) => void;
}

interface Row {
  seq: number;
  id: string;
  topics: string;
  /** A UTF-8 BLOB (see storedData); TEXT in rows written by Herald before node:sqlite. */
  data: Uint8Array | string;
  private: number;
  type: string | null;
  retry: number | null;
}

interface PendingAppend {
  readonly updates: readonly Update[];
  readonly resolve: (stored: readonly Update[]) => void;
  readonly reject: (error: unknown) => void;
}

/** What became of one publish in a group commit: its rows' seqs, or why it was refused. */
type AppendOutcome = { readonly seqs: readonly Position[] } | { readonly refused: unknown };

/** A committed publish waiting for the WAL to reach the disk before it is acknowledged. */
interface CommittedAppend {
  readonly pending: PendingAppend;
  readonly seqs: readonly Position[];
}

// 2: ids may repeat (no UNIQUE constraint; an index on id, seq finds the newest occurrence).
// 3: a `presence` column: subscription events are retained apart from published updates.
const SCHEMA_VERSION = 3;
// Rows a replay reads per query: bounded memory however long the history is, and a query short
// enough (about a millisecond) to fit in the hub's replay slice (core/replay-scheduler.ts).
const PAGE_SIZE = 100;
// Rows one retention pass deletes, so that trimming never holds the event loop for long.
const TRIM_BATCH = 5_000;
// How long a restarting hub waits for the old process to let go of the file's lock.
const BUSY_TIMEOUT_MS = 2_000;

// SQLite result codes (the primary code is the low byte of an extended one).
const SQLITE_CORRUPT = 11;
const SQLITE_BUSY = 5;
const SQLITE_READONLY = 8;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;

/**
 * Node's built-in SQLite binding, loaded when a store is first opened rather than when this
 * module is imported: on Node 22 loading it emits an ExperimentalWarning, which the CLI filters
 * (src/cli/sqlite-warning.ts) and which a hub that never opens a SQLite store never triggers.
 */
function sqlite(): typeof import('node:sqlite') {
  return process.getBuiltinModule('node:sqlite');
}

/**
 * Durable history in an embedded SQLite file (WAL), through Node's built-in `node:sqlite`. An
 * append is resolved only once its transaction is committed and the WAL synced to the disk, so an
 * acknowledged publish survives a crash of the process and of the machine. Publishes that arrive
 * within one event-loop turn share one transaction, and every transaction committed while a sync
 * runs shares the next sync: one sync for many acknowledgements.
 *
 * The sync is this class's, not SQLite's: with `synchronous = FULL` SQLite fsyncs the WAL inside
 * COMMIT, on the event loop (3 ms a commit at the median on a busy disk, tens of ms at p99, while
 * no stream is served). Here SQLite runs with `synchronous = NORMAL` (COMMIT only writes the WAL)
 * and the WAL is fsynced on libuv's thread pool; appends resolve, and live listeners hear of them,
 * when that sync returns, in commit order. That is FULL's guarantee (WAL synced after each
 * commit, before anyone is told) without its stall. Checkpoints still sync on the loop, as they
 * do under FULL, once per 1,000 pages of WAL.
 *
 * The file is locked for this process alone (exclusive locking mode), because a second hub
 * writing the same file would not see the first one's live updates.
 */
export class SqliteBackend implements Backend {
  readonly #db: DatabaseSync;
  readonly #options: SqliteBackendOptions;
  readonly #now: () => number;
  readonly #nextId: () => string;
  /** Each update's position is its row's `seq`. */
  readonly #listeners = new FeedListeners<[update: Update, position: Position]>();
  /** The file is locked for this process alone while open (`locking_mode = EXCLUSIVE`). */
  readonly capabilities = { exclusive: true };
  readonly #statements: Record<
    | 'begin'
    | 'commit'
    | 'rollback'
    | 'savepoint'
    | 'release'
    | 'rollbackToSavepoint'
    | 'insert'
    | 'newestWithId'
    | 'idTaken'
    | 'page'
    | 'newest'
    | 'trimCount'
    | 'trimAge',
    StatementSync
  >;
  #queue: PendingAppend[] = [];
  #flushScheduled = false;
  /** Committed, in commit order, waiting for the next WAL sync. */
  #awaitingSync: CommittedAppend[] = [];
  #syncing = false;
  /** Resolved when no sync runs and none is due (close waits for it). */
  #synced: (() => void) | undefined;
  #walFd: number | undefined;
  /**
   * The newest seq handed to the listeners (synced and acknowledged). A replay reads up to it,
   * not to the newest row: a row committed but still waiting for its sync reaches the hub live
   * once synced, and a replay that included it would deliver it twice.
   */
  #announced = 0;
  /** Set when a sync failed: nothing written since can be promised durable (fail-stop). */
  #syncFailure: HeraldError | undefined;
  #trimTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /**
   * Rows stored, kept up to date by appends and trims: `count(*)` reads the whole table, and a
   * metrics scrape must not hold the event loop for as long as history is big.
   */
  #rowCount: number;

  private constructor(db: DatabaseSync, options: SqliteBackendOptions, lastId: string | undefined) {
    this.#db = db;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#nextId = createIdGenerator(this.#now, lastId);
    // Counted once, at start-up, before anything is served.
    const counted = db.prepare('SELECT count(*) AS n FROM updates').get() as
      { n: number } | undefined;
    this.#rowCount = counted?.n ?? 0;
    // Every row already in the file was committed by an earlier run: replays may read them all.
    const newest = db.prepare('SELECT max(seq) AS seq FROM updates').get() as
      { seq: number | null } | undefined;
    this.#announced = newest?.seq ?? 0;
    this.#statements = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT publish'),
      release: db.prepare('RELEASE publish'),
      rollbackToSavepoint: db.prepare('ROLLBACK TO publish'),
      insert: db.prepare(
        'INSERT INTO updates (id, topics, data, private, type, retry, created_at, presence) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      newestWithId: db.prepare(
        'SELECT seq, id, topics, data, private, type, retry FROM updates WHERE id = ? ORDER BY seq DESC LIMIT 1',
      ),
      idTaken: db.prepare('SELECT 1 AS one FROM updates WHERE id = ? LIMIT 1'),
      page: db.prepare(
        'SELECT seq, id, topics, data, private, type, retry FROM updates WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?',
      ),
      newest: db.prepare('SELECT id FROM updates ORDER BY seq DESC LIMIT 1'),
      // Per kind (published, presence), oldest first: the rows of that kind older than its newest
      // `maxEvents`. Neither kind ever trims the other.
      trimCount: db.prepare(
        `DELETE FROM updates WHERE seq IN (
          SELECT seq FROM updates WHERE presence = ? AND seq <= (
            SELECT seq FROM updates WHERE presence = ? ORDER BY seq DESC LIMIT 1 OFFSET ?
          ) ORDER BY seq LIMIT ?
        ) AND presence = ?`,
      ),
      trimAge: db.prepare(
        'DELETE FROM updates WHERE seq IN (SELECT seq FROM updates WHERE created_at < ? ORDER BY seq LIMIT ?)',
      ),
    };
    const interval = options.trimIntervalMs ?? 1_000;
    if (options.maxEvents !== null || options.maxAgeMs !== null) {
      this.#trimTimer = setInterval(() => {
        this.trim();
      }, interval);
      this.#trimTimer.unref();
    }
  }

  /** Opens (creating when missing) and locks the store; throws StoreOpenError naming the file. */
  static open(options: SqliteBackendOptions): SqliteBackend {
    const path = resolve(options.path);
    let db: DatabaseSync | undefined;
    try {
      mkdirSync(dirname(path), { recursive: true });
      db = new (sqlite().DatabaseSync)(path);
      // A pragma rather than the constructor's `timeout` option, which Node 22.13-22.15 lack.
      db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      db.exec('PRAGMA journal_mode = WAL');
      // COMMIT writes the WAL without syncing it; #syncWal syncs it off the event loop.
      db.exec('PRAGMA synchronous = NORMAL');
      db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
      const version = db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as
        { value: string } | undefined;
      if (version === undefined) {
        db.exec(`${updatesTable('updates')}
          ${UPDATES_INDEXES}
          INSERT INTO meta (key, value) VALUES ('schema', '${SCHEMA_VERSION}');`);
      } else if (version.value === '1' || version.value === '2') {
        if (version.value === '1') migrateFromVersion1(db);
        migrateFromVersion2(db);
      } else if (version.value !== String(SCHEMA_VERSION)) {
        throw new Error(
          `schema version ${version.value} is not ${SCHEMA_VERSION}, the one this Herald knows`,
        );
      }
      const last = db.prepare('SELECT id FROM updates ORDER BY seq DESC LIMIT 1').get() as
        { id: string } | undefined;
      return new SqliteBackend(db, { ...options, path }, last?.id);
    } catch (error) {
      closeQuietly(db);
      throw new StoreOpenError(
        `Cannot use the SQLite store ${path}: ${describeSqliteError(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  /** Why the store can serve nothing now (closed, or stopped by a failed sync), if so. */
  #unusable(): HeraldError | undefined {
    if (this.#closed) return storeClosed();
    return this.#syncFailure;
  }

  append(updates: readonly NewUpdate[]): Promise<readonly Update[]> {
    const unusable = this.#unusable();
    if (unusable !== undefined) return Promise.reject(unusable);
    const stored = updates.map((update) => ({ ...update, id: update.id ?? this.#nextId() }));
    return new Promise((resolve, reject) => {
      this.#queue.push({ updates: stored, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        // Everything appended during this turn of the event loop commits together.
        setImmediate(() => {
          this.#flush();
        });
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const queue = this.#queue;
    this.#queue = [];
    // close() may have flushed this turn's queue already.
    if (queue.length === 0) return;
    let outcomes: AppendOutcome[];
    try {
      outcomes = this.#insertBatches(queue);
    } catch (error) {
      for (const pending of queue) pending.reject(storeFailed(describeSqliteError(error), error));
      return;
    }
    queue.forEach((pending, index) => {
      const outcome = outcomes[index];
      if (outcome !== undefined && 'refused' in outcome) {
        pending.reject(translateWriteError(outcome.refused));
      }
    });
    queue.forEach((pending, index) => {
      const outcome = outcomes[index];
      if (outcome === undefined || 'refused' in outcome) return;
      this.#rowCount += pending.updates.length;
      this.#awaitingSync.push({ pending, seqs: outcome.seqs });
    });
    this.#syncWal();
  }

  /**
   * Syncs the WAL on the thread pool, then acknowledges every publish committed before the sync
   * began, in commit order. One sync at a time: what commits meanwhile waits for the next one.
   */
  #syncWal(): void {
    if (this.#syncing) return;
    const batch = this.#awaitingSync;
    if (batch.length === 0) {
      this.#synced?.();
      return;
    }
    this.#awaitingSync = [];
    this.#syncing = true;
    const sync = this.#options.fsync ?? fsync;
    let fd: number;
    try {
      // The WAL exists from the first commit on, and exclusive locking keeps it until close.
      fd = this.#walFd ??= openSync(`${this.#options.path}-wal`, 'r');
    } catch (error) {
      this.#failStop(batch, error);
      return;
    }
    sync(fd, (error) => {
      this.#syncing = false;
      if (error !== null) {
        this.#failStop(batch, error);
        return;
      }
      for (const { pending, seqs } of batch) {
        pending.resolve(pending.updates);
        pending.updates.forEach((update, i) => {
          const seq = seqs[i] ?? BEFORE_ALL;
          this.#announced = Number(seq);
          this.#listeners.emit(update, seq);
        });
      }
      this.#syncWal();
    });
  }

  /**
   * The disk did not confirm a write: what was committed since the last good sync may not be on
   * it, and the page cache can no longer be trusted to get it there (a failed fsync may have
   * dropped the dirty pages). Those publishes are refused, and so is everything later (appends,
   * replays, the readiness probe): an operator must look at the disk and restart. Until then no
   * replay can hand out a row whose publish was refused.
   */
  #failStop(batch: readonly CommittedAppend[], error: unknown): void {
    this.#syncFailure ??= storeFailed(
      `the disk did not confirm a write (${String(error)}); restart once the disk is sound`,
      error,
    );
    const failure = this.#syncFailure;
    for (const { pending } of [...batch, ...this.#awaitingSync]) pending.reject(failure);
    this.#awaitingSync = [];
    this.#synced?.();
  }

  /**
   * One transaction, one sync: each publish is a savepoint inside it, so a refused publish (a
   * duplicate id) is rolled back alone and the others still commit. Returns, per publish, the
   * seqs of its rows when stored or the error that refused it; throws (having rolled back) when
   * the transaction itself fails.
   */
  #insertBatches(queue: readonly PendingAppend[]): AppendOutcome[] {
    const statements = this.#statements;
    statements.begin.run();
    try {
      const outcomes = queue.map((pending): AppendOutcome => {
        statements.savepoint.run();
        try {
          const seqs = this.#insertBatch(pending);
          statements.release.run();
          return { seqs };
        } catch (error) {
          statements.rollbackToSavepoint.run();
          statements.release.run();
          return { refused: error ?? new Error('unknown SQLite error') };
        }
      });
      statements.commit.run();
      return outcomes;
    } catch (error) {
      try {
        statements.rollback.run();
      } catch {
        // SQLite may have rolled the transaction back itself (an I/O error, a full disk).
      }
      throw error;
    }
  }

  /** Inserts one publish's updates; returns the seq of each row. */
  #insertBatch(pending: PendingAppend): Position[] {
    const createdAt = this.#now();
    if (this.#options.refuseDuplicateIds === true) {
      const seen = new Set<string>();
      for (const update of pending.updates) {
        if (seen.has(update.id) || this.#statements.idTaken.get(update.id) !== undefined) {
          throw duplicateId(update.id);
        }
        seen.add(update.id);
      }
    }
    return pending.updates.map((update) => this.#insert(update, createdAt));
  }

  #insert(update: Update, createdAt: number): Position {
    const { lastInsertRowid } = this.#statements.insert.run(
      update.id,
      JSON.stringify(update.topics),
      storedData(update.data),
      update.private ? 1 : 0,
      update.type ?? null,
      update.retry ?? null,
      createdAt,
      isSubscriptionEvent(update) ? 1 : 0,
    );
    return BigInt(lastInsertRowid);
  }

  readAfter(lastEventId: string): Promise<HistoryRead> {
    const unusable = this.#unusable();
    if (unusable !== undefined) return Promise.reject(unusable);
    let from = 0;
    let after: Update | undefined;
    if (lastEventId !== EARLIEST) {
      // After the newest update with this id, when it was used more than once.
      const row = this.#statements.newestWithId.get(lastEventId) as Row | undefined;
      if (row === undefined) {
        return Promise.resolve({ found: false, updates: [], reached: BEFORE_ALL });
      }
      from = row.seq;
      after = fromRow(row);
    }
    // The replay stops at what the listeners have been given; anything newer (a row still
    // waiting for its sync included) reaches the subscriber live.
    const until = this.#announced;
    return Promise.resolve({
      found: true,
      after,
      updates: this.#pages(from, until),
      reached: BigInt(until),
    });
  }

  *#pages(after: number, until: number): Iterable<Update> {
    let cursor = after;
    for (;;) {
      // A read cut short by close() must not pass for one that reached its end.
      if (this.#closed) throw storeClosed();
      const rows = this.#statements.page.all(cursor, until, PAGE_SIZE) as unknown as Row[];
      for (const row of rows) yield fromRow(row);
      const last = rows.at(-1);
      if (last === undefined || rows.length < PAGE_SIZE) return;
      cursor = last.seq;
    }
  }

  historySize(): Promise<number> {
    if (this.#closed) return Promise.reject(storeClosed());
    return Promise.resolve(this.#rowCount);
  }

  lastEventId(): Promise<string | undefined> {
    // Also the readiness probe: a store stopped by a failed sync makes /readyz answer 503.
    const unusable = this.#unusable();
    if (unusable !== undefined) return Promise.reject(unusable);
    const row = this.#statements.newest.get() as { id: string } | undefined;
    return Promise.resolve(row?.id);
  }

  onUpdate(listener: (update: Update, position: Position) => void): () => void {
    return this.#listeners.add(listener);
  }

  /**
   * Applies retention now, one bounded batch per limit; returns how many updates were removed.
   * Runs on a timer; exposed for tests and for operators' tooling.
   */
  trim(): number {
    if (this.#closed) return 0;
    let removed = 0;
    const { maxEvents, maxAgeMs } = this.#options;
    if (maxEvents !== null) {
      for (const presence of [0, 1]) {
        removed += Number(
          this.#statements.trimCount.run(presence, presence, maxEvents, TRIM_BATCH, presence)
            .changes,
        );
      }
    }
    if (maxAgeMs !== null) {
      removed += Number(this.#statements.trimAge.run(this.#now() - maxAgeMs, TRIM_BATCH).changes);
    }
    this.#rowCount = Math.max(0, this.#rowCount - removed);
    return removed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Publishes already queued still commit, and are acknowledged once synced: they may have
    // been promised to a client.
    if (this.#queue.length > 0) this.#flush();
    this.#closed = true;
    clearInterval(this.#trimTimer);
    if (this.#syncing || this.#awaitingSync.length > 0) {
      await new Promise<void>((resolve) => (this.#synced = resolve));
    }
    this.#listeners.close();
    this.#db.close();
    if (this.#walFd !== undefined) closeSync(this.#walFd);
  }
}

function updatesTable(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    topics TEXT NOT NULL,
    data TEXT NOT NULL,
    private INTEGER NOT NULL,
    type TEXT,
    retry INTEGER,
    created_at INTEGER NOT NULL,
    presence INTEGER NOT NULL DEFAULT 0
  );`;
}

const UPDATES_INDEXES = `
  CREATE INDEX IF NOT EXISTS updates_created_at ON updates (created_at);
  CREATE INDEX IF NOT EXISTS updates_id ON updates (id, seq);
  CREATE INDEX IF NOT EXISTS updates_presence ON updates (presence, seq);
`;

/**
 * Version 1 kept ids UNIQUE. SQLite cannot drop a constraint, so the table is rebuilt in one
 * transaction (rows, their seq, and the AUTOINCREMENT high-water mark all kept): a crash
 * midway leaves version 1 as it was.
 */
function migrateFromVersion1(db: DatabaseSync): void {
  db.exec(`BEGIN IMMEDIATE;
    ${updatesTable('updates_v2')}
    INSERT INTO updates_v2 (seq, id, topics, data, private, type, retry, created_at)
      SELECT seq, id, topics, data, private, type, retry, created_at FROM updates ORDER BY seq;
    UPDATE sqlite_sequence SET seq = max(seq, coalesce(
      (SELECT seq FROM sqlite_sequence WHERE name = 'updates'), 0)) WHERE name = 'updates_v2';
    DROP TABLE updates;
    ALTER TABLE updates_v2 RENAME TO updates;
    CREATE INDEX IF NOT EXISTS updates_created_at ON updates (created_at);
    CREATE INDEX IF NOT EXISTS updates_id ON updates (id, seq);
    UPDATE meta SET value = '2' WHERE key = 'schema';
    COMMIT;`);
}

/**
 * Version 2 counted subscription events in the same retention as published updates, so a
 * client subscribing in a loop could trim what a publisher published. Version 3 marks them
 * (`presence`), from their reserved topic, and trims each kind on its own.
 */
function migrateFromVersion2(db: DatabaseSync): void {
  const columns = db.prepare("SELECT name FROM pragma_table_info('updates')").all() as {
    name: string;
  }[];
  const addColumn = columns.some((column) => column.name === 'presence')
    ? ''
    : 'ALTER TABLE updates ADD COLUMN presence INTEGER NOT NULL DEFAULT 0;';
  db.exec(`BEGIN IMMEDIATE;
    ${addColumn}
    UPDATE updates SET presence = 1
      WHERE private = 1 AND topics LIKE '["${SUBSCRIPTIONS_PATH}/%';
    ${UPDATES_INDEXES}
    UPDATE meta SET value = '${SCHEMA_VERSION}' WHERE key = 'schema';
    COMMIT;`);
}

/** Closes a database that failed to open properly; it may already be closed. */
function closeQuietly(db: DatabaseSync | undefined): void {
  try {
    db?.close();
  } catch {
    // Not open: nothing to release.
  }
}

const UTF8 = new TextDecoder();

/**
 * An update's data as SQLite stores it: UTF-8 bytes in a BLOB, not TEXT. Node 22's node:sqlite
 * binds and reads TEXT as NUL-terminated C strings, so data holding a NUL character (legal in an
 * update, and delivered intact over SSE) came back cut at the NUL; bytes keep their length on
 * every line. Ids and types cannot hold NUL (core/update.ts) and topics are stored as JSON, which
 * escapes it.
 */
function storedData(data: string): Uint8Array {
  return Buffer.from(data, 'utf8');
}

function fromRow(row: Row): Update {
  return {
    id: row.id,
    topics: JSON.parse(row.topics) as string[],
    data: typeof row.data === 'string' ? row.data : UTF8.decode(row.data),
    private: row.private === 1,
    ...(row.type === null ? {} : { type: row.type }),
    ...(row.retry === null ? {} : { retry: row.retry }),
  };
}

function translateWriteError(error: unknown): HeraldError {
  if (error instanceof HeraldError) return error;
  return storeFailed(describeSqliteError(error), error);
}

/** The extended SQLite result code node:sqlite attached to an error, if it is one of its own. */
function sqliteCode(error: unknown): number | undefined {
  if (!(error instanceof Error) || !('errcode' in error)) return undefined;
  return typeof error.errcode === 'number' ? error.errcode : undefined;
}

function describeSqliteError(error: unknown): string {
  const code = sqliteCode(error);
  // The primary result code is the low byte of the extended one.
  switch (code === undefined ? undefined : code & 0xff) {
    case SQLITE_NOTADB:
      return 'it is not a SQLite database (corrupt or another kind of file)';
    case SQLITE_CORRUPT:
      return 'the database file is corrupt';
    case SQLITE_BUSY:
      return 'another process (another Herald?) holds it locked';
    case SQLITE_CANTOPEN:
      return 'it cannot be opened (check the path and its permissions)';
    case SQLITE_READONLY:
      return 'it is read-only';
  }
  return error instanceof Error ? error.message : String(error);
}
