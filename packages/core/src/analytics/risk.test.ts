import { afterEach, describe, expect, it } from 'vitest';
import { Dec } from '../money/decimal.js';
import type { DailyBar } from '../ports/index.js';
import { codeOf, createTestEngine, type TestEngine } from '../testing/index.js';
import { covariance, quadraticForm } from './matrix.js';
import { createRng } from './random.js';
import {
  createRiskCache,
  getRisk,
  historicalVar,
  monteCarloVar,
  normalPdf,
  normalQuantile,
  parametricVar,
  type RiskReport,
} from './risk.js';

const Z95 = 1.6448536269514722; // Φ⁻¹(0.95), from tables
const Z99 = 2.3263478740408408;

const engines: TestEngine[] = [];
afterEach(async () => {
  for (const t of engines.splice(0)) await t.close();
});

/** Consecutive calendar days from `start`. */
function days(start: string, count: number): string[] {
  const first = Date.parse(`${start}T00:00:00Z`);
  return Array.from({ length: count }, (_, i) => new Date(first + i * 86_400_000).toISOString().slice(0, 10));
}

/** Bars whose closes follow `returns` from `start` (exact decimal products). */
function barsFromReturns(first: string, start: string, returns: readonly string[]): DailyBar[] {
  const list = days(first, returns.length + 1);
  let close = new Dec(start);
  const bars: DailyBar[] = [{ day: list[0] as string, close: close.toFixed() }];
  returns.forEach((r, i) => {
    close = close.times(new Dec(1).plus(r));
    bars.push({ day: list[i + 1] as string, close: close.toFixed() });
  });
  return bars;
}

/** Random-walk bars (normal returns of `sd`, rounded to 6 decimals). */
function randomBars(seed: number, count: number, sd: number, common?: number[]): DailyBar[] {
  const rng = createRng(seed);
  let close = 100;
  return days('2025-03-01', count).map((day, i) => {
    if (i > 0) close *= 1 + sd * rng.normal() + (common?.[i] ?? 0);
    return { day, close: close.toFixed(6) };
  });
}

async function setup(
  history: Record<string, DailyBar[]>,
  buys: Record<string, number>,
  cash = 1_000_000,
  latest: Record<string, string> = {},
): Promise<{ t: TestEngine; id: string }> {
  const prices = {
    ...Object.fromEntries(Object.entries(history).map(([s, bars]) => [s, (bars.at(-1) as DailyBar).close])),
    ...latest,
  };
  const t = createTestEngine({ prices, history });
  engines.push(t);
  const p = await t.engine.createPortfolio({ name: 'Risk', initialCash: cash });
  for (const [symbol, quantity] of Object.entries(buys)) {
    await t.engine.trade(p.id, { symbol, side: 'buy', quantity });
  }
  return { t, id: p.id };
}

function sumDec(values: readonly string[]): string {
  return values.reduce((s, v) => s.plus(v), new Dec(0)).toFixed();
}

describe('normalQuantile', () => {
  it('matches tabulated quantiles within 1e-8', () => {
    expect(normalQuantile(0.95)).toBeCloseTo(Z95, 8);
    expect(normalQuantile(0.99)).toBeCloseTo(Z99, 8);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 8);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306167813, 8);
    expect(normalQuantile(0.9999)).toBeCloseTo(3.719016485455709, 7);
    expect(normalQuantile(0.5)).toBe(0);
    expect(() => normalQuantile(1)).toThrow(RangeError);
  });
});

describe('historicalVar', () => {
  // 20 daily P&L amounts: worst −50, then −30, −20, −10, −5, then 15 gains of 1..15.
  const pnl = [-50, -30, -20, -10, -5, ...Array.from({ length: 15 }, (_, i) => i + 1)];

  it('is the ⌈n(1−c)⌉-th worst loss, ES the mean of those (hand-checked)', () => {
    // c = 0.90: k = ⌈20 × 0.1⌉ = 2 → VaR 30, ES (50 + 30)/2 = 40.
    expect(historicalVar(pnl, { confidence: 0.9, horizonDays: 1 })).toEqual({ var: 30, expectedShortfall: 40 });
    // c = 0.95: k = 1 → VaR = ES = 50. c = 0.80: k = 4 → VaR 10, ES (50+30+20+10)/4 = 27.5.
    expect(historicalVar(pnl, { confidence: 0.95, horizonDays: 1 })).toEqual({ var: 50, expectedShortfall: 50 });
    expect(historicalVar(pnl, { confidence: 0.8, horizonDays: 1 })).toEqual({ var: 10, expectedShortfall: 27.5 });
  });

  it('scales by √h and reads 100 × 0.05 as 5, not 6', () => {
    expect(historicalVar(pnl, { confidence: 0.9, horizonDays: 4 })).toEqual({ var: 60, expectedShortfall: 80 });
    const hundred = Array.from({ length: 100 }, (_, i) => i - 10); // losses 10, 9, ..., 1, 0, ...
    expect(historicalVar(hundred, { confidence: 0.95, horizonDays: 1 }).var).toBe(6); // 5th worst
  });
});

