/**
 * The mutex that keeps this process's uses of one SQLite file apart. A store's Kysely driver and
 * its native hot path share it, so a synchronous trade never lands inside an open asynchronous
 * transaction; and every store of this process on the same file shares it too, so the synchronous
 * `BEGIN IMMEDIATE` of one store never waits in SQLite's busy handler for a lock that another store
 * of this process holds across an `await` (that wait would block the event loop, and the holder
 * with it, until the busy timeout). Other processes are still met by the busy timeout.
 */
import { realpathSync, statSync } from 'node:fs';
import type { SqliteDatabaseLike } from './database.js';

/** A FIFO mutex, free or held by one caller; `release` hands it straight to the next waiter. */
export class ConnectionLock {
  #held = false;
  readonly #waiters: Array<() => void> = [];

  /** Takes the lock now if it is free. */
  tryAcquire(): boolean {
    if (this.#held) return false;
    this.#held = true;
    return true;
  }

  /** Waits for the lock. */
  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#held = false;
  }
}

/** What the registry keeps per file: the lock, and how many open stores use it. */
interface FileLockEntry {
  readonly lock: ConnectionLock;
  users: number;
}

/**
 * The registry lives on `globalThis` under a registered symbol, so two copies of this package in
 * one process (a bundled app beside a test, source beside `dist`) still share one lock per file.
 */
const REGISTRY = Symbol.for('foliokit.store-sqlite.file-locks.v1');

function registry(): Map<string, FileLockEntry> {
  const holder = globalThis as unknown as Record<symbol, Map<string, FileLockEntry> | undefined>;
  let map = holder[REGISTRY];
  if (!map) {
    map = new Map();
    holder[REGISTRY] = map;
  }
  return map;
}

/**
 * The identity of the file behind `db`: device and inode (so symbolic and hard links to one file
 * agree), else its real path. `undefined` for a database with no file (`:memory:`, temporary).
 * The file exists by then: SQLite creates it when it opens it.
 */
export function databaseFileIdentity(db: SqliteDatabaseLike): string | undefined {
  const list = db.pragma('database_list') as Array<{ name: string; file: string }>;
  const file = list.find((entry) => entry.name === 'main')?.file;
  if (!file) return undefined;
  try {
    const stat = statSync(file, { bigint: true });
    if (stat.ino !== 0n) return `inode:${stat.dev}:${stat.ino}`;
  } catch {
    // Fall through to the path.
  }
  try {
    return `path:${realpathSync(file)}`;
  } catch {
    return `path:${file}`;
  }
}

/** A store's share of its file's lock; `release` (once, at close) lets the registry forget the file. */
export interface FileLockShare {
  readonly lock: ConnectionLock;
  release(): void;
}

/**
 * The lock of the file behind `db`, shared with every other open store of this process on that
 * file; a database with no file gets a lock of its own. Call `release` when the store closes.
 */
export function shareFileLock(db: SqliteDatabaseLike): FileLockShare {
  const key = databaseFileIdentity(db);
  if (key === undefined) return { lock: new ConnectionLock(), release: () => {} };
  const locks = registry();
  let entry = locks.get(key);
  if (!entry) {
    entry = { lock: new ConnectionLock(), users: 0 };
    locks.set(key, entry);
  }
  entry.users++;
  const shared = entry;
  let released = false;
  return {
    lock: shared.lock,
    release() {
      if (released) return;
      released = true;
      shared.users--;
      if (shared.users === 0 && locks.get(key) === shared) locks.delete(key);
    },
  };
}
