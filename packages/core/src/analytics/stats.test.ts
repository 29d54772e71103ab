import { describe, expect, it } from 'vitest';
import { benchmarkStats, bestWorstDay, calmar, maxDrawdown, periodRate, sharpe, sortino, volatility } from './stats.js';

const series = (values: number[]) =>
  values.map((value, i) => ({ day: `2026-01-${String(i + 1).padStart(2, '0')}`, value }));

describe('maxDrawdown', () => {
  it('finds peak, trough and recovery', () => {
    // running peaks 100, 120, 120, 120, 130, 130; the deepest fall is 90 / 120 − 1 = −0.25,
    // recovered on day 5 (130 ≥ 120)
    const result = maxDrawdown(series([100, 120, 90, 110, 130, 125]));
    expect(result.maxDrawdown).toBeCloseTo(-0.25, 12);
    expect(result.peak).toEqual({ day: '2026-01-02', value: 120 });
    expect(result.trough).toEqual({ day: '2026-01-03', value: 90 });
    expect(result.recovery).toBe('2026-01-05');
    // drawdown series: 0, 0, −0.25, 110/120 − 1, 0, 125/130 − 1
    expect(result.series.map((p) => p.drawdown)).toEqual([
      0,
      0,
      expect.closeTo(-0.25, 12),
      expect.closeTo(110 / 120 - 1, 12),
      0,
      expect.closeTo(125 / 130 - 1, 12),
    ]);
    expect(result.method).toBe('peak-to-trough');
  });

  it('leaves recovery null when the peak is not reached again', () => {
    // 100 → 80 is −20 %; a later fall 95 → 85 is only −10.5 %, and nothing climbs back to 100
    const result = maxDrawdown(series([100, 80, 95, 85, 99]));
    expect(result.maxDrawdown).toBeCloseTo(-0.2, 12);
    expect(result.trough?.day).toBe('2026-01-02');
    expect(result.recovery).toBeNull();
  });

  it('is 0 with no peak or trough for a series that never falls, and null with a reason without a positive value', () => {
    const rising = maxDrawdown(series([1, 1, 2, 3]));
    expect(rising.maxDrawdown).toBe(0);
    expect(rising.peak).toBeNull();
    expect(rising.trough).toBeNull();
    const empty = maxDrawdown(series([0, 0]));
    expect(empty.maxDrawdown).toBeNull();
    expect(empty.reason).toContain('no positive value');
    expect(empty.series.map((p) => p.drawdown)).toEqual([null, null]);
    expect(maxDrawdown([]).reason).toBe('empty series');
  });
});

// Four daily returns used below: mean = (0.01 − 0.01 + 0.02 + 0) / 4 = 0.005
// deviations 0.005, −0.015, 0.015, −0.005 → squares 25e-6 + 225e-6 + 225e-6 + 25e-6 = 500e-6
// sample variance = 500e-6 / 3, s = √(1.6667e-4) = 0.0129099…
const returns = [0.01, -0.01, 0.02, 0];
const s = Math.sqrt(500e-6 / 3);

describe('volatility', () => {
  it('is the sample stdev, annualised by √365 for calendar days', () => {
    const result = volatility(returns);
    expect(result.daily).toBeCloseTo(0.0129099444873581, 14);
    // 0.0129099… × √365 = 0.0129099… × 19.104973… = 0.24664414…
    expect(result.annualized).toBeCloseTo(0.24664414311581234, 12);
    expect(result.n).toBe(4);
    expect(volatility(returns, 252).annualized).toBeCloseTo(s * Math.sqrt(252), 14);
  });

  it('is 0 for a constant series and null with a reason below 2 points', () => {
    expect(volatility([0.1, 0.1, 0.1]).daily).toBe(0);
    expect(volatility([0.1])).toMatchObject({ daily: null, annualized: null, reason: 'fewer than 2 returns' });
    expect(volatility([0.1, Number.NaN]).reason).toBe('non-finite returns');
  });
});

describe('sharpe', () => {
  it('is mean excess over the sample stdev, times √365', () => {
    // rf = 0: 0.005 / 0.0129099 × √365 = 0.3872983 × 19.104973 = 7.39932…
    expect(sharpe(returns).value).toBeCloseTo((0.005 / s) * Math.sqrt(365), 12);
    expect(sharpe(returns).value).toBeCloseTo(7.3993242, 6);
    // rf = 3.65 % a year → per day (1.0365)^(1/365) − 1 = 9.8349e-5
    const rfd = 1.0365 ** (1 / 365) - 1;
    expect(periodRate(0.0365)).toBeCloseTo(rfd, 16);
    expect(sharpe(returns, 0.0365).value).toBeCloseTo(((0.005 - rfd) / s) * Math.sqrt(365), 12);
  });

  it('is null with a reason for zero volatility or too few points', () => {
    expect(sharpe([0.01, 0.01])).toEqual({ value: null, reason: 'zero volatility', method: 'sharpe' });
    expect(sharpe([]).value).toBeNull();
  });
});