describe('parametricVar', () => {
  const v = [1000, 2000];
  const sigma = [
    [0.0004, 0.00006],
    [0.00006, 0.0009],
  ];

  it('equals the closed form z·√(vᵀΣv)·√h and φ(z)/(1−c)·σ·√h', () => {
    // vᵀΣv = 1e6·0.0004 + 2·1000·2000·0.00006 + 4e6·0.0009 = 400 + 240 + 3600 = 4240.
    const sd = Math.sqrt(4240);
    const one = parametricVar(v, sigma, { confidence: 0.95, horizonDays: 1 });
    expect(one.var).toBeCloseTo(Z95 * sd, 6);
    expect(one.expectedShortfall).toBeCloseTo((0.10313564037537128 / 0.05) * sd, 6);
    const ten = parametricVar(v, sigma, { confidence: 0.99, horizonDays: 10 });
    expect(ten.var).toBeCloseTo(Z99 * sd * Math.sqrt(10), 6);
    expect(normalPdf(Z95)).toBeCloseTo(0.10313564037537128, 14);
  });

  it('splits into Euler components that add up to the VaR', () => {
    const result = parametricVar(v, sigma, { confidence: 0.95, horizonDays: 1 });
    const components = v.map((x, i) => x * (result.marginal[i] as number));
    expect(components[0] as number).toBeCloseTo((Z95 * (1000 * 0.0004 + 2000 * 0.00006) * 1000) / Math.sqrt(4240), 6);
    expect((components[0] as number) + (components[1] as number)).toBeCloseTo(result.var, 9);
  });
});

describe('monteCarloVar', () => {
  const v = [1000, 2000, -500];
  const sigma = [
    [0.0004, 0.00006, 0.0001],
    [0.00006, 0.0009, 0.0002],
    [0.0001, 0.0002, 0.0016],
  ];
  const options = { confidence: 0.99, horizonDays: 5, paths: 100_000, seed: 7 };

  it('converges on the parametric VaR and ES for normal returns: within 3 % with 100,000 paths', () => {
    const mc = monteCarloVar(v, sigma, options);
    const exact = parametricVar(v, sigma, options);
    expect(mc.jitter).toBe(0);
    const figures = mc.figures as { var: number; expectedShortfall: number };
    expect(Math.abs(figures.var / exact.var - 1)).toBeLessThan(0.03);
    expect(Math.abs(figures.expectedShortfall / exact.expectedShortfall - 1)).toBeLessThan(0.03);
  });

  it('gives the same figures for the same seed and others for another seed', () => {
    const small = { ...options, paths: 5_000 };
    expect(monteCarloVar(v, sigma, small)).toEqual(monteCarloVar(v, sigma, small));
    expect(monteCarloVar(v, sigma, { ...small, seed: 8 }).figures?.var).not.toBe(
      monteCarloVar(v, sigma, small).figures?.var,
    );
  });

  it('refuses an indefinite covariance matrix with the reason, and jitters a singular one', () => {
    const refused = monteCarloVar(
      [1, 1],
      [
        [1, 2],
        [2, 1],
      ],
      { ...options, paths: 100 },
    );
    expect(refused.figures).toBeNull();
    expect(refused.reason).toMatch(/not positive semi-definite/);
    const singular = monteCarloVar(
      [1, 1],
      [
        [1e-4, 1e-4],
        [1e-4, 1e-4],
      ],
      { ...options, paths: 100_000 },
    );
    expect(singular.jitter).toBeGreaterThan(0);
    // Perfectly correlated: the same as one position of 2 with variance 1e-4.
    const exact = Z99 * 2 * 0.01 * Math.sqrt(5);
    expect(Math.abs((singular.figures?.var as number) / exact - 1)).toBeLessThan(0.03);
  });
});

