/**
 * Risk and return statistics on daily series: max drawdown, volatility, Sharpe, Sortino, Calmar, best and
 * worst day, and statistics against a benchmark (beta, Jensen's alpha, tracking error, correlation).
 *
 * Pure functions on JS numbers (IEEE-754 doubles, about 15–16 significant digits). A statistic that is not
 * defined (fewer than 2 points, zero variance, no drawdown) is `null` with a `reason`, never 0 by accident.
 *
 * Annualisation: foliokit's daily history is a CALENDAR-day series (weekends and holidays carry the last
 * value forward, so their return is 0). Such a series has 365 observations a year, so the default
 * `periodsPerYear` is 365 (volatility × √365). The zero-return days lower the daily standard deviation by
 * about √(252/365), which √365 restores: on a calendar series √365 gives about what √252 gives on trading days
 * only. Pass `periodsPerYear: 252` only for a series of trading days.
 */

/** A statistic that may be unavailable, with the reason it is. */
export interface Stat {
  value: number | null;
  reason?: string;
}

/** Calendar days a year: the default annualisation for foliokit's calendar-day series. */
export const CALENDAR_DAYS_PER_YEAR = 365;

function mean(xs: number[]): number {
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}

/** True when every value is the same (variance exactly zero, with no float residue from a two-pass mean). */
function constant(xs: number[]): boolean {
  return xs.every((x) => x === xs[0]);
}

/** Sample covariance (n − 1 denominator), two-pass. */
function sampleCovariance(xs: number[], ys: number[]): number {
  const mx = mean(xs);
  const my = mean(ys);
  let sum = 0;
  for (let i = 0; i < xs.length; i++) sum += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
  return sum / (xs.length - 1);
}

/** Sample standard deviation (n − 1), 0 for a constant series. */
function sampleStdev(xs: number[]): number {
  return constant(xs) ? 0 : Math.sqrt(sampleCovariance(xs, xs));
}

/** Why a return series cannot be used: fewer than 2 points or a non-finite value, or null. */
function unusable(xs: number[], label = 'returns'): string | null {
  if (xs.length < 2) return `fewer than 2 ${label}`;
  if (!xs.every(Number.isFinite)) return `non-finite ${label}`;
  return null;
}

/** An annual risk-free rate as a per-period rate, compounding: `(1 + rf)^(1 / periodsPerYear) − 1`. */
export function periodRate(annualRate: number, periodsPerYear = CALENDAR_DAYS_PER_YEAR): number {
  return (1 + annualRate) ** (1 / periodsPerYear) - 1;
}

/** The result of {@link maxDrawdown}. */
export interface DrawdownResult {
  /** The deepest fall from a running peak, as a fraction ≤ 0 (−0.25 = −25 %); 0 when the series never fell; null: see `reason`. */
  maxDrawdown: number | null;
  /** The peak before the deepest fall (null when there was no fall). */
  peak: { day: string; value: number } | null;
  /** The lowest point of the deepest fall. */
  trough: { day: string; value: number } | null;
  /** The first day after the trough back at or above the peak value; null when not recovered (or no fall). */
  recovery: string | null;
  /** `value / running peak − 1` for every point; null before the first positive value. */
  series: Array<{ day: string; drawdown: number | null }>;
  reason?: string;
  method: 'peak-to-trough';
}

/**
 * Maximum drawdown: `min_t (V_t / max_{s ≤ t} V_s − 1)`, with the peak, the trough and the recovery day
 * (first day after the trough with `V ≥ peak`).
 *
 * Pass a wealth index (1 + cumulative TWR), not the raw portfolio value: a withdrawal lowers the value without
 * being a loss. Points before the first positive value have no peak to fall from (drawdown null); a series
 * with no positive value gives `maxDrawdown: null` with a reason.
 */
