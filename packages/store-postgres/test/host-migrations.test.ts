/**
 * A host app that runs its own Kysely migrations (default table names `kysely_migration` and
 * `kysely_migration_lock`) in the same PostgreSQL schema as foliokit: each migrator keeps its own
 * bookkeeping, so neither sees the other's migrations as "corrupted", before or after foliokit opens —
 * whether foliokit is given the schema or finds it on the connection's search path.
 */
import { createPortfolioEngine, silentLogger } from '@foliokit/core';
import { foliokitMigrations } from '@foliokit/core/sql';
import { createTestProvider } from '@foliokit/core/testing';
import { createPostgresStore } from '@foliokit/store-postgres';
import { Kysely, type Migration, Migrator, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { admin, dropSchema, PG_URL, schemaName } from './support/pg.js';

const schemas: string[] = [];
afterAll(async () => {
  for (const s of schemas) await dropSchema(s);
});

/** The host's own migrations: a first one, and a second one added in its next release. */
const hostV1: Record<string, Migration> = {
  '2024_01_host_users': {
    async up(db) {
      await db.schema
        .createTable('host_users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .execute();
    },
  },
};
const hostV2: Record<string, Migration> = {
  ...hostV1,
  '2024_02_host_orders': {
    async up(db) {
      await db.schema
        .createTable('host_orders')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .execute();
    },
  },
};

/** A connection string whose sessions use `schema` as their search path (as the host's would). */
function onSearchPath(schema: string): string {
  const url = new URL(PG_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

/**
 * Runs the host's migrator on its schema with Kysely's default table names; returns what ran. (The
 * host names the schema: Kysely's existence check looks in every schema, so an unqualified migrator
 * would take another schema's `kysely_migration` for its own.)
 */
async function migrateHost(schema: string, migrations: Record<string, Migration>): Promise<string[]> {
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: onSearchPath(schema), max: 1 }) }),
  });
  try {
    const migrator = new Migrator({
      db: db.withSchema(schema),
      migrationTableSchema: schema,
      provider: { getMigrations: async () => migrations },
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error) throw error;
    return (results ?? []).map((r) => `${r.migrationName}:${r.status}`);
  } finally {
    await db.destroy();
  }
}

async function names(schema: string, table: string): Promise<string[]> {
  const rows = await admin<{ name: string }>(`select name from "${schema}"."${table}" order by name`);
  return rows.map((r) => r.name);
}

describe('a host app with its own Kysely migrations in the same PostgreSQL schema', () => {
  for (const how of ['schema option', 'search path'] as const) {
    it(`migrates before and after foliokit, and foliokit opens and reopens beside it (${how})`, async () => {
      const schema = schemaName('host');
      schemas.push(schema);
      await admin(`create schema "${schema}"`);
      const open = () =>
        how === 'schema option'
          ? createPostgresStore({ connectionString: PG_URL, schema, maxConnections: 2 })
          : createPostgresStore({ connectionString: onSearchPath(schema), maxConnections: 2 });

      expect(await migrateHost(schema, hostV1)).toEqual(['2024_01_host_users:Success']);

      const store = await open();
      const engine = createPortfolioEngine({ store, marketData: createTestProvider(), logger: silentLogger });
      const p = await engine.createPortfolio({ name: 'beside the host', initialCash: '100' });
      await store.close();

      expect(await migrateHost(schema, hostV2)).toEqual(['2024_02_host_orders:Success']);

      const again = await open();
      try {
        await again.migrate();
        expect((await again.getPortfolio(p.id))?.name).toBe('beside the host');
      } finally {
        await again.close();
      }
      expect(await migrateHost(schema, hostV2)).toEqual([]);

      expect(await names(schema, 'kysely_migration')).toEqual(Object.keys(hostV2).sort());
      expect(await names(schema, 'foliokit_migration')).toEqual(Object.keys(foliokitMigrations('postgres')).sort());
      const tables = await admin<{ table_name: string }>(
        `select table_name from information_schema.tables where table_schema = $1`,
        [schema],
      );
      expect(tables.map((t) => t.table_name)).toEqual(
        expect.arrayContaining(['foliokit_migration', 'foliokit_migration_lock', 'kysely_migration_lock']),
      );
    });
  }
});
