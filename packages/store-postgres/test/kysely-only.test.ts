/**
 * The shared Kysely store with no native path, on Kysely's own `PostgresDialect` over a plain
 * `pg.Pool` (pg's default type parsers): what a third-party Kysely setup gets from
 * `@foliokit/core/sql`. It runs the whole conformance suite, so the Kysely ledger change and hot
 * reads the adapter replaces natively stay under test on PostgreSQL too (row lock included).
 */
import { createKyselyStore, type FoliokitDatabase, guardStore, type KyselyStore } from '@foliokit/core/sql';
import { type RawQuery, runStoreConformance, runStoreRaceConformance } from '@foliokit/core/testing';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll } from 'vitest';
import { dropSchema, PG_URL, rawQueryOf, schemaName } from './support/pg.js';

type KyselyOnlyStore = KyselyStore & { readonly pool: pg.Pool; readonly schema: string };

const schemas: string[] = [];

afterAll(async () => {
  for (const s of schemas) await dropSchema(s);
});

/** A migrated store on plain Kysely in `schema` (a fresh one when omitted), on a pool of its own. */
async function createKyselyOnlyStore(schema = schemaName('kysely')): Promise<KyselyOnlyStore> {
  if (!schemas.includes(schema)) schemas.push(schema);
  const pool = new pg.Pool({ connectionString: PG_URL, max: 5 });
  const db = new Kysely<FoliokitDatabase>({ dialect: new PostgresDialect({ pool }) });
  const store = guardStore(
    Object.assign(createKyselyStore({ db, dialect: 'postgres', name: 'postgres-kysely', schema }), { pool, schema }),
  );
  await store.migrate();
  return store;
}

const raw = (store: KyselyOnlyStore): RawQuery => rawQueryOf(store);

runStoreConformance({
  name: 'postgres (Kysely only, no native path)',
  createStore: () => createKyselyOnlyStore(),
  raw,
  numRuns: 50,
});

// Two app servers on one schema: the Kysely path's row lock must serialise them too.
const raceSchema = schemaName('kysely_race');
runStoreRaceConformance({
  name: 'postgres (Kysely only)',
  instances: 2,
  createStore: () => createKyselyOnlyStore(raceSchema),
});
