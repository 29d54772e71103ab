/**
 * `runBacktest` on a small CSV written out by hand (twelve bars of AAA and BBB in ./fixtures): every
 * fill, every day's value and the final state are worked out in the comments and asserted exactly,
 * for both fill modes; ties between the SMAs; a signal on the last bar dropped; sleeves that never
 * borrow; commission in cost basis; determinism; and a paper portfolio fed the same fills through
 * `engine.trade` agreeing exactly on cash, positions, realized P&L and value.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCsvProvider } from '@foliokit/providers';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { DailyBar } from '../ports/index.js';
import { codeOf, createTestEngine, createTestProvider } from '../testing/index.js';
import { getStrategy, listStrategies, registerStrategy, unregisterStrategy } from './registry.js';
import { type BacktestOptions, type BacktestResult, runBacktest } from './run.js';
import { defineStrategy } from './strategy.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const csv = createCsvProvider({ directory: fixtures });

/** The fixture run: sma-cross 2/3 on AAA and BBB, 2,000 of cash in two sleeves, a fixed fee of 1. */
function fixtureRun(overrides: Partial<BacktestOptions> = {}): Promise<BacktestResult> {
  return runBacktest({
    strategy: 'sma-cross',
    params: { fast: 2, slow: 3 },
    symbols: ['AAA', 'BBB'],
    from: '2025-03-01',
    to: '2025-03-31',
    marketData: csv,
    initialCash: '2000',
    commission: { fixed: '1' },
    ...overrides,
  });
}

/** Bars on consecutive calendar days from 2025-01-01, open = close. */
function bars(closes: Array<string | number>): DailyBar[] {
  return closes.map((c, i) => ({
    day: new Date(Date.UTC(2025, 0, 1 + i)).toISOString().slice(0, 10),
    open: String(c),
    close: String(c),
  }));
}

const fill = (day: string, symbol: string, side: 'buy' | 'sell', quantity: string, price: string, fee: string) => ({
  day,
  symbol,
  side,
  quantity,
  price,
  fee,
});
const strip = (r: BacktestResult) => r.fills.map(({ at: _at, ...f }) => f);

/*
 * The fixture, worked by hand. SMA2 / SMA3 of the closes, and the strict side (ties skipped):
 *
 * AAA closes 10 9 8 9 11 12 11 9 8 8 8 12 (days 03-03 … 03-18, weekdays)
 *   i2 03-05: 8.5 < 9       below (first side: no signal)
 *   i4 03-07: 10 > 9.333    above → BUY
 *   i7 03-12: 10 < 10.667   below → SELL
 *   i10 03-17: 8 = 8        tie: nothing
 *   i11 03-18: 10 > 9.333   above → BUY on the last bar: dropped
 * BBB closes 20 21 22 23 21 20 22 24 25 25 26 24
 *   i2 03-05: 21.5 > 21     above (first side: no entry at the start)
 *   i4 03-07: 22 = 22       tie
 *   i5 03-10: 20.5 < 21.333 below, flat: nothing to sell
 *   i6 03-11: 21 = 21       tie
 *   i7 03-12: 23 > 22       above → BUY
 *   i11 03-18: 25 = 25      tie on the last bar: nothing
 */
