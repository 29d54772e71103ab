/**
 * Mean–variance optimisation of long-only target weights from the price history: the
 * minimum-variance portfolio and the maximum-Sharpe (tangency) portfolio.
 *
 * Precision: the statistics and the solver use IEEE-754 doubles; the solver stops when a step moves
 * no weight by more than 1e-12 (projected gradient) and the weights handed to the user are decimal
 * strings rounded to 6 places that sum to exactly 1.
 */
import { z } from 'zod';
import { FoliokitError, isFoliokitError, wrapError } from '../errors.js';
import { Dec } from '../money/decimal.js';
import type { DailyBar } from '../ports/index.js';
import { normalizeSymbol } from '../prices/symbols.js';
import type { SnapshotHost } from '../snapshots/host.js';
import { dayOf } from '../time.js';
import { validate } from '../validation.js';
import { covariance, dot, matVec, mean, quadraticForm, type ReadonlyMatrix } from './matrix.js';

/** The objectives {@link optimizeWeights} knows. */
export const OPTIMIZE_OBJECTIVES = ['min-variance', 'max-sharpe'] as const;
/** An optimisation objective. */
export type OptimizeObjective = (typeof OPTIMIZE_OBJECTIVES)[number];

/** Decimal places of the weights returned. */
export const WEIGHT_PLACES = 6;
const UNITS = 10 ** WEIGHT_PLACES;
const MS_PER_DAY = 86_400_000;

const optimizeSchema = z
  .object({
    symbols: z.array(z.string()).min(2).max(100),
    objective: z.enum(OPTIMIZE_OBJECTIVES),
    lookbackDays: z.number().int().min(7).max(3660).optional(),
    riskFreeRate: z.number().min(-1).max(1).optional(),
    maxWeight: z.number().gt(0).max(1).optional(),
  })
  .strict();

/** The input of {@link optimizeWeights}. */
export interface OptimizeInput {
  /** 2 to 100 distinct symbols (normalised: `' aapl '` is `AAPL`). */
  symbols: string[];
  /** `min-variance`: the least volatile mix; `max-sharpe`: the highest (return − riskFreeRate) / volatility. */
  objective: OptimizeObjective;
  /** Calendar days of price history read back from today (7 to 3660). @default 365 */
  lookbackDays?: number;
  /** Annual risk-free rate as a fraction (0.03 = 3 %), between −1 and 1. @default 0 */
  riskFreeRate?: number;
  /** The largest weight of one symbol, in (0, 1]; `maxWeight × symbols.length` must reach 1. @default 1 */
  maxWeight?: number;
}

/** One symbol's weight: a decimal string with 6 places (`"0.250000"`). */
export interface OptimizedWeight {
  symbol: string;
  weight: string;
}

/** A day of the lookback window left out because some symbols had no usable close on it. */
export interface OptimizeGap {
  day: string;
  /** The symbols without a close that day. */
  missing: string[];
}

/** What {@link optimizeWeights} returns. */
export interface OptimizeResult {
  objective: OptimizeObjective;
  /** The weights in the order of the input symbols (≥ 0, ≤ maxWeight, summing to exactly 1); null with `reason`. */
  weights: OptimizedWeight[] | null;
  /** Why there are no weights. */
  reason?: string;
  /** Annualised arithmetic mean return of the rounded weights (fraction); null without weights. */
  expectedReturn: number | null;
  /** Annualised volatility of the rounded weights (fraction); null without weights. */
  volatility: number | null;
  /** (expectedReturn − riskFreeRate) / volatility; null without weights or with zero volatility. */
  sharpe: number | null;
  /** The formulas, constraints and annualisation used, in words. */
  method: string;
  /** Days with a close for every symbol (the aligned price series; returns are one fewer). */
  days: number;
  /** First and last day of the window read. */
  from: string;
  to: string;
  /** 252 (trading days) or 365 (prices on weekends too, e.g. crypto): the annualisation factor. */
  periodsPerYear: 252 | 365;
  /** Days left out because some symbols had no close on them. */
  gaps: OptimizeGap[];
}

