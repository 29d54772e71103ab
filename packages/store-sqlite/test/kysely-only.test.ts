/**
 * The shared Kysely store with no native path, on Kysely's own `SqliteDialect` over better-sqlite3:
 * what a third-party Kysely dialect gets from `@foliokit/core/sql`. It runs the whole conformance
 * suite, so the Kysely implementations the built-in adapters replace with native ones (the ledger
 * change, the hot reads) stay under test.
 */
import { createPortfolioEngine, silentLogger } from '@foliokit/core';
import { createKyselyStore, type FoliokitDatabase, guardStore, type KyselyStore } from '@foliokit/core/sql';
import {
  createTestProvider,
  type RawQuery,
  runStoreConformance,
  runStoreRaceConformance,
} from '@foliokit/core/testing';
import Database from 'better-sqlite3';
import { Kysely, type LogEvent, SqliteDialect } from 'kysely';
import { describe, expect, it } from 'vitest';

type KyselyOnlyStore = KyselyStore & { readonly database: Database.Database };

/** A migrated in-memory store on plain Kysely; `log` sees every statement Kysely runs. */
async function createKyselyOnlyStore(log?: (event: LogEvent) => void): Promise<KyselyOnlyStore> {
  const database = new Database(':memory:');
  database.pragma('foreign_keys = ON');
  const db = new Kysely<FoliokitDatabase>({ dialect: new SqliteDialect({ database }), ...(log ? { log } : {}) });
  const store = guardStore(
    Object.assign(createKyselyStore({ db, dialect: 'sqlite', name: 'sqlite-kysely' }), { database }),
  );
  await store.migrate();
  return store;
}

const raw =
  (store: KyselyOnlyStore): RawQuery =>
  async (sql, params) =>
    store.database.prepare(sql).all(...params) as Record<string, unknown>[];

runStoreConformance({
  name: 'sqlite (Kysely only, no native path)',
  createStore: () => createKyselyOnlyStore(),
  raw,
  numRuns: 200,
});

runStoreRaceConformance({ name: 'sqlite (Kysely only)', createStore: () => createKyselyOnlyStore() });

describe('the Kysely-only store', () => {
  it('runs the ledger change and the hot reads through Kysely, in the contract order', async () => {
    const statements: string[] = [];
    const store = await createKyselyOnlyStore((event) => statements.push(event.query.sql));
    const engine = createPortfolioEngine({
      store,
      marketData: createTestProvider({ prices: { AAPL: '10' } }),
      logger: silentLogger,
    });
    try {
      const p = await engine.createPortfolio({ name: 'k', initialCash: '100', costBasisMethod: 'fifo' });
      statements.length = 0;
      await engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: '2', idempotencyKey: 'once' });
      const ledger = statements.filter((s) => /"(portfolios|transactions|positions|lots|snapshots)"/.test(s));
      const first = (prefix: string) => ledger.findIndex((s) => s.startsWith(prefix));
      expect(first('select "id", "owner_id"')).toBeGreaterThanOrEqual(0);
      expect(first('select "id", "owner_id"')).toBeLessThan(first('select "id", "portfolio_id", "kind"'));
      expect(first('insert into "transactions"')).toBeGreaterThan(first('update "portfolios"'));
      expect(first('insert into "lots"')).toBeGreaterThan(0);
      statements.length = 0;
      const valuation = await engine.getValuation(p.id);
      expect(valuation.totals.totalValue).toBe('100');
      expect(statements.some((s) => s.includes('"positions"'))).toBe(true);
    } finally {
      await engine.close();
      await store.close();
    }
  });

  it('refuses calls after close with STORE_CLOSED', async () => {
    const store = await createKyselyOnlyStore();
    await store.close();
    await expect(store.getPortfolio('pf_x')).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    await expect(store.applyLedgerChange({ portfolioId: 'pf_x' }, () => null)).rejects.toMatchObject({
      code: 'STORE_CLOSED',
    });
  });
});