describe('runBacktest on the hand-checked fixture', () => {
  it("'next-open': fills at the next bar's open, every fill and value as worked out", async () => {
    const r = await fixtureRun();
    // AAA sleeve 1000: floor(999 / 11.5) = 86 → 989 + 1 = 990, sleeve 10.
    // AAA sell at 8.5: 731 − 1 = 730, sleeve 740, realized 730 − 990 = −260.
    // BBB sleeve 1000: floor(999 / 24.5) = 40 → 980 + 1 = 981, sleeve 19.
    expect(strip(r)).toEqual([
      fill('2025-03-10', 'AAA', 'buy', '86', '11.5', '1'),
      fill('2025-03-13', 'AAA', 'sell', '86', '8.5', '1'),
      fill('2025-03-13', 'BBB', 'buy', '40', '24.5', '1'),
    ]);
    expect(r.fills.map((f) => f.at)).toEqual([
      '2025-03-10T00:00:00.000Z',
      '2025-03-13T00:00:00.000Z',
      '2025-03-13T00:00:00.000Z',
    ]);
    expect(r.unfilled).toEqual([{ day: '2025-03-18', symbol: 'AAA', side: 'buy', quantity: null, reason: 'LAST_BAR' }]);
    expect(r.equity).toEqual([
      { day: '2025-03-03', value: '2000' },
      { day: '2025-03-04', value: '2000' },
      { day: '2025-03-05', value: '2000' },
      { day: '2025-03-06', value: '2000' },
      { day: '2025-03-07', value: '2000' },
      { day: '2025-03-10', value: '2042' }, // 1010 + 86 × 12
      { day: '2025-03-11', value: '1956' }, // 1010 + 86 × 11
      { day: '2025-03-12', value: '1784' }, // 1010 + 86 × 9
      { day: '2025-03-13', value: '1759' }, // 759 + 40 × 25
      { day: '2025-03-14', value: '1759' },
      { day: '2025-03-17', value: '1799' }, // 759 + 40 × 26
      { day: '2025-03-18', value: '1719' }, // 759 + 40 × 24
    ]);
    expect(r.cash).toBe('759');
    expect(r.sleeves).toEqual({ AAA: '740', BBB: '19' });
    expect(r.positions).toEqual([{ symbol: 'BBB', quantity: '40', costBasis: '981', realizedPnl: '0' }]);
    expect(r.realizedPnl).toBe('-260');
    expect(r.finalValue).toBe('1719'); // BBB marked at the last close, not sold
    expect(r.bars).toBe(24);
    expect(r.metrics.twr.value).toBeCloseTo(1719 / 2000 - 1, 12);
    expect(r.metrics.maxDrawdown.value).toBeCloseTo(1719 / 2042 - 1, 12);
  });

  it("'close': fills at the same bar's close, every fill and value as worked out", async () => {
    const r = await fixtureRun({ fill: 'close' });
    // AAA: floor(999 / 11) = 90 → 990 + 1 = 991, sleeve 9; sell 90 × 9 − 1 = 809, sleeve 818,
    // realized 809 − 991 = −182. BBB: floor(999 / 24) = 41 → 984 + 1 = 985, sleeve 15.
    expect(strip(r)).toEqual([
      fill('2025-03-07', 'AAA', 'buy', '90', '11', '1'),
      fill('2025-03-12', 'AAA', 'sell', '90', '9', '1'),
      fill('2025-03-12', 'BBB', 'buy', '41', '24', '1'),
    ]);
    expect(r.fills[0]?.at).toBe('2025-03-07T23:59:59.999Z');
    expect(r.unfilled).toEqual([{ day: '2025-03-18', symbol: 'AAA', side: 'buy', quantity: null, reason: 'LAST_BAR' }]);
    expect(r.equity.map((p) => p.value)).toEqual([
      '2000',
      '2000',
      '2000',
      '2000',
      '1999', // 1009 + 90 × 11
      '2089', // 1009 + 90 × 12
      '1999', // 1009 + 90 × 11
      '1817', // 833 + 41 × 24
      '1858', // 833 + 41 × 25
      '1858',
      '1899', // 833 + 41 × 26
      '1817', // 833 + 41 × 24
    ]);
    expect(r.cash).toBe('833');
    expect(r.sleeves).toEqual({ AAA: '818', BBB: '15' });
    expect(r.positions).toEqual([{ symbol: 'BBB', quantity: '41', costBasis: '985', realizedPnl: '0' }]);
    expect(r.realizedPnl).toBe('-182');
    expect(r.finalValue).toBe('1817');
  });

  it('puts the commission (fixed + rate × gross) in the cost basis, exactly', async () => {
    const r = await fixtureRun({ commission: { fixed: '1', rate: '0.001' } });
    // AAA: floor(999 / 11.5115) = 86; fee 1 + 0.001 × 989 = 1.989; cost basis 990.989.
    // Sell 86 × 8.5 = 731, fee 1.731, proceeds 729.269, realized 729.269 − 990.989 = −261.72.
    // BBB: floor(999 / 24.5245) = 40; fee 1 + 0.98 = 1.98; cost basis 981.98.
    expect(strip(r)).toEqual([
      fill('2025-03-10', 'AAA', 'buy', '86', '11.5', '1.989'),
      fill('2025-03-13', 'AAA', 'sell', '86', '8.5', '1.731'),
      fill('2025-03-13', 'BBB', 'buy', '40', '24.5', '1.98'),
    ]);
    expect(r.positions).toEqual([{ symbol: 'BBB', quantity: '40', costBasis: '981.98', realizedPnl: '0' }]);
    expect(r.realizedPnl).toBe('-261.72');
    expect(r.sleeves).toEqual({ AAA: '738.28', BBB: '18.02' });
    expect(r.finalValue).toBe('1716.3'); // 756.3 + 40 × 24
  });

  it('is deterministic: the same inputs give the same result', async () => {
    const options: Partial<BacktestOptions> = { commission: { fixed: '0.35', rate: '0.0007' }, fill: 'close' };
    const [a, b] = [await fixtureRun(options), await fixtureRun(options)];
    expect(b).toEqual(a);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });
});