/** The normalised input of {@link optimizeWeights}. */
interface OptimizeOptions {
  symbols: string[];
  objective: OptimizeObjective;
  lookbackDays: number;
  riskFreeRate: number;
  maxWeight: number;
}

/**
 * Long-only mean–variance weights for `input.symbols` from their daily closes.
 *
 * Data: daily closes (the adjusted close when the source has one) from
 * `host.marketData.getDailyHistory`, falling back to the stored bars (`host.store.listDailyBars`) when
 * the provider fails or has none, over `lookbackDays` calendar days to today (the clock's UTC day).
 * The series are aligned on the days every symbol has a close; other days are listed in `gaps` (a
 * return then spans the skipped day). Daily simple returns `r_t = P_t / P_{t−1} − 1`; mean `μ` and
 * sample covariance `Σ` (divisor n − 1) are annualised by × 252, or × 365 when any aligned day is a
 * Saturday or Sunday (a market priced every calendar day).
 *
 * Constraints: `w ≥ 0`, `Σw = 1`, `w ≤ maxWeight`. `min-variance` minimises `wᵀΣw`; `max-sharpe`
 * maximises `(μ·w − rf) / √(wᵀΣw)`. Both are solved by projected gradient descent (with Nesterov
 * momentum and restarts) on the capped simplex, the projection computed exactly by sorting its
 * breakpoints; max-Sharpe searches the efficient frontier `min wᵀΣw − t (μ − rf)·w` over `t ≥ 0`
 * (Sharpe is unimodal along it) and keeps the best.
 *
 * A symbol without any history is an error (`UNKNOWN_SYMBOL`): weights that silently leave out a
 * symbol asked for would be wrong targets. Too few common days, or (max-Sharpe) no feasible mix
 * beating the risk-free rate, give `weights: null` with a `reason`.
 *
 * @throws FoliokitError `VALIDATION_FAILED` (bad input), `UNKNOWN_SYMBOL` (no price history for a
 *   symbol), `PROVIDER_UNAVAILABLE` (provider failed and nothing stored).
 */
export async function optimizeWeights(host: SnapshotHost, input: OptimizeInput): Promise<OptimizeResult> {
  const options = readInput(input);
  const now = host.clock.now();
  const to = dayOf(now);
  const from = dayOf(now - options.lookbackDays * MS_PER_DAY);
  const closes = await Promise.all(
    options.symbols.map((symbol, i) => loadCloses(host, symbol, { from, to }, `symbols.${i}`)),
  );
  const { days, prices, gaps } = alignCloses(options.symbols, closes);
  const periodsPerYear = days.some(isWeekend) ? 365 : 252;
  const base = { objective: options.objective, days: days.length, from, to, periodsPerYear, gaps } as const;
  const method = describeMethod(options, periodsPerYear);
  if (days.length < 3) {
    return unavailable(base, method, `only ${days.length} day(s) with a close for every symbol; at least 3 are needed`);
  }
  const returns = prices.map(dailyReturns);
  const mu = returns.map((r) => mean(r) * periodsPerYear);
  const sigma = covariance(returns).map((row) => row.map((c) => c * periodsPerYear));
  const solved =
    options.objective === 'min-variance'
      ? { weights: minVarianceWeights(sigma, options.maxWeight) }
      : maxSharpeWeights(mu, sigma, options.riskFreeRate, options.maxWeight);
  if (solved.weights === null) return unavailable(base, method, solved.reason ?? 'no solution');
  const rounded = roundWeights(solved.weights, options.maxWeight);
  const w = rounded.map((units) => units / UNITS);
  const expectedReturn = dot(mu, w);
  const volatility = Math.sqrt(Math.max(0, quadraticForm(sigma, w)));
  return {
    ...base,
    weights: options.symbols.map((symbol, i) => ({ symbol, weight: unitsToDecimal(rounded[i] as number) })),
    expectedReturn,
    volatility,
    sharpe: volatility > 0 ? (expectedReturn - options.riskFreeRate) / volatility : null,
    method,
  };
}

/**
 * The weights of a result as targets (`[{ symbol, weight }]`) to pass to `setTargets`.
 * @throws FoliokitError `VALIDATION_FAILED` (field `weights`) when the result has no weights.
 */