export function maxDrawdown(series: Array<{ day: string; value: number }>): DrawdownResult {
  const method = 'peak-to-trough' as const;
  const out: DrawdownResult['series'] = [];
  let peak: { day: string; value: number } | null = null;
  let worst = 0;
  let worstPeak: { day: string; value: number } | null = null;
  let worstTrough: { day: string; value: number } | null = null;
  let troughIndex = -1;
  series.forEach((p, i) => {
    if (Number.isFinite(p.value) && p.value > 0 && (peak === null || p.value > peak.value)) peak = p;
    const current = peak as { day: string; value: number } | null;
    if (current === null || !Number.isFinite(p.value)) {
      out.push({ day: p.day, drawdown: null });
      return;
    }
    const drawdown = p.value / current.value - 1;
    out.push({ day: p.day, drawdown });
    if (drawdown < worst) {
      worst = drawdown;
      worstPeak = current;
      worstTrough = p;
      troughIndex = i;
    }
  });
  if (peak === null) {
    const reason = series.length === 0 ? 'empty series' : 'no positive value to measure a fall from';
    return { maxDrawdown: null, peak: null, trough: null, recovery: null, series: out, reason, method };
  }
  const peakValue = (worstPeak as { value: number } | null)?.value;
  const recovered =
    peakValue === undefined ? undefined : series.slice(troughIndex + 1).find((p) => p.value >= peakValue);
  return {
    maxDrawdown: worst,
    peak: worstPeak,
    trough: worstTrough,
    recovery: recovered?.day ?? null,
    series: out,
    method,
  };
}

/** The result of {@link volatility}. */
export interface VolatilityResult {
  /** Sample standard deviation of the returns (n − 1). */
  daily: number | null;
  /** `daily × √periodsPerYear`. */
  annualized: number | null;
  n: number;
  reason?: string;
  method: 'sample-stdev';
}

/**
 * Volatility: the sample standard deviation `s = √(Σ (r_i − r̄)² / (n − 1))` of the daily returns, and
 * `s × √periodsPerYear` annualised (365 by default: calendar-day series; see the module note).
 * Null with a reason for fewer than 2 returns. A constant series has volatility 0 (defined, not missing).
 */
export function volatility(returns: number[], periodsPerYear = CALENDAR_DAYS_PER_YEAR): VolatilityResult {
  const bad = unusable(returns);
  if (bad) return { daily: null, annualized: null, n: returns.length, reason: bad, method: 'sample-stdev' };
  const daily = sampleStdev(returns);
  return { daily, annualized: daily * Math.sqrt(periodsPerYear), n: returns.length, method: 'sample-stdev' };
}

/**
 * Sharpe ratio, annualised: `mean(r − rf_d) × P / (s × √P) = mean(r − rf_d) / s × √P`, with P = periodsPerYear,
 * s the sample stdev of r and `rf_d = (1 + riskFreeRate)^(1/P) − 1` the annual risk-free rate per period.
 * Null with a reason for fewer than 2 returns or zero volatility.
 */
export function sharpe(
  returns: number[],
  riskFreeRate = 0,
  periodsPerYear = CALENDAR_DAYS_PER_YEAR,
): Stat & { method: 'sharpe' } {
  const method = 'sharpe' as const;
  const bad = unusable(returns);
  if (bad) return { value: null, reason: bad, method };
  const s = sampleStdev(returns);
  if (s === 0) return { value: null, reason: 'zero volatility', method };
  const excess = mean(returns) - periodRate(riskFreeRate, periodsPerYear);
  return { value: (excess / s) * Math.sqrt(periodsPerYear), method };
}

/**
 * Sortino ratio, annualised: `mean(r − rf_d) / DD × √P`, with the downside deviation taken over ALL n returns
 * (Sortino–Price): `DD = √(Σ min(0, r_i − rf_d)² / n)`, the risk-free rate as the target.
 * Null with a reason for fewer than 2 returns or no return below the target.
 */
export function sortino(
  returns: number[],
  riskFreeRate = 0,
  periodsPerYear = CALENDAR_DAYS_PER_YEAR,
): Stat & { method: 'sortino' } {
  const method = 'sortino' as const;
  const bad = unusable(returns);
  if (bad) return { value: null, reason: bad, method };
  const target = periodRate(riskFreeRate, periodsPerYear);
  let squares = 0;
  for (const r of returns) if (r < target) squares += (r - target) ** 2;
  if (squares === 0) return { value: null, reason: 'no return below the target: no downside deviation', method };
  const downside = Math.sqrt(squares / returns.length);
  return { value: ((mean(returns) - target) / downside) * Math.sqrt(periodsPerYear), method };
}

/**
 * Calmar ratio over the chosen range (not the classic trailing 36 months): `annualized return / |max drawdown|`.
 * Null with a reason when either input is null, or when there was no drawdown.
 */
