/**
 * `getPerformance` on real engines (memory store, manual clock, test provider history): a small
 * portfolio backfilled from daily closes and checked by hand, period resolution, a benchmark, the
 * full-sale trap, gaps, and input validation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DailyBar, PortfolioEngine } from '../index.js';
import { createManualClock } from '../testing/clock.js';
import { codeOf, createTestEngine, type TestEngine } from '../testing/harness.js';
import { createTestProvider } from '../testing/provider.js';
import { nextDay } from '../time.js';
import { getPerformance, resolvePeriod } from './performance.js';
import { daysBetween } from './performance-data.js';

const bars = (rows: Array<[string, string]>): DailyBar[] => rows.map(([day, close]) => ({ day, close }));

// X moves by a round percentage each day: 0, +10 %, −5 %, 0, +10 %, +10 %, 0, −10 %, 0, +15 %.
const X = bars([
  ['2026-01-01', '100'],
  ['2026-01-02', '110'],
  ['2026-01-03', '104.5'],
  ['2026-01-04', '104.5'],
  ['2026-01-05', '114.95'],
  ['2026-01-06', '126.445'],
  ['2026-01-07', '126.445'],
  ['2026-01-08', '113.8005'],
  ['2026-01-09', '113.8005'],
  ['2026-01-10', '130.870575'],
]);
// BM: twice X, with a close on the base day 2025-12-31: the same daily returns as the portfolio.
const BM = bars([['2025-12-31', '200'], ...X.map((b): [string, string] => [b.day, String(Number(b.close) * 2)])]);

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

function setup(now = '2026-01-12T12:00:00.000Z'): TestEngine {
  const clock = createManualClock(now);
  const provider = createTestProvider({ prices: { X: '130.870575' }, history: { X, BM }, clock });
  t = createTestEngine({ clock, provider });
  return t;
}

/**
 * Jan 1: 1000 deposited, 10 X bought at 100. Jan 4: 1045 deposited, 10 X bought at 104.5 (20 held, no
 * cash). Jan 8: 2 X sold at 113.8005 and the 227.601 withdrawn. Every fill is at the day's close, so
 * the portfolio's daily TWR return is X's daily move.
 */
async function handPortfolio(
  engine: PortfolioEngine,
  backfill: Array<[string, string]> = [['2026-01-01', '2026-01-10']],
) {
  const p = await engine.createPortfolio({ name: 'Hand', initialCash: '1000', initialCashAt: '2026-01-01T09:00:00Z' });
  await engine.trade(p.id, { symbol: 'X', side: 'buy', quantity: 10, price: '100', at: '2026-01-01T10:00:00Z' });
  await engine.deposit(p.id, { amount: '1045', at: '2026-01-04T09:00:00Z' });
  await engine.trade(p.id, { symbol: 'X', side: 'buy', quantity: 10, price: '104.5', at: '2026-01-04T10:00:00Z' });
  await engine.trade(p.id, { symbol: 'X', side: 'sell', quantity: 2, price: '113.8005', at: '2026-01-08T15:00:00Z' });
  await engine.withdraw(p.id, { amount: '227.601', at: '2026-01-08T16:00:00Z' });
  for (const [from, to] of backfill) await engine.backfill(p.id, { from, to });
  return p.id;
}

