/**
 * Target weights in the backtester: the `rebalance` built-in on the hand-checked CSV fixture (every
 * fill written out), period boundaries, the drift band, a buy cut by the commission, validation,
 * the SAME orders as a paper portfolio's `engine.rebalance` on the same holdings and prices (one
 * rule, analytics' `planOrders`), and benchmark metrics against values worked out by hand.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCsvProvider } from '@foliokit/providers';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { DailyBar } from '../ports/index.js';
import { codeOf, createTestEngine, createTestProvider } from '../testing/index.js';
import { type BacktestOptions, type BacktestResult, checkBacktestOptions, runBacktest } from './run.js';
import { getSignals } from './signals.js';
import { periodOf } from './strategies/rebalance.js';
import { defineStrategy } from './strategy.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const csv = createCsvProvider({ directory: fixtures });

/** The fixture (AAA, BBB, 2025-03-03 … 03-18, weekdays) as a model portfolio: 50 % AAA, 30 % BBB, 20 % cash. */
function modelRun(overrides: Partial<BacktestOptions> = {}): Promise<BacktestResult> {
  return runBacktest({
    strategy: 'rebalance',
    params: { targets: { AAA: 0.5, BBB: 0.3 }, every: 'week' },
    symbols: ['AAA', 'BBB'],
    from: '2025-03-01',
    to: '2025-03-31',
    marketData: csv,
    initialCash: '10000',
    commission: { fixed: '1' },
    fill: 'close',
    ...overrides,
  });
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

/** Bars on the given days, open = close. */
function barsOn(days: string[], closes: Array<string | number>): DailyBar[] {
  return days.map((day, i) => ({ day, open: String(closes[i]), close: String(closes[i]) }));
}

/*
 * Closes (weekdays from Monday 03-03):
 *   AAA 10 9 8 9 11 | 12 11 9 8 8 | 8 12
 *   BBB 20 21 22 23 21 | 20 22 24 25 25 | 26 24
 * Weekly: rebalances on the Mondays 03-03, 03-10, 03-17 (the first day of each ISO week).
 */
describe('rebalance on the hand-checked fixture', () => {
  it("'close': every fill at the Monday closes, sells first, whole shares, commission paid", async () => {
    const r = await modelRun();
    // 03-03 (AAA 10, BBB 20): total 10,000. AAA 5,000 / 10 = 500; BBB 3,000 / 20 = 150.
    //   cash 10,000 − 5,001 − 3,001 = 1,998.
    // 03-10 (AAA 12, BBB 20): total 1,998 + 6,000 + 3,000 = 10,998.
    //   AAA target 5,499 − 6,000 = −501 → sell floor(501 / 12) = 41 (41.75): cash 1,998 + 492 − 1 = 2,489.
    //   BBB target 3,299.4 − 3,000 = 299.4 → buy floor(299.4 / 20) = 14: cash 2,489 − 281 = 2,208.
    // 03-17 (AAA 8, BBB 26): AAA 459, BBB 164; total 2,208 + 3,672 + 4,264 = 10,144.
    //   BBB target 3,043.2 − 4,264 = −1,220.8 → sell floor(1,220.8 / 26) = 46: cash 2,208 + 1,196 − 1 = 3,403.
    //   AAA target 5,072 − 3,672 = 1,400 → buy 1,400 / 8 = 175: cash 3,403 − 1,401 = 2,002.
    expect(strip(r)).toEqual([
      fill('2025-03-03', 'AAA', 'buy', '500', '10', '1'),
      fill('2025-03-03', 'BBB', 'buy', '150', '20', '1'),
      fill('2025-03-10', 'AAA', 'sell', '41', '12', '1'),
      fill('2025-03-10', 'BBB', 'buy', '14', '20', '1'),
      fill('2025-03-17', 'BBB', 'sell', '46', '26', '1'),
      fill('2025-03-17', 'AAA', 'buy', '175', '8', '1'),
    ]);
    expect(r.fills[0]?.at).toBe('2025-03-03T23:59:59.999Z');
    expect(r.unfilled).toEqual([]);
    expect(r.allocation).toBe('shared');
    expect(r.sleeves).toBeUndefined();
    expect(r.cash).toBe('2002');
    expect(r.positions.map((p) => [p.symbol, p.quantity])).toEqual([
      ['AAA', '634'],
      ['BBB', '118'],
    ]);
    expect(r.equity.slice(0, 2)).toEqual([
      { day: '2025-03-03', value: '9998' }, // 1,998 + 5,000 + 3,000
      { day: '2025-03-04', value: '9648' }, // 1,998 + 500 × 9 + 150 × 21
    ]);
    expect(r.finalValue).toBe('12442'); // 2,002 + 634 × 12 + 118 × 24
    expect(r.params).toEqual({ targets: { AAA: 0.5, BBB: 0.3 }, every: 'week', band: 0 });
  });

  it("'next-open': asked on the Monday, sized and filled at Tuesday's opens", async () => {
    const r = await modelRun({ fill: 'next-open' });
    // 03-04 opens (AAA 9.5, BBB 20.5): 5,000 / 9.5 = 526.3 → 526; 3,000 / 20.5 = 146.3 → 146.
    //   cash 10,000 − 4,998 − 2,994 = 2,008.
    // 03-11 opens (12, 20.5): total 2,008 + 6,312 + 2,993 = 11,313. AAA 5,656.5 − 6,312 = −655.5
    //   → sell 54 (54.6); BBB 3,393.9 − 2,993 = 400.9 → buy 19 (19.56). cash 2,008 + 647 − 390.5 = 2,264.5.
    // 03-18 opens (9, 25.5): AAA 472, BBB 165; total 2,264.5 + 4,248 + 4,207.5 = 10,720.
    //   BBB 3,216 − 4,207.5 = −991.5 → sell 38 (38.9); AAA 5,360 − 4,248 = 1,112 → buy 123 (123.6).
    //   cash 2,264.5 + 968 − 1,108 = 2,124.5.
    expect(strip(r)).toEqual([
      fill('2025-03-04', 'AAA', 'buy', '526', '9.5', '1'),
      fill('2025-03-04', 'BBB', 'buy', '146', '20.5', '1'),
      fill('2025-03-11', 'AAA', 'sell', '54', '12', '1'),
      fill('2025-03-11', 'BBB', 'buy', '19', '20.5', '1'),
      fill('2025-03-18', 'BBB', 'sell', '38', '25.5', '1'),
      fill('2025-03-18', 'AAA', 'buy', '123', '9', '1'),
    ]);
    expect(r.fills[0]?.at).toBe('2025-03-04T00:00:00.000Z');
    expect(r.cash).toBe('2124.5');
    expect(r.finalValue).toBe('12312.5'); // 2,124.5 + 595 × 12 + 127 × 24
  });

  it('band: a symbol within the band of its target is left alone, the others are traded', async () => {
    // 03-10: AAA weighs 6,000 / 10,998 = 0.5456 (off by 0.0456), BBB 3,000 / 10,998 = 0.2728 (0.0272).
    const wide = await modelRun({ params: { targets: { AAA: 0.5, BBB: 0.3 }, every: 'week', band: 0.05 } });
    expect(wide.fills.filter((f) => f.day === '2025-03-10')).toEqual([]);
    const mid = await modelRun({ params: { targets: { AAA: 0.5, BBB: 0.3 }, every: 'week', band: 0.04 } });
    expect(strip(mid).filter((f) => f.day === '2025-03-10')).toEqual([
      fill('2025-03-10', 'AAA', 'sell', '41', '12', '1'),
    ]);
    const none = await modelRun({ params: { targets: { AAA: 0.5, BBB: 0.3 }, every: 'week', band: 0 } });
    expect(none.fills.filter((f) => f.day === '2025-03-10').map((f) => f.symbol)).toEqual(['AAA', 'BBB']);
  });

  it('a buy the commission makes unaffordable is cut to the whole shares the cash pays for', async () => {
    // 8,000 at 50 / 50: the plan (no fee) buys 400 AAA and 200 BBB, all the cash. AAA fills (4,001);
    // 3,999 left: BBB is cut to floor(3,998 / 20) = 199 (3,981). Monthly: one rebalance.
    const r = await modelRun({ initialCash: '8000', params: { targets: { AAA: 0.5, BBB: 0.5 } } });
    expect(strip(r)).toEqual([
      fill('2025-03-03', 'AAA', 'buy', '400', '10', '1'),
      fill('2025-03-03', 'BBB', 'buy', '199', '20', '1'),
    ]);
    expect(r.cash).toBe('18');
  });

  it('a paper portfolio fed the fills agrees exactly (every fill went through planTrade)', async () => {
    const r = await modelRun({
      commission: { fixed: '0.5', rate: '0.001' },
      fill: 'next-open',
      costBasisMethod: 'fifo',
    });
    const t = createTestEngine({ start: '2025-03-19T10:00:00.000Z', prices: { AAA: '12', BBB: '24' } });
    try {
      const p = await t.engine.createPortfolio({
        name: 'model',
        initialCash: r.initialCash,
        initialCashAt: '2025-03-01T00:00:00.000Z',
        costBasisMethod: 'fifo',
      });
      for (const f of r.fills) {
        const { symbol, side, quantity, price, fee, at } = f;
        await t.engine.trade(p.id, { symbol, side, quantity, price, fee, at });
      }
      expect((await t.engine.getPortfolio(p.id)).cash).toBe(r.cash);
      expect((await t.engine.getValuation(p.id)).totals.totalValue).toBe(r.finalValue);
    } finally {
      await t.close();
    }
  });
});

describe('the same rule as a paper portfolio', () => {
  it('orders equal engine.rebalance on the same holdings and prices, day after day', async () => {
    // No commission: the backtest and the engine then hold the same cash and shares after every
    // rebalance, and each rebalance day's fills must be the engine's planned orders exactly.
    const r = await modelRun({ commission: undefined, params: { targets: { AAA: 0.45, BBB: 0.35 }, every: 'day' } });
    const closes = new Map<string, { AAA: string; BBB: string }>();
    const [aaa, bbb] = [
      await csv.getDailyHistory('AAA', { from: '2025-03-01', to: '2025-03-31' }),
      await csv.getDailyHistory('BBB', { from: '2025-03-01', to: '2025-03-31' }),
    ];
    aaa.forEach((bar, i) => void closes.set(bar.day, { AAA: bar.close, BBB: (bbb[i] as DailyBar).close }));
    const t = createTestEngine({ start: '2025-03-19T10:00:00.000Z' });
    try {
      const p = await t.engine.createPortfolio({ name: 'model', initialCash: '10000' });
      await t.engine.setTargets(p.id, [
        { symbol: 'AAA', weight: '0.45' },
        { symbol: 'BBB', weight: '0.35' },
      ]);
      let compared = 0;
      for (const [day, prices] of closes) {
        t.provider.setPrice('AAA', prices.AAA);
        t.provider.setPrice('BBB', prices.BBB);
        await t.clock.advance(86_400_000); // past the price book's freshness: the new prices are read
        const done = await t.engine.rebalance(p.id, { fractional: false, idempotencyKey: `rb-${day}` });
        const planned = done.orders.map((o) => ({
          symbol: o.symbol,
          side: o.side,
          quantity: o.quantity,
          price: o.price,
        }));
        const filled = r.fills
          .filter((f) => f.day === day)
          .map((f) => ({ symbol: f.symbol, side: f.side, quantity: f.quantity, price: f.price }));
        expect({ day, orders: filled }).toEqual({ day, orders: planned });
        compared += planned.length;
      }
      expect(compared).toBeGreaterThan(6); // the prices moved: most days traded
      expect((await t.engine.getPortfolio(p.id)).cash).toBe(r.cash);
    } finally {
      await t.close();
    }
  });
});

describe('periods', () => {
  it('names the calendar period of a day (ISO weeks from Monday)', () => {
    expect(periodOf('2025-01-05', 'week')).toBe('2024-12-30'); // a Sunday: the week of Monday 12-30
    expect(periodOf('2025-01-06', 'week')).toBe('2025-01-06');
    expect(periodOf('2025-03-31', 'month')).toBe('2025-03');
    expect(periodOf('2025-04-01', 'quarter')).toBe('2025-Q2');
    expect(periodOf('2025-03-31', 'quarter')).toBe('2025-Q1');
    expect(periodOf('2025-12-31', 'year')).toBe('2025');
    expect(periodOf('2025-12-31', 'day')).toBe('2025-12-31');
  });

  // X trades every listed day; Y has no bar on Monday 02-03. X doubles and halves, so the
  // rebalances trade.
  const days = ['2025-01-30', '2025-01-31', '2025-02-03', '2025-02-04', '2025-02-05', '2025-02-28', '2025-03-03'];
  const history = {
    X: barsOn(days, [10, 20, 20, 10, 20, 10, 20]),
    Y: barsOn(
      days.filter((d) => d !== '2025-02-03'),
      [10, 10, 10, 10, 10, 10],
    ),
  };
  const run = (every: string) =>
    runBacktest({
      strategy: 'rebalance',
      params: { targets: { X: 0.5, Y: 0.5 }, every },
      symbols: ['X', 'Y'],
      from: '2025-01-01',
      to: '2025-03-31',
      marketData: createTestProvider({ history }),
      initialCash: '1000',
      fill: 'close',
    });
  const tradeDays = (r: BacktestResult) => [...new Set(r.fills.map((f) => f.day))];

  it('monthly: the first day of the run, then the first day of each month with any bar', async () => {
    const r = await run('month');
    // 01-30 start; 02-03 first February day (Y has no bar: its order is NO_BAR, and its own first
    // February bar on 02-04 does not rebalance again); 02-28 is not a new month; 03-03 is.
    expect(tradeDays(r)).toEqual(['2025-01-30', '2025-02-03', '2025-03-03']);
    // 01-30: 50 X and 50 Y at 10, no cash left.
    // 02-03: X 50 × 20 = 1,000, Y 50 × 10 (its last close) = 500 → total 1,500, 750 each: sell
    //   floor(250 / 20) = 12 X; Y wants 250 with the 240 the sell frees → 24, but Y has no bar that
    //   day: NO_BAR. Cash 240.
    // 03-03: X 38 × 20 = 760, Y 500, cash 240 → 750 each: X is 10 over (less than a share: no
    //   order); Y wants 250 with 240 of cash → 24.
    expect(strip(r)).toEqual([
      fill('2025-01-30', 'X', 'buy', '50', '10', '0'),
      fill('2025-01-30', 'Y', 'buy', '50', '10', '0'),
      fill('2025-02-03', 'X', 'sell', '12', '20', '0'),
      fill('2025-03-03', 'Y', 'buy', '24', '10', '0'),
    ]);
    expect(r.unfilled).toEqual([{ day: '2025-02-03', symbol: 'Y', side: 'buy', quantity: '24', reason: 'NO_BAR' }]);
  });

  it('weekly: the first day of each ISO week; daily: every day', async () => {
    const weekly = await run('week');
    expect(tradeDays(weekly)).toEqual(['2025-01-30', '2025-02-03', '2025-02-28', '2025-03-03']);
    // Daily: 01-31 brings X (at 20) and Y to 750 each; on 02-03 X is still at 20 and Y has no bar,
    // so nothing to do; every other day X's move is traded.
    const daily = await run('day');
    expect(tradeDays(daily)).toEqual(days.filter((d) => d !== '2025-02-03'));
  });

  it("'next-open': a rebalance asked on the run's last day has no day to fill on", async () => {
    const r = await runBacktest({
      strategy: 'rebalance',
      params: { targets: { X: 0.5 }, every: 'day' },
      symbols: ['X'],
      from: '2025-01-01',
      to: '2025-03-31',
      marketData: createTestProvider({ history }),
      initialCash: '1000',
    });
    // Each day's request fills at the next day's open: 01-30's on 01-31, …, 02-28's on 03-03; the
    // request of 03-03, the last day, is dropped (its orders were never sized). 01-31's request
    // finds X at 20 again at 02-03's open: on target, nothing to trade.
    expect(tradeDays(r)).toEqual(days.slice(1).filter((d) => d !== '2025-02-03'));
    expect(r.unfilled).toEqual([]);
  });
});

describe('validation', () => {
  const cases: Array<[string, Partial<BacktestOptions>]> = [
    ['params.targets', { params: { targets: { AAA: 0.7, BBB: 0.4 } } }],
    ['params.targets', { params: { targets: {} } }],
    ['params.targets.AAA', { params: { targets: { AAA: 1.5 } } }],
    ['params.targets.CCC', { params: { targets: { AAA: 0.5, CCC: 0.1 } } }],
    ['params.targets.aaa', { params: { targets: { AAA: 0.5, aaa: 0.1 } } }],
    ['params.every', { params: { targets: { AAA: 0.5 }, every: 'fortnight' } }],
    ['params.band', { params: { targets: { AAA: 0.5 }, band: 2 } }],
    ['allocation', { allocation: 'equal-sleeves' }],
    ['benchmark', { benchmark: '' }],
  ];
  for (const [field, overrides] of cases) {
    it(`refuses a bad ${field} with VALIDATION_FAILED naming it, before loading a bar`, async () => {
      const error = await modelRun(overrides).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field } });
      const options = { ...baseOptions(), ...overrides };
      expect(() => checkBacktestOptions(options)).toThrow(expect.objectContaining({ details: { field } }));
    });
  }

  it('accepts weights summing to exactly 1 (summed exactly: 0.1 + 0.2 + 0.7)', () => {
    const options = { ...baseOptions(), symbols: ['AAA', 'BBB', 'CCC'] };
    const params = { targets: { AAA: 0.1, BBB: 0.2, CCC: 0.7 } };
    expect(checkBacktestOptions({ ...options, params }).params).toEqual({ ...params, every: 'month', band: 0 });
  });

  it('a request is plain JSON: it survives a JSON round trip unchanged', () => {
    const { marketData, ...plain } = { ...baseOptions(), benchmark: 'BBB' };
    const back = { ...JSON.parse(JSON.stringify(plain)), marketData } as BacktestOptions;
    expect(checkBacktestOptions(back)).toEqual(checkBacktestOptions({ ...plain, marketData }));
  });

  it('ctx.targetWeights: refused with equal sleeves, checked at the call', async () => {
    const model = defineStrategy({
      name: 'sixty-forty',
      description: 'AAA 60 / BBB 40 once.',
      params: z.object({ weights: z.record(z.string(), z.number()) }),
      onBar(ctx) {
        if (ctx.previousDay === null) ctx.targetWeights(ctx.params.weights);
      },
    });
    const base = { ...baseOptions(), strategy: model, fill: 'close' as const };
    const sleeves = await runBacktest({ ...base, params: { weights: { AAA: 0.6, BBB: 0.4 } } }).catch((e) => e);
    expect(sleeves).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'allocation' } });
    const shared = await runBacktest({ ...base, allocation: 'shared', params: { weights: { AAA: 0.6, BBB: 0.4 } } });
    expect(strip(shared).slice(0, 2)).toEqual([
      fill('2025-03-03', 'AAA', 'buy', '600', '10', '0'),
      fill('2025-03-03', 'BBB', 'buy', '200', '20', '0'),
    ]);
    const unknown = await runBacktest({ ...base, allocation: 'shared', params: { weights: { ZZZ: 0.5 } } }).catch(
      (e) => e,
    );
    expect(unknown).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'targetWeights.ZZZ' } });
    const over = await runBacktest({
      ...base,
      allocation: 'shared',
      params: { weights: { AAA: 0.6, BBB: 0.5 } },
    }).catch((e) => e);
    expect(over).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'targetWeights' } });
  });

  it('signals refuse rebalance with VALIDATION_FAILED (it trades a whole portfolio, not per-symbol signals)', async () => {
    const error = await getSignals({ marketData: csv }, 'rebalance', {
      symbols: ['AAA', 'BBB'],
      from: '2025-03-01',
      to: '2025-03-31',
      params: { targets: { AAA: 0.5 } },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'strategy' } });
  });
});