export function calmar(annualizedReturn: number | null, maxDrawdownValue: number | null): Stat & { method: 'calmar' } {
  const method = 'calmar' as const;
  if (annualizedReturn === null || !Number.isFinite(annualizedReturn)) {
    return { value: null, reason: 'no annualized return', method };
  }
  if (maxDrawdownValue === null || !Number.isFinite(maxDrawdownValue)) {
    return { value: null, reason: 'no max drawdown', method };
  }
  if (maxDrawdownValue === 0) return { value: null, reason: 'no drawdown in the range', method };
  return { value: annualizedReturn / Math.abs(maxDrawdownValue), method };
}

/**
 * Best and worst day: the highest and lowest daily return (first occurrence on ties). Days with `r: null`
 * (not chainable) are skipped; none left → nulls with a reason.
 */
export function bestWorstDay(daily: Array<{ day: string; r: number | null }>): {
  best: { day: string; r: number } | null;
  worst: { day: string; r: number } | null;
  reason?: string;
} {
  let best: { day: string; r: number } | null = null;
  let worst: { day: string; r: number } | null = null;
  for (const d of daily) {
    if (d.r === null || !Number.isFinite(d.r)) continue;
    if (best === null || d.r > best.r) best = { day: d.day, r: d.r };
    if (worst === null || d.r < worst.r) worst = { day: d.day, r: d.r };
  }
  if (best === null) return { best: null, worst: null, reason: 'no daily return' };
  return { best, worst };
}

/** The result of {@link benchmarkStats}. */
export interface BenchmarkStats {
  /** `cov(p, b) / var(b)`. */
  beta: Stat;
  /** Jensen's alpha, annualised arithmetically: `(mean(p − rf) − β · mean(b − rf)) × P`. */
  alpha: Stat;
  /** `stdev(p − b) × √P` (sample stdev). */
  trackingError: Stat;
  /** Pearson correlation `cov(p, b) / (s_p · s_b)`. */
  correlation: Stat;
  n: number;
  method: 'capm-sample';
}

/**
 * Statistics of a portfolio's daily returns against a benchmark's over the SAME days (aligned by index).
 * Sample (n − 1) moments; `riskFreeDaily` is the per-period risk-free rate (see {@link periodRate}); P =
 * periodsPerYear (365 by default, see the module note).
 *
 * - beta `= cov(p, b) / var(b)`, null when the benchmark does not move;
 * - alpha (Jensen's) `= (mean(p − rf) − β · mean(b − rf)) × P`, null when beta is;
 * - tracking error `= stdev(p − b) × √P`;
 * - correlation `= cov(p, b) / (s_p · s_b)`, null when either series does not move.
 *
 * All null with a reason for series of different lengths or fewer than 2 points.
 */
export function benchmarkStats(
  portfolio: number[],
  benchmark: number[],
  riskFreeDaily: number,
  periodsPerYear = CALENDAR_DAYS_PER_YEAR,
): BenchmarkStats {
  const n = portfolio.length;
  const base = { n, method: 'capm-sample' as const };
  const bad =
    portfolio.length !== benchmark.length
      ? `series lengths differ (${portfolio.length} portfolio, ${benchmark.length} benchmark)`
      : (unusable(portfolio) ??
        unusable(benchmark, 'benchmark returns') ??
        (Number.isFinite(riskFreeDaily) ? null : 'non-finite risk-free rate'));
  if (bad) {
    const none = { value: null, reason: bad };
    return { ...base, beta: none, alpha: none, trackingError: none, correlation: none };
  }
  const covariance = sampleCovariance(portfolio, benchmark);
  const sp = sampleStdev(portfolio);
  const sb = sampleStdev(benchmark);
  const beta: Stat =
    sb === 0
      ? { value: null, reason: 'benchmark returns have zero variance' }
      : { value: covariance / sampleCovariance(benchmark, benchmark) };
  const alpha: Stat =
    beta.value === null
      ? { value: null, reason: 'no beta' }
      : { value: (mean(portfolio) - riskFreeDaily - beta.value * (mean(benchmark) - riskFreeDaily)) * periodsPerYear };
  const difference = portfolio.map((p, i) => p - (benchmark[i] as number));
  const trackingError: Stat = { value: sampleStdev(difference) * Math.sqrt(periodsPerYear) };
  const correlation: Stat =
    sp === 0 || sb === 0
      ? { value: null, reason: `${sp === 0 ? 'portfolio' : 'benchmark'} returns have zero variance` }
      : { value: Math.max(-1, Math.min(1, covariance / (sp * sb))) };
  return { ...base, beta, alpha, trackingError, correlation };
}
