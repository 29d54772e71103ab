/**
 * Users backfill from files they already have: the CSV provider gives exactly the snapshots the
 * simulated provider gives when both hold the same daily bars.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPortfolioEngine, type MarketDataProvider, silentLogger } from '@foliokit/core';
import { createManualClock } from '@foliokit/core/testing';
import { createCsvProvider, createSimulatedProvider } from '@foliokit/providers';
import { createSqliteStore } from '@foliokit/store-sqlite';
import { afterAll, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'foliokit-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SYMBOLS = ['AAPL', 'MSFT', 'NVDA'];
const RANGE = { from: '2025-02-01', to: '2025-04-30' };

async function backfillWith(marketData: MarketDataProvider) {
  const store = await createSqliteStore({ filename: ':memory:' });
  const clock = createManualClock('2025-05-02T12:00:00.000Z');
  const engine = createPortfolioEngine({
    store,
    marketData,
    clock,
    logger: silentLogger,
    snapshots: { onTrade: false },
  });
  const p = await engine.createPortfolio({ name: 'csv' });
  await engine.deposit(p.id, { amount: '50000', at: '2025-02-03T15:00:00Z' });
  await engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 20, price: '230.5', at: '2025-02-04T15:00:00Z' });
  await engine.trade(p.id, { symbol: 'MSFT', side: 'buy', quantity: '7.5', price: '410', at: '2025-02-14T15:00:00Z' });
  await engine.trade(p.id, { symbol: 'NVDA', side: 'buy', quantity: 30, price: '120', at: '2025-03-03T15:00:00Z' });
  await engine.trade(p.id, { symbol: 'AAPL', side: 'sell', quantity: 5, price: '240', at: '2025-03-20T15:00:00Z' });
  await engine.withdraw(p.id, { amount: '1000', at: '2025-04-01T15:00:00Z' });
  const report = await engine.backfill(p.id, RANGE);
  const history = await engine.getHistory(p.id, { kinds: ['backfill'], from: RANGE.from, to: RANGE.to, limit: 1000 });
  await store.close();
  return { report, rows: history.items.map(({ portfolioId: _id, ...rest }) => rest) };
}

it('CSV files give the same backfill as the simulated provider holding the same bars', async () => {
  const simulated = createSimulatedProvider({ seed: 2025, clock: createManualClock('2025-05-02T12:00:00.000Z') });
  for (const symbol of SYMBOLS) {
    const bars = await simulated.getDailyHistory(symbol, { from: '2025-01-01', to: RANGE.to });
    const lines = ['Date,Open,High,Low,Close,Volume'];
    for (const b of bars) lines.push([b.day, b.open, b.high, b.low, b.close, b.volume ?? '0'].join(','));
    writeFileSync(join(dir, `${symbol}.csv`), `${lines.join('\r\n')}\r\n`);
  }
  const fromSimulated = await backfillWith(simulated);
  const fromCsv = await backfillWith(createCsvProvider({ directory: dir }));
  expect(fromSimulated.rows.length).toBeGreaterThan(80);
  expect(fromCsv.rows).toEqual(fromSimulated.rows);
  expect(fromCsv.report.written).toBe(fromSimulated.report.written);
  expect(fromCsv.report.unpriced).toEqual([]);
  // Spot check one day by hand: after the last trade, total = cash + Σ qty × close.
  const last = fromCsv.rows[fromCsv.rows.length - 1] as { totalValue: string; cash: string; marketValue: string };
  expect(Number(last.totalValue)).toBeCloseTo(Number(last.cash) + Number(last.marketValue), 6);
});
