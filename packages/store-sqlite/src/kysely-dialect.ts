/**
 * A Kysely dialect for better-sqlite3 that shares its connection lock and its prepared statements
 * with the native path, and begins transactions with `BEGIN IMMEDIATE` (so a second process waits
 * on the busy timeout instead of failing mid-transaction). The lock is the file's lock of this
 * process (lock.ts): a connection is held, from acquire to release, while no other store of this
 * process on the file runs a statement, so an open transaction here never meets theirs in SQLite.
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
import type { SqliteDatabaseLike } from './database.js';
import type { ConnectionLock } from './lock.js';
import type { StatementCache } from './statement-cache.js';

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

/** The dialect: Kysely's SQLite adapter and compiler over the locked driver. */
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
