/**
 * The store conformance suite on PostgreSQL: each group gets a fresh schema, checked with raw SQL
 * on that store's own schema, and every schema is dropped at the end.
 */
import { type RawQuery, runStoreConformance } from '@foliokit/core/testing';
import { createPostgresStore, type PostgresStore } from '@foliokit/store-postgres';
import { afterAll } from 'vitest';
import { dropSchema, PG_URL, rawQueryOf, schemaName } from './support/pg.js';

const schemas: string[] = [];

afterAll(async () => {
  for (const s of schemas) await dropSchema(s);
});

const raw = (store: PostgresStore): RawQuery => rawQueryOf(store);

runStoreConformance({
  name: 'postgres',
  createStore: async () => {
    const schema = schemaName('conf');
    schemas.push(schema);
    return createPostgresStore({ connectionString: PG_URL, schema });
  },
  raw,
});
