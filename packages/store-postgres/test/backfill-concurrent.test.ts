/**
 * Backfill is idempotent under concurrency: the same range run twice at once, from two engines on
 * one database (two app servers), leaves exactly one backfill row per portfolio and day.
 */
import { createPortfolioEngine, type DailyBar, silentLogger } from '@foliokit/core';
import { createManualClock, createTestProvider } from '@foliokit/core/testing';
import { afterAll, expect, it } from 'vitest';
import { createPostgresStore } from '../src/index.js';
import { admin, dropSchema, PG_URL, schemaName } from './support/pg.js';

const schema = schemaName('backfill2');
afterAll(() => dropSchema(schema));

function bars(from: string, days: number, start: number): DailyBar[] {
  const out: DailyBar[] = [];
  for (let i = 0; i < days; i++) {
    const day = new Date(Date.parse(`${from}T00:00:00Z`) + i * 86_400_000);
    if (day.getUTCDay() === 0 || day.getUTCDay() === 6) continue;
    out.push({ day: day.toISOString().slice(0, 10), close: (start + i * 0.25).toFixed(2) });
  }
  return out;
}

it('two engines backfilling the same range at once write one row per portfolio and day', async () => {
  const engines = [];
  const stores = [];
  for (let i = 0; i < 2; i++) {
    const store = await createPostgresStore({ connectionString: PG_URL, schema });
    stores.push(store);
    const clock = createManualClock('2026-03-01T12:00:00.000Z');
    const provider = createTestProvider({
      history: { AAPL: bars('2025-12-01', 90, 180), MSFT: bars('2025-12-01', 90, 400) },
      clock,
    });
    engines.push(createPortfolioEngine({ store, marketData: provider, clock, logger: silentLogger }));
  }
  const [a, b] = engines as [(typeof engines)[0], (typeof engines)[0]];
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const p = await a.createPortfolio({ name: `bf${i}` });
    await a.deposit(p.id, { amount: 100_000, at: '2026-01-02T15:00:00Z' });
    await a.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 10 + i, price: '181', at: '2026-01-05T15:00:00Z' });
    await a.trade(p.id, { symbol: 'MSFT', side: 'buy', quantity: 3, price: '401', at: '2026-01-20T15:00:00Z' });
    ids.push(p.id);
  }
  const range = { from: '2026-01-01', to: '2026-02-15' };
  const reports = await Promise.all([a.backfillAll(range), b.backfillAll(range), a.backfillAll(range)]);
  for (const r of reports) expect(r.failed).toEqual([]);
  const rows = await admin<{ portfolio_id: string; day: string; n: string }>(
    `select portfolio_id, day::text as day, count(*)::text as n from "${schema}".snapshots where kind = 'backfill' group by 1, 2`,
  );
  // Every day from the first ledger entry (2026-01-02) to the end of the range, once.
  expect(rows.length).toBe(3 * 45);
  expect(rows.every((r) => r.n === '1')).toBe(true);
  expect(new Set(rows.map((r) => r.portfolio_id))).toEqual(new Set(ids));
  for (const s of stores) await s.close();
});
