/**
 * The SQLite store itself: options, reopening a file, WAL and foreign keys, and closing.
 */
import { join } from 'node:path';
import { createPortfolioEngine, silentLogger } from '@foliokit/core';
import { createTestProvider } from '@foliokit/core/testing';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSqliteStore } from '../src/index.js';
import { tempDir } from './helpers.js';

const dir = tempDir();
const market = () => createTestProvider({ prices: { AAPL: '100', MSFT: '250.5' } });

describe('createSqliteStore', () => {
  it('reopening a file shows the same portfolios, ledger and positions', async () => {
    const filename = join(dir, 'reopen.db');
    const first = await createSqliteStore({ filename });
    const a = createPortfolioEngine({ store: first, marketData: market(), logger: silentLogger });
    const p = await a.createPortfolio({ name: 'Keep', ownerId: 'u1', initialCash: '1000', costBasisMethod: 'fifo' });
    await a.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 3 });
    await a.trade(p.id, { symbol: 'MSFT', side: 'buy', quantity: '0.5', fee: '0.25' });
    await a.trade(p.id, { symbol: 'AAPL', side: 'sell', quantity: 1, price: '110' });
    await a.addToWatchlist(p.id, 'NVDA');
    const before = {
      portfolio: await a.getPortfolio(p.id),
      ledger: await a.listTransactions(p.id),
      positions: await a.getPositions(p.id),
      lots: await first.listLots(p.id),
      watch: await a.getWatchlist(p.id),
    };
    await first.close();

    const second = await createSqliteStore({ filename });
    const b = createPortfolioEngine({ store: second, marketData: market(), logger: silentLogger });
    expect({
      portfolio: await b.getPortfolio(p.id),
      ledger: await b.listTransactions(p.id),
      positions: await b.getPositions(p.id),
      lots: await second.listLots(p.id),
      watch: await b.getWatchlist(p.id),
    }).toEqual(before);
    expect((await b.listPortfolios({ ownerId: 'u1' })).items.map((x) => x.id)).toEqual([p.id]);
    await second.close();
  });

  it('opens in WAL mode with foreign keys on and a busy timeout', async () => {
    const store = await createSqliteStore({ filename: join(dir, 'pragmas.db'), busyTimeoutMs: 1234 });
    expect(store.database.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.database.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.database.pragma('busy_timeout', { simple: true })).toBe(1234);
    await store.close();
    expect(store.database.open).toBe(false);
  });

  it('takes a better-sqlite3 database you opened, and :memory:', async () => {
    const database = new Database(':memory:');
    const store = await createSqliteStore({ database });
    const engine = createPortfolioEngine({ store, marketData: market(), logger: silentLogger });
    const p = await engine.createPortfolio({ name: 'Mine', initialCash: 5 });
    expect((database.prepare('select cash from portfolios where id = ?').get(p.id) as { cash: string }).cash).toBe('5');
    await store.close();
    expect(database.open).toBe(false);
  });

  it('refuses bad options and calls after close with typed errors', async () => {
    await expect(createSqliteStore({} as never)).rejects.toMatchObject({ code: 'INVALID_CONFIGURATION' });
    await expect(createSqliteStore({ filename: '' })).rejects.toMatchObject({ code: 'INVALID_CONFIGURATION' });
    await expect(createSqliteStore({ filename: join(dir, 'no/such/dir/x.db') })).rejects.toMatchObject({
      code: 'STORE_ERROR',
      details: { field: 'filename' },
    });
    const store = await createSqliteStore({ filename: ':memory:' });
    await store.close();
    await expect(store.getPortfolio('pf_x')).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    await expect(store.applyLedgerChange({ portfolioId: 'pf_x' }, () => null)).rejects.toMatchObject({
      code: 'STORE_CLOSED',
    });
    await expect(store.listSnapshots('pf_x', {})).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });
});