export function asTargets(result: OptimizeResult): OptimizedWeight[] {
  if (result.weights === null) {
    throw new FoliokitError('VALIDATION_FAILED', `The optimisation has no weights: ${result.reason ?? 'unavailable'}`, {
      field: 'weights',
    });
  }
  return result.weights.map(({ symbol, weight }) => ({ symbol, weight }));
}

/** Validates and normalises the input. */
function readInput(input: OptimizeInput): OptimizeOptions {
  const parsed = validate(optimizeSchema, input, 'input');
  const seen = new Set<string>();
  const symbols = parsed.symbols.map((raw, i) => {
    const symbol = normalizeSymbol(raw, `symbols.${i}`);
    if (seen.has(symbol)) {
      throw new FoliokitError('VALIDATION_FAILED', `symbols.${i}: ${symbol} is listed twice`, {
        field: `symbols.${i}`,
      });
    }
    seen.add(symbol);
    return symbol;
  });
  const maxWeight = parsed.maxWeight ?? 1;
  if (maxWeight * symbols.length < 1 - 1e-12) {
    throw new FoliokitError(
      'VALIDATION_FAILED',
      `maxWeight: ${maxWeight} × ${symbols.length} symbols is below 1; no weights can sum to 1`,
      { field: 'maxWeight' },
    );
  }
  return {
    symbols,
    objective: parsed.objective,
    lookbackDays: parsed.lookbackDays ?? 365,
    riskFreeRate: parsed.riskFreeRate ?? 0,
    maxWeight,
  };
}

/** Daily closes of one symbol by day: the provider's, else the store's. */
async function loadCloses(
  host: SnapshotHost,
  symbol: string,
  range: { from: string; to: string },
  field: string,
): Promise<Map<string, number>> {
  let bars: Array<Pick<DailyBar, 'day' | 'close'> & { adjClose?: string | null | undefined }> = [];
  let failure: unknown = null;
  try {
    bars = await host.marketData.getDailyHistory(symbol, range);
  } catch (error) {
    failure = error;
  }
  if (bars.length === 0) bars = await host.store.listDailyBars(symbol, range);
  if (bars.length === 0) {
    if (failure !== null && !(isFoliokitError(failure) && failure.code === 'UNKNOWN_SYMBOL')) {
      throw wrapError(failure, 'PROVIDER_UNAVAILABLE', `No price history for ${symbol}`, { field, symbol });
    }
    throw new FoliokitError('UNKNOWN_SYMBOL', `No price history for ${symbol} from ${range.from} to ${range.to}`, {
      field,
      symbol,
    });
  }
  const out = new Map<string, number>();
  for (const bar of bars) {
    const close = Number(bar.adjClose ?? bar.close);
    if (Number.isFinite(close) && close > 0) out.set(bar.day, close);
  }
  return out;
}

/** The days every symbol has a close on, the aligned closes per symbol, and the days left out. */
function alignCloses(
  symbols: readonly string[],
  closes: readonly Map<string, number>[],
): { days: string[]; prices: number[][]; gaps: OptimizeGap[] } {
  const all = new Set<string>();
  for (const c of closes) for (const day of c.keys()) all.add(day);
  const days: string[] = [];
  const gaps: OptimizeGap[] = [];
  for (const day of [...all].sort()) {
    const missing = symbols.filter((_, i) => !(closes[i] as Map<string, number>).has(day));
    if (missing.length === 0) days.push(day);
    else gaps.push({ day, missing });
  }
  const prices = closes.map((c) => days.map((day) => c.get(day) as number));
  return { days, prices, gaps };
}

/** Simple returns of a price series. */
function dailyReturns(prices: readonly number[]): number[] {
  const out: number[] = [];
  for (let t = 1; t < prices.length; t++) out.push((prices[t] as number) / (prices[t - 1] as number) - 1);
  return out;
}

/** True for a Saturday or a Sunday. */
function isWeekend(day: string): boolean {
  const wd = new Date(`${day}T00:00:00Z`).getUTCDay();
  return wd === 0 || wd === 6;
}