describe('getPerformance: a hand-computed portfolio', () => {
  it('gives TWR, MWR, simple return, gains, drawdown and day figures written out by hand', async () => {
    const { engine } = setup();
    const id = await handPortfolio(engine);
    const perf = await getPerformance(engine, id, { to: '2026-01-10' });

    expect(perf.period).toBe('max');
    expect(perf.from).toBe('2026-01-01');
    expect(perf.to).toBe('2026-01-10');
    expect(perf.days).toBe(10);
    expect(perf.gaps).toEqual([]);
    // End values: 1000, 1100, 1045, 2090, 2299, 2528.9, 2528.9, 2048.409, 2048.409, 2355.67035.
    expect(perf.series.map((p) => p.value)).toEqual([
      0, 1000, 1100, 1045, 2090, 2299, 2528.9, 2528.9, 2048.409, 2048.409, 2355.67035,
    ]);
    // TWR: Jan 1 1000/(0+1000)−1 = 0; Jan 4 2090/(1045+1045)−1 = 0; Jan 8 (2048.409+227.601)/2528.9−1 = −0.1.
    // Cumulative: 1.1 × 0.95 × 1.1 × 1.1 × 0.9 × 1.15 − 1 = 0.30870575.
    expect(perf.twr.cumulative).toBeCloseTo(0.30870575, 12);
    expect(perf.twr.method).toBe('ttwror');
    expect(perf.twr.annualized).toBeCloseTo(1.30870575 ** (365 / 10) - 1, 6);

    // Modified Dietz over T = 10 days: weights 1 (Jan 1 inflow), 7/10 (Jan 4 inflow), 2/10 (Jan 8 outflow).
    // gain = 2355.67035 − (1000 + 1045 − 227.601) = 538.27135; capital = 1000 + 731.5 − 45.5202 = 1685.9798.
    expect(perf.mwr.modifiedDietz.cumulative).toBeCloseTo(538.27135 / 1685.9798, 12);
    // XIRR: the rate zeroing NPV of −1000 (Jan 1), −1045 (Jan 4), +227.601 (Jan 8), +2355.67035 (Jan 10).
    const rate = perf.mwr.xirr as number;
    expect(rate).toBeGreaterThan(0);
    const npv = [
      [-1000, 0],
      [-1045, 3],
      [227.601, 7],
      [2355.67035, 9],
    ].reduce((s, [a, d]) => s + (a as number) * (1 + rate) ** (-(d as number) / 365), 0);
    expect(Math.abs(npv)).toBeLessThan(1e-6);

    expect(perf.simpleReturn.value).toBeCloseTo(2355.67035 / 1817.399 - 1, 12);
    // Average cost 102.25: realized 2 × (113.8005 − 102.25) = 23.101; unrealized 18 × (130.870575 − 102.25).
    expect(perf.gain).toEqual({ realized: '23.101', unrealized: '515.17035', fees: '0', total: '538.27135' });

    // TWR index: 1, 1, 1.1, 1.045, 1.045, 1.1495, 1.26445, 1.26445, 1.138005, 1.138005, 1.30870575.
    expect(perf.drawdown).toMatchObject({ peak: '2026-01-06', trough: '2026-01-08', recovery: '2026-01-10' });
    expect(perf.drawdown.max).toBeCloseTo(-0.1, 12);
    expect(perf.bestDay?.day).toBe('2026-01-10');
    expect(perf.bestDay?.return).toBeCloseTo(0.15, 12);
    expect(perf.worstDay?.day).toBe('2026-01-08');
    expect(perf.worstDay?.return).toBeCloseTo(-0.1, 12);
    // Sample stdev of the ten daily returns, annualized over 365 calendar days.
    const rs = [0, 0.1, -0.05, 0, 0.1, 0.1, 0, -0.1, 0, 0.15];
    const mean = rs.reduce((a, b) => a + b, 0) / rs.length;
    const sd = Math.sqrt(rs.reduce((a, r) => a + (r - mean) ** 2, 0) / (rs.length - 1));
    expect(perf.volatility.daily).toBeCloseTo(sd, 12);
    expect(perf.volatility.annualized).toBeCloseTo(sd * Math.sqrt(365), 10);
    expect(perf.sharpe.value).toBeCloseTo((mean / sd) * Math.sqrt(365), 8);
    expect(perf.calmar.value).toBeCloseTo((perf.twr.annualized as number) / 0.1, 6);

    const [x] = perf.positions;
    expect(x).toMatchObject({ symbol: 'X', realizedPnl: '23.101' });
    // The period ends before today: no valuation at Jan 10's prices per position.
    expect(x?.unrealizedPnl).toBeNull();
    expect(x?.unrealizedReason).toMatch(/ending today/);
  });

  it('a sub-period starts from the day before its first day', async () => {
    const { engine } = setup();
    const id = await handPortfolio(engine);
    const perf = await getPerformance(engine, id, { from: '2026-01-06', to: '2026-01-10' });
    expect(perf.from).toBe('2026-01-06');
    expect(perf.series[0]).toMatchObject({ day: '2026-01-05', value: 2299, twr: 0 });
    // 1.1 × 1 × 0.9 × 1 × 1.15 − 1
    expect(perf.twr.cumulative).toBeCloseTo(1.1 * 0.9 * 1.15 - 1, 12);
    // Gain: 2355.67035 − 2299 + 227.601; realized 23.101 in the period, unrealized change the rest.
    expect(perf.gain.total).toBe('284.27135');
    expect(perf.gain.realized).toBe('23.101');
    expect(perf.gain.unrealized).toBe('261.17035');
  });

  it('leaves out and says so the days before the first ledger entry', async () => {
    const { engine } = setup();
    const id = await handPortfolio(engine);
    const perf = await getPerformance(engine, id, { from: '2025-12-20', to: '2026-01-10' });
    expect(perf.from).toBe('2026-01-01');
    expect(perf.notes.join('\n')).toMatch(/2025-12-20 to 2025-12-31 are before the first ledger entry/);
    expect(perf.twr.cumulative).toBeCloseTo(0.30870575, 12);
  });
});

