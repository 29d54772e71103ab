/**
 * @packageDocumentation
 * `@foliokit/store-sqlite`: the embedded default store, on better-sqlite3.
 */
import { FoliokitError, wrapError } from '@foliokit/core';
import { createKyselyStore, type FoliokitDatabase, guardStore, type KyselyStore } from '@foliokit/core/sql';
import { Kysely } from 'kysely';
import type { SqliteDatabaseLike } from './database.js';
import { LockedSqliteDialect } from './kysely-dialect.js';
import { type ConnectionLock, shareFileLock } from './lock.js';
import { createSqliteNativePath } from './native-path.js';
import { StatementCache } from './statement-cache.js';

export type { SqliteDatabaseLike, SqliteStatementLike } from './database.js';

/** Options of {@link createSqliteStore}: a file name, or a better-sqlite3 database you opened. */
export type CreateSqliteStoreOptions =
  | {
      /** Path of the database file, or `':memory:'`. Created when missing. */
      filename: string;
      /** How long a write waits for another process's lock, in ms. @default 5000 */
      busyTimeoutMs?: number;
      /** Run migrations on open. @default true */
      migrate?: boolean;
    }
  | {
      /** An open better-sqlite3 `Database`. The store takes ownership: `close()` closes it. */
      database: SqliteDatabaseLike;
      busyTimeoutMs?: number;
      migrate?: boolean;
    };

/** The SQLite store. */
export interface SqliteStore extends KyselyStore {
  /** The underlying better-sqlite3 database. */
  readonly database: SqliteDatabaseLike;
}

/** The connection's settings: WAL journal (a file), `synchronous = NORMAL`, foreign keys, busy timeout. */
function configure(database: SqliteDatabaseLike, busyTimeoutMs: number): void {
  if (!database.memory) database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
}

/** Runs `fn` holding `lock`. */
async function withLock<T>(lock: ConnectionLock, fn: () => T): Promise<T> {
  await lock.acquire();
  try {
    return fn();
  } finally {
    lock.release();
  }
}

/**
 * Opens a SQLite store: WAL journal, `synchronous = NORMAL`, foreign keys on, a busy timeout, and
 * migrations run on open. Writes begin with `BEGIN IMMEDIATE`, so several processes may share one
 * file: a writer waits up to `busyTimeoutMs` for another, then fails with `STORE_ERROR`. Several
 * stores of one process may share a file too (two engines in one app): they take turns on one
 * in-process lock, asynchronously, and never wait on each other in SQLite (nor block the event loop).
 *
 * @example
 * ```ts
 * const store = await createSqliteStore({ filename: 'folio.db' });
 * ```
 */
export async function createSqliteStore(options: CreateSqliteStoreOptions): Promise<SqliteStore> {
  if (typeof options !== 'object' || options === null) {
    throw new FoliokitError('INVALID_CONFIGURATION', 'createSqliteStore needs { filename } or { database }');
  }
  let database: SqliteDatabaseLike;
  if ('database' in options && options.database) {
    database = options.database;
  } else if ('filename' in options && typeof options.filename === 'string' && options.filename.length > 0) {
    const { default: Database } = await import('better-sqlite3');
    try {
      database = new Database(options.filename) as unknown as SqliteDatabaseLike;
    } catch (error) {
      throw wrapError(error, 'STORE_ERROR', `Cannot open SQLite database ${options.filename}`, { field: 'filename' });
    }
  } else {
    throw new FoliokitError('INVALID_CONFIGURATION', 'createSqliteStore needs { filename } or { database }', {
      field: 'filename',
    });
  }
  const busy = options.busyTimeoutMs ?? 5000;
  // Every store of this process on this file takes turns on one lock (see lock.ts), so none of
  // them ever waits in SQLite's busy handler for another: the busy timeout is for other processes.
  const share = shareFileLock(database);
  let store: SqliteStore;
  try {
    await withLock(share.lock, () => configure(database, busy));
    const statements = new StatementCache(database);
    const db = new Kysely<FoliokitDatabase>({ dialect: new LockedSqliteDialect(database, share.lock, statements) });
    const base = createKyselyStore({
      db,
      dialect: 'sqlite',
      name: 'sqlite',
      supportsMultiInstance: false,
      hotPath: createSqliteNativePath(database, statements, share.lock),
      onClose: () => share.release(),
    });
    store = guardStore(Object.assign(base, { database }));
  } catch (error) {
    share.release();
    throw error;
  }

  if (options.migrate ?? true) {
    try {
      await store.migrate();
    } catch (error) {
      // Nothing was handed out: close the file and free its share of the lock.
      await store.close().catch(() => {});
      throw error;
    }
  }
  return store;
}