describe('getRisk', () => {
  it('computes historical VaR from the held position and a hand-checked return series', async () => {
    // 20 daily returns: worst −5 %, next −3 %; c = 0.9 → k = 2 → VaR = 3 % of the position, ES 4 %.
    const returns = ['-0.05', '-0.03', '-0.02', '-0.01', ...Array.from({ length: 16 }, (_, i) => `0.00${(i % 9) + 1}`)];
    const bars = barsFromReturns('2025-12-10', '100', returns);
    // Latest price 100: the position is worth 10 × 100 = 1000, so VaR = 30 and ES = 40.
    const { t, id } = await setup({ AAA: bars }, { AAA: 10 }, 10_000, { AAA: '100' });
    const report = await getRisk(t.engine, id, { confidence: 0.9, method: 'historical' });
    expect(report.value).toBe('10000');
    expect(report.cash).toBe('9000');
    expect(report.window).toEqual({ from: '2025-12-10', to: '2025-12-30', observations: 20 });
    expect(report.historical.var).toBe('30');
    expect(report.historical.expectedShortfall).toBe('40');
    expect(report.historical.varFraction).toBeCloseTo(0.003, 12);
    expect(report.historical.expectedShortfallFraction).toBeCloseTo(0.004, 12);
    expect(report.parametric.var).toBeNull();
    expect(report.parametric.reason).toBe('not requested');
    expect(report.monteCarlo.var).toBeNull();
  });

  function threeSymbols(): Record<string, DailyBar[]> {
    const market = createRng(99);
    const common = Array.from({ length: 260 }, () => 0.008 * market.normal());
    return {
      AAA: randomBars(1, 260, 0.01, common),
      BBB: randomBars(2, 260, 0.02, common),
      CCC: randomBars(3, 260, 0.015),
    };
  }

  it('gives the closed-form parametric VaR, contributions that add up to it, and a converging Monte Carlo', async () => {
    const history = threeSymbols();
    const { t, id } = await setup(history, { AAA: 100, BBB: 50, CCC: 80 });
    const report = await getRisk(t.engine, id, { confidence: 0.99, horizonDays: 10, paths: 100_000, seed: 5 });
    expect(report.symbols).toEqual(['AAA', 'BBB', 'CCC']);
    expect(report.window.observations).toBe(259);
    // Covariance from the closes, computed here independently.
    const returns = ['AAA', 'BBB', 'CCC'].map((s) => {
      const closes = (history[s] as DailyBar[]).map((b) => Number(b.close));
      return closes.slice(1).map((c, i) => c / (closes[i] as number) - 1);
    });
    expect(report.covariance).toEqual(covariance(returns));
    const values = report.contributions.map((c) => Number(c.value));
    const sd = Math.sqrt(quadraticForm(report.covariance, values));
    expect(Number(report.parametric.var)).toBeCloseTo(Z99 * sd * Math.sqrt(10), 1);
    expect(sumDec(report.contributions.map((c) => c.component))).toBe(report.parametric.var);
    expect(report.contributions.reduce((s, c) => s + (c.percent as number), 0)).toBeCloseTo(1, 12);
    const mc = Number(report.monteCarlo.var);
    expect(Math.abs(mc / Number(report.parametric.var) - 1)).toBeLessThan(0.03);
    expect(report.monteCarlo).toMatchObject({ paths: 100_000, seed: 5, jitter: 0 });
    expect(report.correlation[0]?.[0]).toBe(1);
    expect(report.correlation[0]?.[1] as number).toBeGreaterThan(0.2); // the common factor
    expect(report.gaps).toEqual([]);
  });

  it('returns the same report for the same seed', async () => {
    const { t, id } = await setup(threeSymbols(), { AAA: 100, BBB: 50, CCC: 80 });
    const a = await getRisk(t.engine, id, { seed: 1 });
    const b = await getRisk(t.engine, id, { seed: 1 });
    const c = await getRisk(t.engine, id, { seed: 2 });
    expect(b).toEqual(a);
    expect(c.monteCarlo.var).not.toBe(a.monteCarlo.var);
    expect(c.parametric).toEqual(a.parametric);
  });

  it('handles a singular covariance (two identical price histories) with a jitter and a note', async () => {
    const bars = randomBars(4, 60, 0.01);
    const { t, id } = await setup({ AAA: bars, TWIN: bars.map((b) => ({ ...b })) }, { AAA: 10, TWIN: 10 });
    const report = await getRisk(t.engine, id, { paths: 50_000 });
    expect(report.monteCarlo.jitter).toBeGreaterThan(0);
    expect(report.notes.some((n) => n.includes('singular'))).toBe(true);
    expect(Math.abs(Number(report.monteCarlo.var) / Number(report.parametric.var) - 1)).toBeLessThan(0.05);
  });

  it('gives zero VaR with a note for a portfolio holding only cash', async () => {
    const { t, id } = await setup({}, {}, 5000);
    const report = await getRisk(t.engine, id);
    expect(report.value).toBe('5000');
    for (const e of [report.historical, report.parametric, report.monteCarlo]) {
      expect(e.var).toBe('0');
      expect(e.expectedShortfall).toBe('0');
      expect(e.varFraction).toBe(0);
    }
    expect(report.notes[0]).toMatch(/only cash/);
    expect(report.contributions).toEqual([]);
  });

  it('says unavailable, naming the symbol, when a held symbol has no history', async () => {
    const { t, id } = await setup({ AAA: randomBars(1, 60, 0.01) }, { AAA: 1 });
    t.provider.setHistory('AAA', []);
    const report = await getRisk(t.engine, id);
    expect(report.parametric.var).toBeNull();
    expect(report.parametric.reason).toMatch(/no price history for AAA/);
    expect(report.gaps).toEqual([expect.objectContaining({ symbol: 'AAA', kind: 'no-history' })]);
  });

  it('falls back to stored bars and carries a missing day forward, reporting the gap', async () => {
    const a = randomBars(1, 40, 0.01);
    const b = randomBars(2, 40, 0.01).filter((_, i) => i !== 20);
    const { t, id } = await setup({ AAA: a, BBB: b }, { AAA: 1, BBB: 1 });
    t.provider.failing = true; // history now from the store
    await t.store.upsertDailyBars(
      Object.entries({ AAA: a, BBB: b }).flatMap(([symbol, bars]) =>
        bars.map((bar) => ({
          symbol,
          day: bar.day,
          close: bar.close,
          open: null,
          high: null,
          low: null,
          adjClose: null,
          volume: null,
          source: 'test',
        })),
      ),
    );
    const report = await getRisk(t.engine, id, { method: 'parametric' });
    expect(report.window.observations).toBe(39);
    expect(report.gaps).toEqual([expect.objectContaining({ symbol: 'BBB', kind: 'carried-forward', days: 1 })]);
    expect(report.parametric.var).not.toBeNull();
  });

  it('starts on the first day every symbol has a close and reports the days left out', async () => {
    const a = randomBars(1, 40, 0.01);
    const b = randomBars(2, 40, 0.01).slice(5);
    const { t, id } = await setup({ AAA: a, BBB: b }, { AAA: 1, BBB: 1 });
    const report = await getRisk(t.engine, id);
    expect(report.window).toEqual({ from: b[0]?.day, to: b.at(-1)?.day, observations: 34 });
    expect(report.gaps).toEqual([expect.objectContaining({ symbol: 'AAA', kind: 'before-common-start', days: 5 })]);
  });

  it('refuses bad input with VALIDATION_FAILED and an unknown portfolio with PORTFOLIO_NOT_FOUND', async () => {
    const { t, id } = await setup({}, {});
    for (const input of [
      { confidence: 1.5 },
      { confidence: 0.4 },
      { horizonDays: 0 },
      { horizonDays: 1.5 },
      { lookbackDays: 10 },
      { method: 'guess' },
      { paths: 10 },
      { paths: 300_000 },
      { seed: -1 },
      { extra: true },
    ]) {
      expect(await codeOf(getRisk(t.engine, id, input as never))).toBe('VALIDATION_FAILED');
    }
    expect(await codeOf(getRisk(t.engine, '', {}))).toBe('VALIDATION_FAILED');
    expect(await codeOf(getRisk(t.engine, 'pf_nope', {}))).toBe('PORTFOLIO_NOT_FOUND');
  });
});

