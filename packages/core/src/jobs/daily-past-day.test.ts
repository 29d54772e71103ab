/**
 * A manual `runDailySnapshots({ day })` for a past day values it as backfill does: the ledger as
 * of the end of that day (a portfolio created later but with backdated entries covering the day
 * included) and that day's closes, not today's prices. Today's day, and no day (the day that just
 * ended), keep the live valuation at the latest prices.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestEngine, listAllSnapshots, type TestEngine } from '../testing/harness.js';

const HISTORY = {
  AAPL: [
    { day: '2026-01-02', close: '100' },
    { day: '2026-01-05', close: '110' },
    { day: '2026-01-06', close: '120' },
    { day: '2026-01-07', close: '130' },
  ],
};

let ctx: TestEngine | undefined;
afterEach(async () => {
  await ctx?.close();
});

/**
 * Today is 2026-01-10 and AAPL trades at 200. `old` was created on 2026-01-05 and bought 10 AAPL at
 * 100 that day; `late` was created today with a deposit and a buy of 5 AAPL at 100 dated 2026-01-03.
 */
async function setup() {
  ctx = createTestEngine({ start: '2026-01-05T09:00:00.000Z', prices: { AAPL: '100' }, history: HISTORY });
  const { engine, clock, provider } = ctx;
  const old = await engine.createPortfolio({ name: 'old', initialCash: '10000' });
  await engine.trade(old.id, { symbol: 'AAPL', side: 'buy', quantity: 10 });
  clock.set('2026-01-10T10:00:00.000Z');
  provider.setPrice('AAPL', '200');
  const late = await engine.createPortfolio({ name: 'late' });
  await engine.deposit(late.id, { amount: '5000', at: '2026-01-03T12:00:00.000Z' });
  await engine.trade(late.id, {
    symbol: 'AAPL',
    side: 'buy',
    quantity: 5,
    price: '100',
    at: '2026-01-03T13:00:00.000Z',
  });
  return { ...ctx, old, late };
}

describe('runDailySnapshots for a past day', () => {
  it('values every portfolio whose ledger covers the day, from the ledger and closes of that day', async () => {
    const { engine, store, old, late } = await setup();
    const report = await engine.runDailySnapshots({ day: '2026-01-06' });
    expect(report).toMatchObject({ day: '2026-01-06', method: 'history', processed: 2, succeeded: 2, skipped: 0 });
    const rows = await listAllSnapshots(store, { kinds: ['daily'] });
    const byId = new Map(rows.map((r) => [r.portfolioId, r]));
    expect(rows).toHaveLength(2);
    // Valued at 2026-01-06's close of 120, not today's 200.
    expect(byId.get(old.id)).toMatchObject({
      day: '2026-01-06',
      at: '2026-01-06T23:59:59.999Z',
      cash: '9000',
      marketValue: '1200',
      totalValue: '10200',
      flags: [],
    });
    expect(byId.get(late.id)).toMatchObject({
      day: '2026-01-06',
      cash: '4500',
      marketValue: '600',
      totalValue: '5100',
    });
  });

  it('skips a portfolio with no ledger entry by the end of the day', async () => {
    const { engine, store, late } = await setup();
    const report = await engine.runDailySnapshots({ day: '2026-01-04' });
    expect(report).toMatchObject({ method: 'history', processed: 2, succeeded: 1, skipped: 1, failedCount: 0 });
    const rows = await listAllSnapshots(store, { kinds: ['daily'] });
    // 2026-01-04 is a Sunday: Friday's close of 100 carries over.
    expect(rows).toEqual([expect.objectContaining({ portfolioId: late.id, day: '2026-01-04', totalValue: '5000' })]);
  });

  it('keeps the live valuation for today, and for no day (the day that just ended)', async () => {
    const { engine, store, old } = await setup();
    const today = await engine.runDailySnapshots({ day: '2026-01-10' });
    expect(today).toMatchObject({ method: 'latest', processed: 2, succeeded: 2 });
    const yesterday = await engine.runDailySnapshots();
    expect(yesterday).toMatchObject({ day: '2026-01-09', method: 'latest', processed: 2, succeeded: 1, skipped: 1 });
    const rows = await listAllSnapshots(store, { kinds: ['daily'] });
    expect(rows.filter((r) => r.portfolioId === old.id).map((r) => [r.day, r.totalValue])).toEqual([
      ['2026-01-09', '11000'],
      ['2026-01-10', '11000'],
    ]);
  });
});
