/** The part of better-sqlite3 this package uses, typed structurally (users need no `@types`). */

/** An open better-sqlite3 `Database`. */
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

/** A prepared better-sqlite3 `Statement`. */
export interface SqliteStatementLike {
  readonly reader: boolean;
  all(...params: unknown[]): unknown[];
  get(...params: unknown[]): unknown;
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  iterate(...params: unknown[]): IterableIterator<unknown>;
  raw(toggle?: boolean): SqliteStatementLike;
}