describe('createRiskCache', () => {
  it('serves a cached report per portfolio and completed input, and drops it on invalidate', async () => {
    const { t, id } = await setup({ AAA: randomBars(1, 60, 0.01) }, { AAA: 1 });
    const cache = createRiskCache();
    const first = await getRisk(t.engine, id, {}, { cache });
    expect(await getRisk(t.engine, id, { confidence: 0.95, method: 'all' }, { cache })).toBe(first);
    expect(await getRisk(t.engine, id, { confidence: 0.99 }, { cache })).not.toBe(first);
    expect(cache.size).toBe(2);
    cache.invalidate('other');
    expect(cache.size).toBe(2);
    cache.invalidate(id);
    expect(cache.size).toBe(0);
    const again = await getRisk(t.engine, id, {}, { cache });
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
    cache.invalidate();
    expect(cache.size).toBe(0);
  });

  it('keys by day and drops the oldest entry beyond maxEntries', () => {
    const cache = createRiskCache({ maxEntries: 2 });
    const report = {} as RiskReport;
    cache.set({ portfolioId: 'a', input: {}, day: '2026-01-01' }, report);
    expect(cache.get({ portfolioId: 'a', input: {}, day: '2026-01-02' })).toBeUndefined();
    cache.set({ portfolioId: 'b', input: {}, day: '2026-01-01' }, report);
    cache.set({ portfolioId: 'c', input: {}, day: '2026-01-01' }, report);
    expect(cache.size).toBe(2);
    expect(cache.get({ portfolioId: 'a', input: {}, day: '2026-01-01' })).toBeUndefined();
    expect(cache.get({ portfolioId: 'c', input: {}, day: '2026-01-01' })).toBe(report);
  });
});
