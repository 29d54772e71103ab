/**
 * What a SQLite file keeps of a post-trade snapshot: the row written with the trade, decimals as
 * exact text, flags as JSON text. Snapshot behaviour itself is tested in core, on the memory store.
 */
import { join } from 'node:path';
import { createTestEngine, type TestEngine } from '@foliokit/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore, type SqliteStore } from '../src/index.js';
import { tempDir } from './helpers.js';

const dir = tempDir('foliokit-snapshots-');

let ctx: (TestEngine & { store: SqliteStore }) | undefined;
afterEach(async () => {
  await ctx?.close();
  await ctx?.store.close();
});

describe('post-trade snapshots in SQLite', () => {
  it('records a trade snapshot with the trade, from post-trade state, and announces it after commit', async () => {
    const store = await createSqliteStore({ filename: join(dir, 'snap.db') });
    ctx = { ...createTestEngine({ store, prices: { AAPL: '150', MSFT: '400', TSLA: '200' } }), store };
    const { engine, events } = ctx;
    const p = await engine.createPortfolio({ name: 'A', initialCash: '10000' });
    await engine.trade(p.id, { symbol: 'MSFT', side: 'buy', quantity: 3 });
    await engine.trade(p.id, { symbol: 'MSFT', side: 'sell', quantity: 1, price: '410', fee: '2' });
    const rows = store.database
      .prepare('select * from snapshots where portfolio_id = ? order by id')
      .all(p.id) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(2);
    // Buy 3 × 400 = 1200 → cash 8800, MSFT 3 at 400. Sell 1 at 410 − 2 fee → cash 9208, 2 MSFT at the fill 410.
    expect(rows[0]).toMatchObject({
      kind: 'trade',
      cash: '8800',
      market_value: '1200',
      total_value: '10000',
      cost_basis: '1200',
    });
    expect(rows[1]).toMatchObject({
      kind: 'trade',
      cash: '9208',
      market_value: '820',
      total_value: '10028',
      cost_basis: '800',
      unrealized_pnl: '20',
      realized_pnl: '8',
      net_deposits: '10000',
      flags: '[]',
      day: '2026-01-05',
      at: '2026-01-05T10:00:00.000Z',
    });
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'snapshot.recorded')).toHaveLength(2);
    expect(types.indexOf('snapshot.recorded')).toBeGreaterThan(types.indexOf('trade.executed'));
  });
});