describe('getPerformance: periods', () => {
  it('resolves named periods from a fixed clock', () => {
    const now = Date.parse('2026-03-18T12:00:00Z'); // a Wednesday
    const from = (period: Parameters<typeof resolvePeriod>[0]['period']) => resolvePeriod({ period }, now).from;
    expect(from('1d')).toBe('2026-03-18');
    expect(from('wtd')).toBe('2026-03-16');
    expect(from('mtd')).toBe('2026-03-01');
    expect(from('ytd')).toBe('2026-01-01');
    expect(from('1y')).toBe('2025-03-19');
    expect(from('3y')).toBe('2023-03-19');
    expect(from('5y')).toBe('2021-03-19');
    expect(from('max')).toBeNull();
    expect(resolvePeriod({}, now)).toEqual({ period: 'max', from: null, to: '2026-03-18' });
    // A year back from February 29 is February 28.
    expect(resolvePeriod({ period: '1y', to: '2028-02-29' }, now + 4 * 366 * 86_400_000).from).toBe('2027-03-01');
    expect(resolvePeriod({ from: '2026-02-01', to: '2026-02-10' }, now)).toEqual({
      period: 'custom',
      from: '2026-02-01',
      to: '2026-02-10',
    });
  });

  it('lists calendar days across month ends, leap years and centuries', () => {
    const expected: string[] = [];
    for (let d = '1899-12-25'; d <= '1900-03-05'; d = nextDay(d)) expected.push(d);
    for (let d = '1999-12-25'; d <= '2001-03-05'; d = nextDay(d)) expected.push(d);
    expect([...daysBetween('1899-12-25', '1900-03-05'), ...daysBetween('1999-12-25', '2001-03-05')]).toEqual(expected);
    expect(daysBetween('2026-01-02', '2026-01-01')).toEqual([]);
  });

  it('measures ytd, mtd and 1y over the right days', async () => {
    const { engine } = setup('2026-01-10T20:00:00.000Z');
    const id = await handPortfolio(engine);
    const ytd = await getPerformance(engine, id, { period: 'ytd' });
    expect([ytd.from, ytd.to, ytd.days]).toEqual(['2026-01-01', '2026-01-10', 10]);
    expect(ytd.twr.cumulative).toBeCloseTo(0.30870575, 12);
    const mtd = await getPerformance(engine, id, { period: 'mtd' });
    expect([mtd.from, mtd.days]).toEqual(['2026-01-01', 10]);
    const wtd = await getPerformance(engine, id, { period: 'wtd' }); // Monday 2026-01-05
    expect([wtd.from, wtd.days]).toEqual(['2026-01-05', 6]);
    expect(wtd.twr.cumulative).toBeCloseTo(1.1 * 1.1 * 0.9 * 1.15 - 1, 12);
    const y1 = await getPerformance(engine, id, { period: '1y' });
    expect(y1.from).toBe('2026-01-01');
    expect(y1.notes.join('\n')).toMatch(/before the first ledger entry/);
    const d1 = await getPerformance(engine, id, { period: '1d' });
    expect([d1.from, d1.days]).toEqual(['2026-01-10', 1]);
    expect(d1.twr.cumulative).toBeCloseTo(0.15, 12);
    // Today's figures include each position at the latest price (130.870575, Jan 10's close).
    expect(ytd.positions[0]).toMatchObject({ symbol: 'X', realizedPnl: '23.101', unrealizedPnl: '515.17035' });
    // Holding-period return: (23.101 + 515.17035) ÷ 2045 bought; contribution ÷ the Dietz capital 1685.9798.
    expect(ytd.positions[0]?.holdingPeriodReturn.value).toBeCloseTo(538.27135 / 2045, 12);
    expect(ytd.positions[0]?.contribution.value).toBeCloseTo(538.27135 / 1685.9798, 10);
  });

  it('downsamples the series to the last day of each week or month', async () => {
    const { engine } = setup();
    const id = await handPortfolio(engine);
    const w = await getPerformance(engine, id, { to: '2026-01-10', interval: '1w' });
    expect(w.series.map((p) => p.day)).toEqual(['2026-01-04', '2026-01-10']);
    expect(w.series[1]?.twr).toBeCloseTo(0.30870575, 12);
    const m = await getPerformance(engine, id, { to: '2026-01-10', interval: '1m' });
    expect(m.series.map((p) => p.day)).toEqual(['2025-12-31', '2026-01-10']);
  });
});