function describeMethod(options: OptimizeOptions, periodsPerYear: number): string {
  const objective =
    options.objective === 'min-variance'
      ? 'minimise wᵀΣw'
      : `maximise (μ·w − rf) / √(wᵀΣw) with rf = ${options.riskFreeRate}`;
  return (
    `${objective} subject to w ≥ 0, Σw = 1, w ≤ ${options.maxWeight} (long-only); μ and Σ: mean and sample ` +
    `covariance (n − 1) of daily simple returns on the days every symbol has a close, annualised × ${periodsPerYear}` +
    `${periodsPerYear === 365 ? ' (prices on weekends)' : ' (trading days)'}; projected gradient descent on the ` +
    `capped simplex; weights rounded to ${WEIGHT_PLACES} places by largest remainder so they sum to exactly 1; ` +
    'return, volatility and Sharpe are of the rounded weights'
  );
}

function unavailable(
  base: Omit<OptimizeResult, 'weights' | 'reason' | 'expectedReturn' | 'volatility' | 'sharpe' | 'method'>,
  method: string,
  reason: string,
): OptimizeResult {
  return { ...base, weights: null, reason, expectedReturn: null, volatility: null, sharpe: null, method };
}

// --- The solver -------------------------------------------------------------------------------

/**
 * The Euclidean projection of `v` onto the capped simplex `{ w : 0 ≤ wᵢ ≤ cap, Σw = 1 }` (needs
 * `cap × n ≥ 1`). `wᵢ = clip(vᵢ − τ, 0, cap)` where τ solves `Σ clip(vᵢ − τ, 0, cap) = 1`; that sum is
 * piecewise linear and decreasing in τ with breakpoints `vᵢ` and `vᵢ − cap`, so τ is found exactly by
 * sorting the breakpoints and interpolating on the segment where the sum crosses 1.
 */
export function projectCappedSimplex(v: readonly number[], cap = 1): number[] {
  // Breakpoints in falling order: at vᵢ the weight i starts to grow (slope +1), at vᵢ − cap it stops.
  const points = v.flatMap((x) => [
    { at: x, slope: 1 },
    { at: x - cap, slope: -1 },
  ]);
  points.sort((p, q) => q.at - p.at || p.slope - q.slope);
  let sum = 0;
  let slope = 0;
  let previous = (points[0] as { at: number }).at;
  for (const point of points) {
    const next = sum + slope * (previous - point.at);
    if (next >= 1 && slope > 0) {
      const tau = previous - (1 - sum) / slope;
      return v.map((x) => Math.min(cap, Math.max(0, x - tau)));
    }
    sum = next;
    slope += point.slope;
    previous = point.at;
  }
  // The sum never reaches 1 before every weight sits at the cap (cap × n = 1 exactly).
  return v.map(() => cap);
}

/** What one frontier solve returns. */
interface FrontierPoint {
  weights: number[];
  iterations: number;
}

/**
 * Minimises `wᵀΣw − t·a·w` over the capped simplex by accelerated projected gradient descent (step
 * 1 / L with L = 2 × the largest Gershgorin row sum of Σ, an upper bound of its Lipschitz constant;
 * momentum restarted when it points uphill). Stops when no weight moves by more than `tolerance`
 * (and a plain step from there moves none either), or after
 * 200 000 steps.
 * @returns the weights and the steps taken.
 */
