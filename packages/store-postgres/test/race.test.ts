/**
 * The race conformance suite on PostgreSQL: 200 concurrent calls on one portfolio through the
 * engine, on one engine and spread over two engines with two pools on one schema (two app servers
 * on one database), and proof that the races bite: a read-modify-write store without a lock
 * oversells. One schema for the file, dropped at the end.
 */
import { runStoreRaceConformance } from '@foliokit/core/testing';
import { createPostgresStore } from '@foliokit/store-postgres';
import { afterAll } from 'vitest';
import { dropSchema, PG_URL, schemaName } from './support/pg.js';

const schema = schemaName('race');

afterAll(async () => {
  await dropSchema(schema);
});

// Each call opens its own store with its own pool, all on the one schema.
const createStore = () => createPostgresStore({ connectionString: PG_URL, schema });

runStoreRaceConformance({ name: 'postgres', createStore });
runStoreRaceConformance({ name: 'postgres', instances: 2, createStore });
