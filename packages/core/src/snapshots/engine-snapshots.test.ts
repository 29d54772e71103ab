/**
 * Snapshots through the engine, on the memory store: the post-trade snapshot in the trade's
 * change, snapshots on demand, history queries and downsampling, and the daily job's report.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPortfolioEngine, type SnapshotOptions } from '../index.js';
import { codeOf, createTestEngine, listAllSnapshots, type TestEngine } from '../testing/harness.js';

function setup(snapshots: SnapshotOptions = {}): TestEngine {
  return createTestEngine({ prices: { AAPL: '150', MSFT: '400', TSLA: '200' }, engine: { snapshots } });
}

let ctx: TestEngine;
afterEach(async () => {
  await ctx?.close();
});

describe('post-trade snapshots', () => {
  beforeEach(async () => {
    ctx = setup();
  });

  it('records a trade snapshot with the trade, from post-trade state, and announces it after commit', async () => {
    const { engine, store, events } = ctx;
    const p = await engine.createPortfolio({ name: 'A', initialCash: '10000' });
    await engine.trade(p.id, { symbol: 'MSFT', side: 'buy', quantity: 3 });
    await engine.trade(p.id, { symbol: 'MSFT', side: 'sell', quantity: 1, price: '410', fee: '2' });
    const rows = await store.listSnapshots(p.id, {});
    expect(rows).toHaveLength(2);
    // Buy 3 × 400 = 1200 → cash 8800, MSFT 3 at 400. Sell 1 at 410 − 2 fee → cash 9208, 2 MSFT at the fill 410.
    expect(rows[0]).toMatchObject({
      kind: 'trade',
      cash: '8800',
      marketValue: '1200',
      totalValue: '10000',
      costBasis: '1200',
    });
    expect(rows[1]).toMatchObject({
      kind: 'trade',
      cash: '9208',
      marketValue: '820',
      totalValue: '10028',
      costBasis: '800',
      unrealizedPnl: '20',
      realizedPnl: '8',
      netDeposits: '10000',
      flags: [],
      day: '2026-01-05',
      at: '2026-01-05T10:00:00.000Z',
    });
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'snapshot.recorded')).toHaveLength(2);
    expect(types.indexOf('snapshot.recorded')).toBeGreaterThan(types.indexOf('trade.executed'));
  });

  it('writes nothing for a rejected trade or an idempotent replay', async () => {
    const { engine, store } = ctx;
    const p = await engine.createPortfolio({ name: 'B', initialCash: '100' });
    await expect(engine.trade(p.id, { symbol: 'MSFT', side: 'buy', quantity: 1 })).rejects.toMatchObject({
      code: 'INSUFFICIENT_CASH',
    });
    await engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: '0.5', idempotencyKey: 'k1' });
    await engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: '0.5', idempotencyKey: 'k1' });
    expect((await store.listSnapshots(p.id, {})).map((r) => r.kind)).toEqual(['trade']);
  });

  it('values other positions at their last known price (flagged stale) and leaves unpriced ones out (flagged)', async () => {
    const { engine, store, provider, clock } = ctx;
    const p = await engine.createPortfolio({ name: 'C', initialCash: '10000' });
    await engine.trade(p.id, { symbol: 'ZZZ', side: 'buy', quantity: 2, price: '10' });
    await engine.trade(p.id, { symbol: 'TSLA', side: 'buy', quantity: 1 });
    await clock.advance(3_600_000);
    provider.failing = true;
    const t = await engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1, price: '150' });
    provider.failing = false;
    const [last] = (await store.listSnapshots(p.id, { kinds: ['trade'] })).slice(-1);
    // AAPL at its fill 150; TSLA at its last known price 200 (an hour old, the provider down: stale);
    // ZZZ priced nowhere: left out, flagged.
    expect(last).toMatchObject({
      cash: t.cashAfter,
      marketValue: '350',
      totalValue: '9980', // 9630 cash + 350
      costBasis: '350',
      flags: ['TSLA:stale', 'ZZZ:unpriced'],
    });
    expect(JSON.stringify(last)).not.toMatch(/NaN|Infinity/);
  });

  it('can be turned off', async () => {
    await ctx.close();
    ctx = setup({ onTrade: false });
    const p = await ctx.engine.createPortfolio({ name: 'D', initialCash: '1000' });
    await ctx.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1 });
    expect(await listAllSnapshots(ctx.store)).toEqual([]);
  });

  it('rejects invalid snapshot options at creation', async () => {
    expect(() =>
      createPortfolioEngine({ store: ctx.store, marketData: ctx.provider, snapshots: { intervalMs: -1 } }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_CONFIGURATION' }));
    expect(() =>
      createPortfolioEngine({ store: ctx.store, marketData: ctx.provider, snapshots: { bogus: 1 } as never }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_CONFIGURATION' }));
  });
});

describe('recordSnapshot', () => {
  beforeEach(async () => {
    ctx = setup();
  });

  it('records interval, trade and daily snapshots on demand; daily replaces today', async () => {
    const { engine, store, provider } = ctx;
    const p = await engine.createPortfolio({ name: 'M', initialCash: '1000' });
    await engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 2 });
    const s = await engine.recordSnapshot(p.id);
    expect(s).toMatchObject({ kind: 'interval', cash: '700', marketValue: '300', totalValue: '1000', flags: [] });
    await engine.recordSnapshot(p.id, 'daily');
    provider.setPrice('AAPL', '160');
    await ctx.clock.advance(60_000);
    await engine.recordSnapshot(p.id, 'daily');
    const daily = await store.listSnapshots(p.id, { kinds: ['daily'] });
    expect(daily.map((r) => r.totalValue)).toEqual(['1020']);
    await expect(engine.recordSnapshot(p.id, 'backfill' as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(engine.recordSnapshot('pf_nope')).rejects.toMatchObject({ code: 'PORTFOLIO_NOT_FOUND' });
  });
});

describe('getHistory', () => {
  beforeEach(async () => {
    ctx = setup();
  });

  async function seed() {
    const { engine, store } = ctx;
    const p = await engine.createPortfolio({ name: 'H' });
    const row = (at: string, total: string, kind: 'interval' | 'trade' | 'daily' = 'interval') => ({
      portfolioId: p.id,
      at,
      day: at.slice(0, 10),
      kind,
      cash: total,
      marketValue: '0',
      totalValue: total,
      costBasis: '0',
      unrealizedPnl: '0',
      realizedPnl: '0',
      netDeposits: total,
      flags: [],
    });
    await store.insertSnapshots([
      row('2026-01-03T09:00:00.000Z', '1'),
      row('2026-01-03T09:30:00.000Z', '2', 'trade'),
      row('2026-01-03T23:59:59.999Z', '3', 'daily'),
      row('2026-01-04T10:00:00.000Z', '4'),
      row('2026-01-04T10:10:00.000Z', '5'),
      row('2026-01-04T11:00:00.000Z', '6', 'trade'),
      row('2026-01-05T08:00:00.000Z', '7'),
    ]);
    return p.id;
  }

  it('returns the raw series oldest first, filtered by range and kind', async () => {
    const id = await seed();
    const all = await ctx.engine.getHistory(id, { from: '2026-01-01' });
    expect(all.items.map((s) => s.totalValue)).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    const trades = await ctx.engine.getHistory(id, { from: '2026-01-01', kinds: ['trade'] });
    expect(trades.items.map((s) => s.totalValue)).toEqual(['2', '6']);
    const ranged = await ctx.engine.getHistory(id, { from: '2026-01-04T10:00:00Z', to: '2026-01-04' });
    expect(ranged.items.map((s) => s.totalValue)).toEqual(['4', '5', '6']);
    // Default window of raw: the last day.
    const recent = await ctx.engine.getHistory(id);
    expect(recent.items.map((s) => s.totalValue)).toEqual(['5', '6', '7']);
  });

  it('downsamples to the last snapshot per hour and per day', async () => {
    const id = await seed();
    const hourly = await ctx.engine.getHistory(id, { from: '2026-01-03', interval: '1h' });
    expect(hourly.items.map((s) => s.totalValue)).toEqual(['2', '3', '5', '6', '7']);
    const daily = await ctx.engine.getHistory(id, { from: '2026-01-01', interval: '1d' });
    expect(daily.items.map((s) => s.totalValue)).toEqual(['3', '6', '7']);
    const dailyOnly = await ctx.engine.getHistory(id, { interval: '1d', kinds: ['daily', 'interval'] });
    expect(dailyOnly.items.map((s) => s.totalValue)).toEqual(['3', '5', '7']);
  });

  it('caps the page and says so', async () => {
    const id = await seed();
    const page = await ctx.engine.getHistory(id, { from: '2026-01-01', limit: 2 });
    expect(page.items.map((s) => s.totalValue)).toEqual(['1', '2']);
    expect(page.truncated).toBe(true);
    const full = await ctx.engine.getHistory(id, { from: '2026-01-01', limit: 7 });
    expect(full.truncated).toBe(false);
  });

  it('validates its input', async () => {
    const id = await seed();
    expect(await codeOf(ctx.engine.getHistory(id, { from: '2026-01-05', to: '2026-01-04' }))).toBe('VALIDATION_FAILED');
    expect(await codeOf(ctx.engine.getHistory(id, { limit: 10_001 }))).toBe('VALIDATION_FAILED');
    expect(await codeOf(ctx.engine.getHistory(id, { limit: 0 }))).toBe('VALIDATION_FAILED');
    expect(await codeOf(ctx.engine.getHistory(id, { interval: '5m' as never }))).toBe('VALIDATION_FAILED');
    expect(await codeOf(ctx.engine.getHistory(id, { kinds: ['weekly' as never] }))).toBe('VALIDATION_FAILED');
    expect(await codeOf(ctx.engine.getHistory(id, { from: 'yesterday' }))).toBe('VALIDATION_FAILED');
    expect(await codeOf(ctx.engine.getHistory(id, { bogus: 1 } as never))).toBe('VALIDATION_FAILED');
    expect(await codeOf(ctx.engine.getHistory(id, { from: '2025-01-01', interval: '1h' }))).toBe('RANGE_TOO_LARGE');
    expect(await codeOf(ctx.engine.getHistory(id, { from: '2000-01-01', interval: '1d' }))).toBe('RANGE_TOO_LARGE');
    expect(await codeOf(ctx.engine.getHistory('pf_missing', {}))).toBe('PORTFOLIO_NOT_FOUND');
  });
});

describe('runDailySnapshots', () => {
  beforeEach(async () => {
    ctx = setup({ batchSize: 2 });
  });

  it('values every portfolio; one that cannot be priced fails alone and is named in the report', async () => {
    const { engine, store, events } = ctx;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const p = await engine.createPortfolio({ name: `P${i}`, initialCash: '1000' });
      await engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1 });
      ids.push(p.id);
    }
    // Two portfolios hold a symbol priced nowhere (no quote, no stored price).
    await engine.trade(ids[1] as string, { symbol: 'NOPE', side: 'buy', quantity: 1, price: '5' });
    await engine.trade(ids[3] as string, { symbol: 'NOPE', side: 'buy', quantity: 2, price: '5' });
    const empty = await engine.createPortfolio({ name: 'cash only', initialCash: '50' });
    events.length = 0;
    const report = await engine.runDailySnapshots({ day: '2026-01-05' });
    expect(report).toMatchObject({
      day: '2026-01-05',
      method: 'latest',
      processed: 6,
      succeeded: 4,
      skipped: 0,
      failedCount: 2,
    });
    expect(report.failed).toEqual([
      { portfolioId: ids[1], code: 'PRICE_UNAVAILABLE', message: 'No price anywhere for NOPE' },
      { portfolioId: ids[3], code: 'PRICE_UNAVAILABLE', message: 'No price anywhere for NOPE' },
    ]);
    const rows = await listAllSnapshots(store, { kinds: ['daily'] });
    expect(rows.map((r) => r.portfolioId)).toEqual([ids[0], ids[2], ids[4], empty.id].sort());
    expect(rows.find((r) => r.portfolioId === ids[0])).toMatchObject({
      totalValue: '1000',
      at: '2026-01-05T10:00:00.000Z',
    });
    expect(rows.find((r) => r.portfolioId === empty.id)).toMatchObject({ totalValue: '50' });
    // One summary event pair, not one event per portfolio.
    expect(events.map((e) => e.type)).toEqual(['job.started', 'job.completed']);
  });

  it('replaces on rerun: exactly one row per portfolio and day', async () => {
    const { engine, store, provider, clock } = ctx;
    for (let i = 0; i < 3; i++) {
      const p = await engine.createPortfolio({ name: `R${i}`, initialCash: '1000' });
      await engine.trade(p.id, { symbol: 'MSFT', side: 'buy', quantity: 1 });
    }
    await clock.advanceTo('2026-01-06T00:00:00.000Z');
    const first = await engine.runDailySnapshots();
    expect(first.day).toBe('2026-01-05');
    provider.setPrice('MSFT', '420');
    await clock.advance(60_000); // past the price book's freshness window
    await engine.runDailySnapshots();
    await engine.runDailySnapshots({ day: '2026-01-05' });
    const daily = await listAllSnapshots(store, { kinds: ['daily'] });
    expect(new Set(daily.map((r) => r.portfolioId)).size).toBe(3);
    expect(daily.map((r) => [r.totalValue, r.at])).toEqual(Array(3).fill(['1020', '2026-01-05T23:59:59.999Z']));
  });

  it('skips portfolios created after the day and refuses a future day', async () => {
    const { engine } = ctx;
    await engine.createPortfolio({ name: 'new', initialCash: '1' });
    const report = await engine.runDailySnapshots({ day: '2026-01-04' });
    expect(report).toMatchObject({ processed: 1, succeeded: 0, skipped: 1, failedCount: 0 });
    await expect(engine.runDailySnapshots({ day: '2026-01-06' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { field: 'day' },
    });
    await expect(engine.runDailySnapshots({ day: '2026-02-30' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
