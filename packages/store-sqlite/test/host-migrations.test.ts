/**
 * A host app that runs its own Kysely migrations (default table names `kysely_migration` and
 * `kysely_migration_lock`) on the same SQLite file as foliokit: each migrator keeps its own
 * bookkeeping, so neither sees the other's migrations as "corrupted", before or after foliokit opens.
 */
import { join } from 'node:path';
import { createPortfolioEngine, silentLogger } from '@foliokit/core';
import { foliokitMigrations } from '@foliokit/core/sql';
import { createTestProvider } from '@foliokit/core/testing';
import Database from 'better-sqlite3';
import { Kysely, type Migration, Migrator, SqliteDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createSqliteStore } from '../src/index.js';
import { tempDir } from './helpers.js';

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

/** Runs the host's migrator (Kysely's defaults: no table names given) on the file; returns what ran. */
async function migrateHost(filename: string, migrations: Record<string, Migration>): Promise<string[]> {
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(filename) }) });
  try {
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    const { error, results } = await migrator.migrateToLatest();
    if (error) throw error;
    const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
    expect(applied.rows.map((r) => r.name)).toEqual(Object.keys(migrations).sort());
    return (results ?? []).map((r) => `${r.migrationName}:${r.status}`);
  } finally {
    await db.destroy();
  }
}

describe('a host app with its own Kysely migrations on the same SQLite file', () => {
  it('migrates before and after foliokit, and foliokit opens and reopens beside it', async () => {
    const filename = join(tempDir(), 'host.db');
    expect(await migrateHost(filename, hostV1)).toEqual(['2024_01_host_users:Success']);

    const store = await createSqliteStore({ filename });
    const engine = createPortfolioEngine({ store, marketData: createTestProvider(), logger: silentLogger });
    const p = await engine.createPortfolio({ name: 'beside the host', initialCash: '100' });
    await store.close();

    expect(await migrateHost(filename, hostV2)).toEqual(['2024_02_host_orders:Success']);

    const again = await createSqliteStore({ filename });
    try {
      await again.migrate();
      const db = again.database as unknown as Database.Database;
      const ours = db.prepare('select name from foliokit_migration order by name').all() as { name: string }[];
      expect(ours.map((r) => r.name)).toEqual(Object.keys(foliokitMigrations('sqlite')).sort());
      const tables = db.prepare("select name from sqlite_master where type = 'table' order by name").all() as {
        name: string;
      }[];
      expect(tables.map((t) => t.name)).toEqual(
        expect.arrayContaining([
          'foliokit_migration',
          'foliokit_migration_lock',
          'kysely_migration',
          'kysely_migration_lock',
          'host_users',
          'host_orders',
          'portfolios',
        ]),
      );
      expect((await again.getPortfolio(p.id))?.name).toBe('beside the host');
    } finally {
      await again.close();
    }
    expect(await migrateHost(filename, hostV2)).toEqual([]);
  });
});