describe('sma-cross ties', () => {
  it('an exact tie is neither above nor below (a float SMA would call 0.15 vs 0.15 "above")', async () => {
    // SMA2 / SMA3: i2 0.175 < 0.2167 (first side, below); i3 0.125 < 0.15; i4 0.15 = 0.15 (floats:
    // 0.15000000000000002 > 0.15); i5 0.15 > 0.1333 → BUY at 0.1; i6 0.075 < 0.1167 → SELL on the
    // last bar: dropped.
    const provider = createTestProvider({ history: { X: bars(['0.3', '0.2', '0.15', '0.1', '0.2', '0.1', '0.05']) } });
    const r = await runBacktest({
      strategy: 'sma-cross',
      params: { fast: 2, slow: 3 },
      symbols: ['X'],
      from: '2025-01-01',
      to: '2025-01-31',
      marketData: provider,
      initialCash: '100',
      fill: 'close',
    });
    expect(strip(r)).toEqual([fill('2025-01-06', 'X', 'buy', '1000', '0.1', '0')]);
    expect(r.unfilled).toEqual([{ day: '2025-01-07', symbol: 'X', side: 'sell', quantity: null, reason: 'LAST_BAR' }]);
  });

  it('below → tie → below never signals; below → tie → above buys; above → tie → below sells', async () => {
    // fast 1, slow 2: the side is the sign of close − previous close.
    // 10 9(below, first) 9(tie) 8(below) 8(tie) 9(above → BUY) 9(tie) 8(below → SELL) 8(tie, last)
    const provider = createTestProvider({ history: { X: bars([10, 9, 9, 8, 8, 9, 9, 8, 8]) } });
    const r = await runBacktest({
      strategy: 'sma-cross',
      params: { fast: 1, slow: 2 },
      symbols: ['X'],
      from: '2025-01-01',
      to: '2025-01-31',
      marketData: provider,
      initialCash: '90',
      fill: 'close',
    });
    expect(strip(r)).toEqual([
      fill('2025-01-06', 'X', 'buy', '10', '9', '0'),
      fill('2025-01-08', 'X', 'sell', '10', '8', '0'),
    ]);
    expect(r.unfilled).toEqual([]);
    expect(r.finalValue).toBe('80');
  });
});

describe('allocation', () => {
  const history = { DEAR: bars([600, 600, 600]), CHEAP: bars([10, 10, 10]) };
  const base = {
    strategy: 'buy-and-hold',
    from: '2025-01-01',
    to: '2025-01-31',
    initialCash: '1000',
    fill: 'close' as const,
  };

  it('equal sleeves never borrow: a sleeve too small to buy one share stays in cash', async () => {
    const r = await runBacktest({ ...base, symbols: ['DEAR', 'CHEAP'], marketData: createTestProvider({ history }) });
    // Sleeves of 500: DEAR at 600 is out of reach although the portfolio holds 1000.
    expect(strip(r)).toEqual([fill('2025-01-01', 'CHEAP', 'buy', '50', '10', '0')]);
    expect(r.unfilled).toEqual([
      { day: '2025-01-01', symbol: 'DEAR', side: 'buy', quantity: null, reason: 'INSUFFICIENT_CASH' },
    ]);
    expect(r.sleeves).toEqual({ DEAR: '500', CHEAP: '0' });
    expect(r.cash).toBe('500');
  });

  it("'shared': one pool, taken in the order of the symbols", async () => {
    const r = await runBacktest({
      ...base,
      symbols: ['DEAR', 'CHEAP'],
      allocation: 'shared',
      marketData: createTestProvider({ history }),
    });
    expect(strip(r)).toEqual([
      fill('2025-01-01', 'DEAR', 'buy', '1', '600', '0'),
      fill('2025-01-01', 'CHEAP', 'buy', '40', '10', '0'),
    ]);
    expect(r.sleeves).toBeUndefined();
    expect(r.cash).toBe('0');
  });

  it('splits the cash into equal sleeves to 12 places, the remainder left unspent', async () => {
    const r = await runBacktest({
      ...base,
      symbols: ['A', 'B', 'C'],
      marketData: createTestProvider({ history: { A: bars([1e6]), B: bars([1e6]), C: bars([1e6]) } }),
    });
    expect(r.sleeves).toEqual({ A: '333.333333333333', B: '333.333333333333', C: '333.333333333333' });
    expect(r.cash).toBe('1000');
  });
});

