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
