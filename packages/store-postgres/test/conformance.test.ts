/**
 * The store conformance suite on PostgreSQL: each group gets a fresh schema, checked with raw SQL
 * on that store's own schema, and every schema is dropped at the end.
 */
import { type RawQuery, runStoreConformance } from '@foliokit/core/testing';
import { createPostgresStore, type PostgresStore } from '@foliokit/store-postgres';
import { afterAll } from 'vitest';
import { dropSchema, PG_URL, schemaName } from './support/pg.js';

const schemas: string[] = [];

afterAll(async () => {
  for (const s of schemas) await dropSchema(s);
});

/**
 * Reads the database the store writes, bypassing its getters: one read-only transaction on a
 * connection of the store's pool, with the search path set to the store's schema and the suite's
 * `?` placeholders numbered for PostgreSQL.
 */
const raw =
  (store: PostgresStore): RawQuery =>
  async (sql, params) => {
    let i = 0;
    const text = sql.replace(/\?/g, () => `$${++i}`);
    const client = await store.pool.connect();
    try {
      await client.query({ text: 'begin read only' });
      await client.query({ text: `set local search_path to "${store.schema}"` });
      const { rows } = await client.query({ text, values: [...params] });
      await client.query({ text: 'commit' });
      client.release();
      return rows;
    } catch (error) {
      // Never hand a connection in a failed transaction back to the store's pool.
      client.release(true);
      throw error;
    }
  };

runStoreConformance({
  name: 'postgres',
  createStore: async () => {
    const schema = schemaName('conf');
    schemas.push(schema);
    return createPostgresStore({ connectionString: PG_URL, schema });
  },
  raw,
});