function solveFrontier(
  sigma: ReadonlyMatrix,
  a: readonly number[],
  t: number,
  cap: number,
  start: readonly number[],
  tolerance = 1e-12,
): FrontierPoint {
  const n = sigma.length;
  const lipschitz = 2 * Math.max(...sigma.map((row) => row.reduce((s, c) => s + Math.abs(c), 0)));
  if (!(lipschitz > 0)) {
    // Σ is zero: only the linear term matters; with t = 0 every feasible point is optimal.
    return { weights: t > 0 ? fillBest(a, cap) : projectCappedSimplex(start, cap), iterations: 0 };
  }
  const step = 1 / lipschitz;
  let w = projectCappedSimplex(start, cap);
  let y = w;
  let momentum = 1;
  let iterations = 0;
  const descend = (from: readonly number[]): number[] => {
    const g = matVec(sigma, from);
    return projectCappedSimplex(
      from.map((x, i) => x - step * (2 * (g[i] as number) - t * (a[i] as number))),
      cap,
    );
  };
  for (; iterations < 200_000; iterations++) {
    const next = descend(y);
    let moved = 0;
    let uphill = 0;
    for (let i = 0; i < n; i++) {
      const d = (next[i] as number) - (w[i] as number);
      moved = Math.max(moved, Math.abs(d));
      uphill += ((y[i] as number) - (next[i] as number)) * d;
    }
    // Converged when a plain step from the new point moves nothing either (a fixed point of the map).
    if (moved <= tolerance && maxDistance(descend(next), next) <= tolerance) {
      w = next;
      break;
    }
    const nextMomentum = uphill > 0 ? 1 : (1 + Math.sqrt(1 + 4 * momentum * momentum)) / 2;
    const beta = uphill > 0 ? 0 : (momentum - 1) / nextMomentum;
    y = next.map((x, i) => x + beta * (x - (w[i] as number)));
    w = next;
    momentum = nextMomentum;
  }
  return { weights: w, iterations };
}

/** The largest absolute difference between two vectors. */
function maxDistance(p: readonly number[], q: readonly number[]): number {
  let d = 0;
  for (let i = 0; i < p.length; i++) d = Math.max(d, Math.abs((p[i] as number) - (q[i] as number)));
  return d;
}

/**
 * Long-only minimum-variance weights: `argmin wᵀΣw` subject to `0 ≤ w ≤ maxWeight`, `Σw = 1`
 * (unrounded doubles). Σ must be symmetric positive semi-definite.
 */
export function minVarianceWeights(sigma: ReadonlyMatrix, maxWeight = 1): number[] {
  const n = sigma.length;
  const equal = new Array<number>(n).fill(1 / n);
  return solveFrontier(sigma, new Array<number>(n).fill(0), 0, maxWeight, equal).weights;
}

/**
 * Long-only maximum-Sharpe weights: `argmax (μ·w − rf) / √(wᵀΣw)` subject to `0 ≤ w ≤ maxWeight`,
 * `Σw = 1` (unrounded doubles), or null with a reason when no feasible mix beats `rf` or the best
 * one has zero volatility (Sharpe unbounded).
 *
 * The optimum lies on the efficient frontier `w(t) = argmin wᵀΣw − t·a·w` (a = μ − rf, t ≥ 0): its
 * KKT conditions are the frontier's with `t = 2 wᵀΣw / a·w`. Sharpe is unimodal in t along the
 * frontier, so t is found by a scan over a log grid then a golden-section search, and the fixed-point
 * value of t is tried last; the best weights seen are kept.
 */
export function maxSharpeWeights(
  mu: readonly number[],
  sigma: ReadonlyMatrix,
  riskFreeRate = 0,
  maxWeight = 1,
): { weights: number[] | null; reason?: string } {
  const a = mu.map((m) => m - riskFreeRate);
  if (dot(a, fillBest(a, maxWeight)) <= 0) {
    return {
      weights: null,
      reason:
        maxWeight < 1
          ? `no asset beats the risk-free rate within maxWeight ${maxWeight}`
          : 'no asset beats the risk-free rate',
    };
  }
  const sharpe = (w: readonly number[]): number => {
    const excess = dot(a, w);
    const variance = quadraticForm(sigma, w);
    if (variance <= 0) return excess > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    return excess / Math.sqrt(variance);
  };
  let warm = minVarianceWeights(sigma, maxWeight);
  let best = { w: warm, s: sharpe(warm) };
  // Scan and search with a looser tolerance, then solve the best t found tightly.
  let bestLogT = Number.NEGATIVE_INFINITY;
  const at = (logT: number, tolerance = 1e-9): number => {
    const point = solveFrontier(sigma, a, Math.exp(logT), maxWeight, warm, tolerance).weights;
    warm = point;
    const s = sharpe(point);
    if (s > best.s) best = { w: point, s };
    if (s >= best.s) bestLogT = logT;
    return s;
  };
  // t scale: where the linear term's pull matches the curvature.
  const scale =
    Math.max(...sigma.map((row) => row.reduce((s, c) => s + Math.abs(c), 0))) / Math.max(...a.map(Math.abs));
  const lo = Math.log(Math.max(scale, 1e-300) * 1e-6);
  const hi = Math.log(Math.max(scale, 1e-300) * 1e6);
  const steps = 28;
  const grid = Array.from({ length: steps + 1 }, (_, k) => lo + ((hi - lo) * k) / steps);
  const values = grid.map((logT) => at(logT));
  const peak = values.indexOf(Math.max(...values));
  goldenSection(at, grid[Math.max(0, peak - 1)] as number, grid[Math.min(steps, peak + 1)] as number, 40);
  if (Number.isFinite(best.s)) {
    if (Number.isFinite(bestLogT)) at(bestLogT, 1e-12);
    // The KKT value of t at the best point found: the exact tangency when the search is close.
    const t = (2 * quadraticForm(sigma, best.w)) / dot(a, best.w);
    if (t > 0) at(Math.log(t), 1e-12);
  }
  if (!Number.isFinite(best.s)) {
    return { weights: null, reason: 'a zero-volatility mix beats the risk-free rate: Sharpe is unbounded' };
  }
  return { weights: best.w };
}

