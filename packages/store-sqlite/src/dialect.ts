/**
 * A Kysely dialect for better-sqlite3 that shares its connection lock with the native hot path,
 * begins transactions with `BEGIN IMMEDIATE` (so a second process waits on the busy timeout
 * instead of failing mid-transaction), and caches prepared statements.
 */
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import type { ConnectionLock } from './lock.js';

/** The part of a better-sqlite3 `Database` this package uses (typed structurally). */
export interface SqliteDatabaseLike {
  prepare(sql: string): SqliteStatementLike;
  exec(sql: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: matches better-sqlite3's generic Transaction<F> structurally
  transaction(fn: (...args: any[]) => any): ((...args: any[]) => any) & { immediate(...args: any[]): any };
  close(): unknown;
  readonly open: boolean;
  readonly inTransaction: boolean;
  readonly memory: boolean;
}

export interface SqliteStatementLike {
  readonly reader: boolean;
  all(...params: unknown[]): unknown[];
  get(...params: unknown[]): unknown;
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  iterate(...params: unknown[]): IterableIterator<unknown>;
  raw(toggle?: boolean): SqliteStatementLike;
}

/** Prepared statements by SQL text, bounded. */
export class StatementCache {
  readonly #db: SqliteDatabaseLike;
  readonly #cache = new Map<string, SqliteStatementLike>();
  constructor(db: SqliteDatabaseLike) {
    this.#db = db;
  }
  get(sql: string): SqliteStatementLike {
    let stmt = this.#cache.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare(sql);
      if (this.#cache.size >= 500) this.#cache.clear();
      this.#cache.set(sql, stmt);
    }
    return stmt;
  }
}

class Connection implements DatabaseConnection {
  readonly #statements: StatementCache;
  constructor(statements: StatementCache) {
    this.#statements = statements;
  }
  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const stmt = this.#statements.get(query.sql);
    const params = query.parameters as unknown[];
    if (stmt.reader) return { rows: stmt.all(...params) as R[] };
    const { changes, lastInsertRowid } = stmt.run(...params);
    return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
  }
  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const stmt = this.#statements.get(query.sql);
    for (const row of stmt.iterate(...(query.parameters as unknown[]))) yield { rows: [row as R] };
  }
}

class LockedSqliteDriver implements Driver {
  readonly #db: SqliteDatabaseLike;
  readonly #lock: ConnectionLock;
  readonly #connection: Connection;
  constructor(db: SqliteDatabaseLike, lock: ConnectionLock, statements: StatementCache) {
    this.#db = db;
    this.#lock = lock;
    this.#connection = new Connection(statements);
  }
  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#lock.acquire();
    return this.#connection;
  }
  async beginTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('begin immediate'));
  }
  async commitTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('commit'));
  }
  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    if (this.#db.inTransaction) await c.executeQuery(CompiledQuery.raw('rollback'));
  }
  async releaseConnection(): Promise<void> {
    this.#lock.release();
  }
  async destroy(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}

/** The dialect. */
export class LockedSqliteDialect implements Dialect {
  readonly #db: SqliteDatabaseLike;
  readonly #lock: ConnectionLock;
  readonly #statements: StatementCache;
  constructor(db: SqliteDatabaseLike, lock: ConnectionLock, statements: StatementCache) {
    this.#db = db;
    this.#lock = lock;
    this.#statements = statements;
  }
  createAdapter() {
    return new SqliteAdapter();
  }
  createDriver(): Driver {
    return new LockedSqliteDriver(this.#db, this.#lock, this.#statements);
  }
  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }
  // biome-ignore lint/suspicious/noExplicitAny: Kysely's introspector takes any database
  createIntrospector(db: Kysely<any>) {
    return new SqliteIntrospector(db);
  }
}