describe('getPerformance: benchmark', () => {
  it('compares with a benchmark over the same days', async () => {
    const { engine } = setup();
    const id = await handPortfolio(engine);
    const perf = await getPerformance(engine, id, { to: '2026-01-10', benchmark: 'bm' });
    const b = perf.benchmark;
    expect(b?.symbol).toBe('BM');
    // 261.74115 / 200 − 1: BM's return from the base day's close equals the portfolio's TWR.
    expect(b?.return).toBeCloseTo(0.30870575, 12);
    expect(b?.beta).toBeCloseTo(1, 10);
    expect(b?.correlation).toBeCloseTo(1, 10);
    expect(b?.trackingError).toBeCloseTo(0, 10);
    expect(b?.alpha).toBeCloseTo(0, 8);
    expect(b?.gaps).toEqual([]);
  });

  it('an unknown benchmark fails with UNKNOWN_SYMBOL', async () => {
    const { engine } = setup();
    const id = await handPortfolio(engine);
    expect(await codeOf(getPerformance(engine, id, { to: '2026-01-10', benchmark: 'NOPE' }))).toBe('UNKNOWN_SYMBOL');
  });
});

describe('getPerformance: traps and gaps', () => {
  it('a full sale is not −100 %, and days with no capital are null with a reason', async () => {
    const { engine } = setup();
    const p = await engine.createPortfolio({
      name: 'Sold',
      initialCash: '1000',
      initialCashAt: '2026-01-01T09:00:00Z',
    });
    await engine.trade(p.id, { symbol: 'X', side: 'buy', quantity: 10, price: '100', at: '2026-01-01T10:00:00Z' });
    await engine.trade(p.id, { symbol: 'X', side: 'sell', quantity: 10, price: '110', at: '2026-01-02T15:00:00Z' });
    await engine.withdraw(p.id, { amount: '1100', at: '2026-01-03T10:00:00Z' });
    await engine.backfill(p.id, { from: '2026-01-01', to: '2026-01-05' });
    const perf = await getPerformance(engine, p.id, { to: '2026-01-05' });
    // Jan 2: the sale keeps 1100 in cash (+10 %); Jan 3: (0 + 1100) / 1100 − 1 = 0; Jan 4–5: no capital.
    expect(perf.twr.cumulative).toBeCloseTo(0.1, 12);
    expect(perf.gaps.map((g) => g.day)).toEqual(['2026-01-04', '2026-01-05']);
    expect(perf.gaps[0]?.reason).toMatch(/^twr: no capital/);
    expect(perf.simpleReturn.value).toBeNull();
    expect(perf.simpleReturn.reason).toMatch(/net deposits ≤ 0/);
    expect(perf.gain).toEqual({ realized: '100', unrealized: '0', fees: '0', total: '100' });
    const gap = await getPerformance(engine, p.id, { from: '2026-01-04', to: '2026-01-05' });
    expect(gap.twr.cumulative).toBeNull();
    expect(gap.twr.reason).toMatch(/no day had capital/);
  });

  it('the holding-period return of a fully sold position is its realized gain over its cost', async () => {
    const { engine } = setup();
    const p = await engine.createPortfolio({
      name: 'Sold',
      initialCash: '1000',
      initialCashAt: '2026-01-01T09:00:00Z',
    });
    await engine.trade(p.id, { symbol: 'X', side: 'buy', quantity: 10, price: '100', at: '2026-01-01T10:00:00Z' });
    await engine.trade(p.id, { symbol: 'X', side: 'sell', quantity: 10, price: '110', at: '2026-01-02T15:00:00Z' });
    await engine.backfill(p.id, { from: '2026-01-01', to: '2026-01-12' });
    const perf = await getPerformance(engine, p.id, {});
    expect(perf.positions).toHaveLength(1);
    expect(perf.positions[0]).toMatchObject({ symbol: 'X', realizedPnl: '100', unrealizedPnl: '0' });
    expect(perf.positions[0]?.holdingPeriodReturn.value).toBeCloseTo(0.1, 12);
  });

  it('lists days without a snapshot and carries the value forward with the day’s flows', async () => {
    const { engine } = setup();
    const id = await handPortfolio(engine, [
      ['2026-01-01', '2026-01-03'],
      ['2026-01-05', '2026-01-06'],
      ['2026-01-08', '2026-01-10'],
    ]);
    const perf = await getPerformance(engine, id, { to: '2026-01-10' });
    expect(perf.gaps.map((g) => g.day)).toEqual(['2026-01-04', '2026-01-07']);
    expect(perf.gaps[0]?.reason).toMatch(/carried forward/);
    // Jan 4 carried: 1045 + the 1045 deposited = 2090, as recorded would have been; Jan 7 = Jan 6.
    expect(perf.series.find((p) => p.day === '2026-01-04')?.value).toBe(2090);
    expect(perf.series.find((p) => p.day === '2026-01-07')?.value).toBe(2528.9);
    expect(perf.twr.cumulative).toBeCloseTo(0.30870575, 12);
  });

  it('says why when there is nothing to measure', async () => {
    const { engine } = setup();
    const p = await engine.createPortfolio({ name: 'Empty' });
    const perf = await getPerformance(engine, p.id, {});
    expect(perf.days).toBe(0);
    expect(perf.twr.cumulative).toBeNull();
    expect(perf.mwr.xirr).toBeNull();
    expect(perf.notes.join('\n')).toMatch(/nothing to measure/);
  });
});

describe('getPerformance: input', () => {
  it.each([
    [{ period: '2y' }, 'period'],
    [{ from: '2026-13-01' }, 'from'],
    [{ to: 'yesterday' }, 'to'],
    [{ to: '2026-01-13' }, 'to'],
    [{ from: '2026-01-05', to: '2026-01-04' }, 'from'],
    [{ from: '2026-01-05', period: 'ytd' }, 'period'],
    [{ riskFreeRate: '0.03' }, 'riskFreeRate'],
    [{ interval: '1h' }, 'interval'],
    [{ benchmark: 'not a symbol!' }, 'benchmark'],
    [{ extra: 1 }, 'input'],
  ])('%j → VALIDATION_FAILED naming %s', async (input, field) => {
    const { engine } = setup();
    const p = await engine.createPortfolio({ name: 'P' });
    const error = await getPerformance(engine, p.id, input as never).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field } });
  });

  it('an unknown portfolio is PORTFOLIO_NOT_FOUND', async () => {
    const { engine } = setup();
    expect(await codeOf(getPerformance(engine, 'pf_nope', {}))).toBe('PORTFOLIO_NOT_FOUND');
  });
});