/** The feasible mix with the largest `a·w`: the highest `a` filled up to the cap first (ties in input order). */
function fillBest(a: readonly number[], cap: number): number[] {
  const w = new Array<number>(a.length).fill(0);
  let left = 1;
  const order = a.map((x, i) => ({ x, i })).sort((p, q) => q.x - p.x || p.i - q.i);
  for (const { i } of order) {
    if (left <= 0) break;
    w[i] = Math.min(cap, left);
    left -= w[i] as number;
  }
  return w;
}

/** Golden-section search for the maximum of a unimodal `f` on [lo, hi]. */
function goldenSection(f: (x: number) => number, lo: number, hi: number, iterations: number): void {
  const r = (Math.sqrt(5) - 1) / 2;
  let a = lo;
  let b = hi;
  let c = b - r * (b - a);
  let d = a + r * (b - a);
  let fc = f(c);
  let fd = f(d);
  for (let k = 0; k < iterations; k++) {
    if (fc >= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - r * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + r * (b - a);
      fd = f(d);
    }
  }
}

// --- Rounding ---------------------------------------------------------------------------------

/**
 * Rounds weights to millionths that sum to exactly 1 000 000 (largest remainder): each weight is
 * floored, and the units left are given one each to the largest remainders, skipping a weight that
 * would pass `maxWeight` while another can take the unit.
 */
export function roundWeights(weights: readonly number[], maxWeight = 1): number[] {
  const total = weights.reduce((s, w) => s + Math.max(0, w), 0);
  const scaled = weights.map((w) => (Math.max(0, w) / total) * UNITS);
  const units = scaled.map((x) => Math.floor(x + 1e-9));
  const capUnits = Math.floor(maxWeight * UNITS + 1e-9);
  let left = UNITS - units.reduce((s, u) => s + u, 0);
  const order = scaled
    .map((x, i) => ({ i, rest: x - Math.floor(x + 1e-9) }))
    .sort((p, q) => q.rest - p.rest || p.i - q.i)
    .map((e) => e.i);
  // Give the units left one at a time in order of remainder, below the cap first; take any excess
  // (floors nudged up by the tolerance) from the smallest remainders.
  for (let pass = 0; left > 0 && pass < 2 * order.length + 2; pass++) {
    const capped = pass === 0 ? (i: number) => (units[i] as number) >= capUnits : () => false;
    for (const i of order) {
      if (left <= 0) break;
      if (capped(i)) continue;
      units[i] = (units[i] as number) + 1;
      left--;
    }
  }
  for (const i of [...order].reverse()) {
    if (left >= 0) break;
    if ((units[i] as number) > 0) {
      units[i] = (units[i] as number) - 1;
      left++;
    }
  }
  return units;
}

/** Millionths as a decimal string with 6 places. */
function unitsToDecimal(units: number): string {
  return new Dec(units).div(UNITS).toFixed(WEIGHT_PLACES);
}