describe('sortino', () => {
  it('uses the downside deviation over all n returns', () => {
    // target 0: only −0.01 is below → Σ = 1e-4; DD = √(1e-4 / 4) = 0.005
    // sortino = 0.005 / 0.005 × √365 = √365 = 19.104973…
    expect(sortino(returns).value).toBeCloseTo(Math.sqrt(365), 12);
  });

  it('is null with a reason when no return is below the target', () => {
    expect(sortino([0.01, 0.02]).reason).toContain('no return below the target');
  });
});

describe('calmar', () => {
  it('is annualised return over |max drawdown|', () => {
    // 0.10 / |−0.25| = 0.4
    expect(calmar(0.1, -0.25)).toEqual({ value: expect.closeTo(0.4, 12), method: 'calmar' });
  });

  it('is null with a reason when there is no drawdown or no input', () => {
    expect(calmar(0.1, 0).reason).toBe('no drawdown in the range');
    expect(calmar(null, -0.2).value).toBeNull();
    expect(calmar(0.1, null).value).toBeNull();
  });
});

describe('bestWorstDay', () => {
  it('skips days that were not chained', () => {
    const result = bestWorstDay([
      { day: 'a', r: 0.01 },
      { day: 'b', r: null },
      { day: 'c', r: -0.03 },
      { day: 'd', r: 0.02 },
    ]);
    expect(result).toEqual({ best: { day: 'd', r: 0.02 }, worst: { day: 'c', r: -0.03 } });
    expect(bestWorstDay([{ day: 'a', r: null }])).toEqual({ best: null, worst: null, reason: 'no daily return' });
  });
});

describe('benchmarkStats', () => {
  // b: mean = (0.01 − 0.01 + 0.03 + 0.01) / 4 = 0.01; deviations 0, −0.02, 0.02, 0 → var(b) = 0.0008 / 3
  // p = 2b + 0.001: [0.021, −0.019, 0.061, 0.021], mean 0.021; cov(p, b) = 2 var(b)
  const b = [0.01, -0.01, 0.03, 0.01];
  const p = b.map((x) => 2 * x + 0.001);

  it('beta, alpha, tracking error and correlation of a levered benchmark (hand-checked)', () => {
    const result = benchmarkStats(p, b, 0);
    // beta = 2 var(b) / var(b) = 2
    expect(result.beta.value).toBeCloseTo(2, 12);
    // alpha = (0.021 − 0 − 2 × (0.01 − 0)) × 365 = 0.001 × 365 = 0.365
    expect(result.alpha.value).toBeCloseTo(0.365, 12);
    // p − b = b + 0.001 → stdev = s_b = √(0.0008 / 3) = 0.0163299; × √365 = 0.311983…
    expect(result.trackingError.value).toBeCloseTo(Math.sqrt(0.0008 / 3) * Math.sqrt(365), 12);
    expect(result.correlation.value).toBeCloseTo(1, 12);
    expect(result.n).toBe(4);
    // with rf = 0.0001 a day: (0.021 − 0.0001 − 2 × (0.01 − 0.0001)) × 365 = (0.0209 − 0.0198) × 365 = 0.4015
    expect(benchmarkStats(p, b, 0.0001).alpha.value).toBeCloseTo(0.4015, 12);
  });

  it('partial correlation (hand-checked)', () => {
    // p = [1, 2, 3], b = [1, 3, 2]: means 2, 2; cov = ((−1)(−1) + 0·1 + 1·0) / 2 = 0.5; var(p) = var(b) = 1
    const result = benchmarkStats([1, 2, 3], [1, 3, 2], 0);
    expect(result.beta.value).toBeCloseTo(0.5, 12);
    expect(result.correlation.value).toBeCloseTo(0.5, 12);
  });

  it('null with a reason when undefined', () => {
    const flat = benchmarkStats([0.01, 0.02, 0.03], [0.01, 0.01, 0.01], 0);
    expect(flat.beta).toEqual({ value: null, reason: 'benchmark returns have zero variance' });
    expect(flat.alpha.value).toBeNull();
    expect(flat.correlation.value).toBeNull();
    // tracking error is still defined: stdev of [0, 0.01, 0.02] = 0.01, × √365
    expect(flat.trackingError.value).toBeCloseTo(0.01 * Math.sqrt(365), 12);
    const short = benchmarkStats([0.01], [0.01], 0);
    expect(short.beta.reason).toBe('fewer than 2 returns');
    const uneven = benchmarkStats([0.01, 0.02], [0.01], 0);
    expect(uneven.correlation.reason).toContain('lengths differ');
  });
});