describe('a paper portfolio fed the same fills agrees exactly', () => {
  const cases: Array<[string, Partial<BacktestOptions>]> = [
    ['sma-cross, next-open, fixed + rate', { commission: { fixed: '1', rate: '0.001' } }],
    ['sma-cross, close, rate only, FIFO', { fill: 'close', commission: { rate: '0.0025' }, costBasisMethod: 'fifo' }],
    ['momentum, shared', { strategy: 'momentum', params: { lookback: 2 }, allocation: 'shared' }],
    ['mean-reversion', { strategy: 'mean-reversion', params: { period: 2, low: 40, high: 60 }, fill: 'close' }],
    ['buy-and-hold', { strategy: 'buy-and-hold', params: {} }],
  ];
  for (const [name, overrides] of cases) {
    it(name, async () => {
      const r = await fixtureRun(overrides);
      expect(r.fills.length).toBeGreaterThan(0);
      const t = createTestEngine({ start: '2025-03-19T10:00:00.000Z', prices: { AAA: '12', BBB: '24' } });
      try {
        const { engine } = t;
        const p = await engine.createPortfolio({
          name,
          initialCash: r.initialCash,
          initialCashAt: '2025-03-01T00:00:00.000Z',
          costBasisMethod: r.costBasisMethod,
        });
        for (const f of r.fills) {
          await engine.trade(p.id, {
            symbol: f.symbol,
            side: f.side,
            quantity: f.quantity,
            price: f.price,
            fee: f.fee,
            at: f.at,
          });
        }
        const portfolio = await engine.getPortfolio(p.id);
        expect(portfolio.cash).toBe(r.cash);
        expect(portfolio.realizedPnl).toBe(r.realizedPnl);
        const positions = (await engine.getPositions(p.id))
          .filter((x) => x.quantity !== '0')
          .map(({ symbol, quantity, costBasis, realizedPnl }) => ({ symbol, quantity, costBasis, realizedPnl }));
        expect(positions).toEqual(r.positions);
        // The engine's valuation at the last closes (AAA 12, BBB 24) is the backtest's final value.
        const valuation = await engine.getValuation(p.id);
        expect(valuation.totals.totalValue).toBe(r.finalValue);
      } finally {
        await t.close();
      }
    });
  }
});

describe('validation, progress and cancellation', () => {
  const cases: Array<[string, Partial<BacktestOptions>]> = [
    ['initialCash', { initialCash: '0' }],
    ['strategy', { strategy: 'no-such-strategy' }],
    ['params.fast', { params: { fast: 3, slow: 3 } }],
    ['params.slow', { params: { fast: 2, slow: 'x' } }],
    ['to', { from: '2025-03-31', to: '2025-03-01' }],
    ['symbols.1', { symbols: ['AAA', 'aaa'] }],
    ['fill', { fill: 'tomorrow' as 'close' }],
    ['commission.rate', { commission: { rate: '-0.1' } }],
    ['allocation', { allocation: 'weights' as 'shared' }],
  ];
  for (const [field, overrides] of cases) {
    it(`refuses a bad ${field} with VALIDATION_FAILED naming it`, async () => {
      const error = await fixtureRun(overrides).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field } });
    });
  }

  it('reports progress up to { done: total, total }', async () => {
    const seen: Array<{ done: number; total: number }> = [];
    await fixtureRun({ onProgress: (p) => void seen.push(p) });
    expect(seen.at(-1)).toEqual({ done: 24, total: 24 });
    for (let i = 1; i < seen.length; i++) expect(seen[i]?.done).toBeGreaterThanOrEqual(seen[i - 1]?.done ?? 0);
  });

  it('stops when its signal aborts, with CONFLICT and details.aborted', async () => {
    const controller = new AbortController();
    const error = await fixtureRun({
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done >= 10) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFLICT', details: { aborted: true } });
    expect(await codeOf(fixtureRun({ signal: AbortSignal.abort() }))).toBe('CONFLICT');
  });
});

describe('the strategy registry', () => {
  afterEach(() => void unregisterStrategy('up-day'));

  it('lists the built-ins', () => {
    expect(listStrategies().map((s) => s.name)).toEqual(
      expect.arrayContaining(['buy-and-hold', 'mean-reversion', 'momentum', 'rebalance', 'sma-cross']),
    );
    expect(getStrategy('sma-cross').name).toBe('sma-cross');
  });

  it("registers a user's strategy, runs it by name, and refuses a taken name", async () => {
    const upDay = defineStrategy({
      name: 'up-day',
      description: 'Long after an up day, flat after a down day.',
      params: z.object({}),
      onBar(ctx) {
        const [prev, today] = ctx.history(2);
        if (!prev || !today || today.close === prev.close) return;
        const up = Number(today.close) > Number(prev.close);
        if (up && ctx.position() === '0') ctx.buy();
        if (!up && ctx.position() !== '0') ctx.sell();
      },
    });
    registerStrategy(upDay);
    const r = await fixtureRun({ strategy: 'up-day', params: {} });
    expect(r.strategy).toBe('up-day');
    expect(r.fills.length).toBeGreaterThan(0);
    expect(() => registerStrategy(upDay)).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expect(() => registerStrategy({ ...upDay, name: 'sma-cross' }, { replace: true })).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
    expect(() => getStrategy('nope')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});
