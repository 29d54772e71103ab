/**
 * Prepared statements by SQL text, shared by the Kysely dialect and the native path so each
 * statement is prepared once per connection. Array-mode statements (rows as arrays, no object per
 * row) are cached apart.
 */
import type { SqliteDatabaseLike, SqliteStatementLike } from './database.js';

/** At most this many statements of each mode are kept; past it the cache starts over. */
const LIMIT = 500;

export class StatementCache {
  readonly #db: SqliteDatabaseLike;
  readonly #objects = new Map<string, SqliteStatementLike>();
  readonly #arrays = new Map<string, SqliteStatementLike>();

  constructor(db: SqliteDatabaseLike) {
    this.#db = db;
  }

  /** The statement of `sql`, returning rows as objects. */
  get(sql: string): SqliteStatementLike {
    let stmt = this.#objects.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare(sql);
      if (this.#objects.size >= LIMIT) this.#objects.clear();
      this.#objects.set(sql, stmt);
    }
    return stmt;
  }

  /** The statement of a read `sql`, returning rows as arrays of values in the order selected. */
  arrays(sql: string): SqliteStatementLike {
    let stmt = this.#arrays.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare(sql).raw(true);
      if (this.#arrays.size >= LIMIT) this.#arrays.clear();
      this.#arrays.set(sql, stmt);
    }
    return stmt;
  }
}