function baseOptions(): BacktestOptions {
  return {
    strategy: 'rebalance',
    params: { targets: { AAA: 0.5, BBB: 0.3 } },
    symbols: ['AAA', 'BBB'],
    from: '2025-03-01',
    to: '2025-03-31',
    marketData: csv,
    initialCash: '10000',
  };
}

describe('benchmark', () => {
  /*
   * X: buy-and-hold of 10 shares at the first close 10, closes 10 11 9.9 10.89 → equity 100 110 99 108.9.
   * B (benchmark): closes 50 55 (none on day 3: 55 carried) 60.5 → normalized 100 110 110 121.
   * Daily returns compared from day 2: p = 0.1, −0.1, 0.1; b = 0.1, 0, 0.1.
   *   mean p = 1/30, mean b = 2/30; cov = 1/150; var b = 1/300 → beta 2.
   *   alpha = (1/30 − 2 × 2/30) × 252 = −25.2.
   *   p − b = 0, −0.1, 0: mean −1/30, sample sd √(1/300) → TE = √(252/300) = 0.916515…
   *   IR = (−1/30 × 252) / TE = −9.165151…; correlation = (1/150) / (√(1/75) × √(1/300)) = 1.
   *   TWR: run 0.089, benchmark 0.21 → excess −0.121.
   */
  const days = ['2025-01-01', '2025-01-02', '2025-01-03', '2025-01-04'];
  const history = {
    X: barsOn(days, [10, 11, '9.9', '10.89']),
    B: barsOn(['2025-01-01', '2025-01-02', '2025-01-04'], [50, 55, '60.5']),
    EMPTY: [],
  };
  const run = (benchmark?: string) =>
    runBacktest({
      strategy: 'buy-and-hold',
      symbols: ['X'],
      from: '2025-01-01',
      to: '2025-01-31',
      marketData: createTestProvider({ history }),
      initialCash: '100',
      fill: 'close',
      ...(benchmark === undefined ? {} : { benchmark }),
    });

  it('measures the run against the benchmark, as worked out by hand', async () => {
    const r = await run('b');
    expect(r.equity.map((p) => p.value)).toEqual(['100', '110', '99', '108.9']);
    expect(r.benchmarkEquity).toEqual([
      { day: '2025-01-01', value: '100' },
      { day: '2025-01-02', value: '110' },
      { day: '2025-01-03', value: '110' },
      { day: '2025-01-04', value: '121' },
    ]);
    const m = r.metrics.benchmark;
    expect(m?.symbol).toBe('B');
    expect(m?.days).toBe(3);
    expect(m?.twr.value).toBeCloseTo(0.21, 12);
    expect(m?.excessReturn.value).toBeCloseTo(0.089 - 0.21, 12);
    expect(m?.beta.value).toBeCloseTo(2, 10);
    expect(m?.alpha.value).toBeCloseTo(-25.2, 9);
    expect(m?.trackingError.value).toBeCloseTo(Math.sqrt(252 / 300), 12);
    expect(m?.informationRatio.value).toBeCloseTo(-8.4 / Math.sqrt(252 / 300), 9);
    expect(m?.correlation.value).toBeCloseTo(1, 12);
  });

  it('without a benchmark: metrics.benchmark is null and there is no benchmarkEquity', async () => {
    const r = await run();
    expect(r.metrics.benchmark).toBeNull();
    expect(r.benchmarkEquity).toBeUndefined();
  });

  it('a benchmark without bars is a typed error naming the field', async () => {
    const empty = await run('EMPTY').catch((e: unknown) => e);
    expect(empty).toMatchObject({ code: 'PRICE_UNAVAILABLE', details: { field: 'benchmark', symbol: 'EMPTY' } });
    const unknown = await run('NOPE').catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'UNKNOWN_SYMBOL', details: { field: 'benchmark', symbol: 'NOPE' } });
    expect(await codeOf(run('B'))).toBe('OK');
  });

  it('statistics undefined on a flat benchmark are null with a reason', async () => {
    const flat = { X: history.X, F: barsOn(days, [5, 5, 5, 5]) };
    const r = await runBacktest({
      strategy: 'buy-and-hold',
      symbols: ['X'],
      from: '2025-01-01',
      to: '2025-01-31',
      marketData: createTestProvider({ history: flat }),
      initialCash: '100',
      fill: 'close',
      benchmark: 'F',
    });
    expect(r.metrics.benchmark?.twr.value).toBe(0);
    expect(r.metrics.benchmark?.beta).toEqual({ value: null, reason: 'benchmark returns have zero variance' });
    expect(r.metrics.benchmark?.correlation.value).toBeNull();
    expect(r.metrics.benchmark?.trackingError.value).not.toBeNull();
  });
});
