/**
 * PostgreSQL test helpers: the server from `FOLIOKIT_PG_URL` (default the local one), a random
 * schema per test file, dropped after. A missing server fails the tests loudly; nothing is skipped.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The test server. */
export const PG_URL = process.env.FOLIOKIT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh schema name, unique per call. */
export function schemaName(prefix: string): string {
  return `fk_${prefix}_${randomBytes(5).toString('hex')}`;
}

/** Runs one query on a short-lived connection (fails loudly when the server is not there). */
export async function admin<T extends Record<string, unknown> = Record<string, unknown>>(
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${PG_URL} (set FOLIOKIT_PG_URL): ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Drops a schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  await admin(`drop schema if exists "${schema}" cascade`);
}

/** The part of a pool the raw reader needs (a `pg.Pool`, or the store's own pool). */
interface PoolLike {
  connect(): Promise<{
    query(config: { text: string; values?: unknown[] }): Promise<{ rows: unknown[] }>;
    release(destroy?: boolean): void;
  }>;
}

/**
 * The conformance suite's raw reader for a PostgreSQL store: reads the database the store writes,
 * bypassing its getters, in one read-only transaction on a connection of the store's pool, with the
 * search path set to the store's schema and the suite's `?` placeholders numbered for PostgreSQL.
 */
export function rawQueryOf(store: { readonly pool: PoolLike; readonly schema: string }) {
  return async (sql: string, params: readonly unknown[]): Promise<Record<string, unknown>[]> => {
    let i = 0;
    const text = sql.replace(/\?/g, () => `$${++i}`);
    const client = await store.pool.connect();
    try {
      await client.query({ text: 'begin read only' });
      await client.query({ text: `set local search_path to "${store.schema}"` });
      const { rows } = await client.query({ text, values: [...params] });
      await client.query({ text: 'commit' });
      client.release();
      return rows as Record<string, unknown>[];
    } catch (error) {
      // Never hand a connection in a failed transaction back to the store's pool.
      client.release(true);
      throw error;
    }
  };
}
