/**
 * Value at Risk and expected shortfall of the positions a portfolio holds, by three methods:
 * historical simulation, parametric (variance–covariance) and Monte Carlo (seeded, correlated
 * normal returns through a Cholesky factor). Plus the covariance and correlation matrices and each
 * position's contribution to the parametric VaR (Euler allocation).
 *
 * Conventions (stated once, used everywhere here):
 * - Returns are daily **simple** returns `r_t = P_t / P_{t−1} − 1` of the adjusted close (the close
 *   when there is no adjusted close): a position's P&L is then exactly `value × r`, so the portfolio
 *   P&L of a day is `Σ vᵢ rᵢ,t` with today's position values `vᵢ` (signed: shorts are negative).
 * - Cash carries no market risk in this model (currency and rate risk are not modelled).
 * - Losses are positive: a VaR of "1234.56" means a loss of 1234.56 in the portfolio's currency is
 *   not exceeded with the stated confidence over the horizon. A negative VaR means even the tail
 *   outcome is a gain.
 * - Empirical quantiles (historical and Monte Carlo): with `n` outcomes sorted from the worst loss,
 *   `k = ⌈n (1 − c)⌉`; the VaR is the k-th worst loss and the expected shortfall the mean of the k
 *   worst losses.
 * - Parametric and Monte Carlo assume zero-mean normal returns (the sample mean of a year of daily
 *   returns is mostly noise); historical simulation uses the returns as they were.
 * - Horizon: every method computes a one-day figure and scales it by `√h` (i.i.d. returns). For
 *   historical simulation this is a simplification; overlapping h-day windows would leave too few
 *   independent observations for long horizons.
 * - Amounts (VaR, ES, components) are decimal strings rounded half-even to cents from float
 *   estimates (doubles, ~15 significant digits); fractions of the portfolio value are numbers.
 */
import { z } from 'zod';
import { FoliokitError, portfolioNotFound } from '../errors.js';
import { Dec, dec, fmt, ZERO } from '../money/decimal.js';
import type { DailyBar } from '../ports/index.js';
import type { SnapshotHost } from '../snapshots/host.js';
import { dayOf, toIso } from '../time.js';
import { checkId, validate } from '../validation.js';
import { cholesky, correlation, covariance, type Matrix, matVec, quadraticForm } from './matrix.js';
import { createRng, MAX_SEED } from './random.js';

/** The seed used when none is given: results are reproducible by default. */
export const DEFAULT_RISK_SEED = 20_260_101;

/** Fewest aligned daily returns needed for any estimate. */
export const MIN_RISK_OBSERVATIONS = 10;

const DAY_MS = 86_400_000;

const riskInputSchema = z.strictObject({
  confidence: z.number().min(0.5).max(0.9999).default(0.95),
  horizonDays: z.number().int().min(1).max(250).default(1),
  lookbackDays: z.number().int().min(30).max(3650).default(365),
  method: z.enum(['historical', 'parametric', 'monte-carlo', 'all']).default('all'),
  paths: z.number().int().min(100).max(200_000).default(10_000),
  seed: z.number().int().min(0).max(MAX_SEED).default(DEFAULT_RISK_SEED),
});

/** Options of {@link getRisk}; every field is optional and validated. */
export interface RiskInput {
  /** Confidence level of VaR and ES, 0.5 to 0.9999. @default 0.95 */
  confidence?: number;
  /** Horizon in trading days, 1 to 250 (one-day figures scaled by √h). @default 1 */
  horizonDays?: number;
  /** Calendar days of price history used, 30 to 3650. @default 365 */
  lookbackDays?: number;
  /** Which estimates to compute; the others are null with a reason. @default 'all' */
  method?: RiskMethodChoice;
  /** Monte Carlo paths, 100 to 200,000. @default 10_000 */
  paths?: number;
  /** Monte Carlo seed, an integer 0 to 2^32 − 1. @default DEFAULT_RISK_SEED */
  seed?: number;
}

/** The `method` input. */
export type RiskMethodChoice = 'historical' | 'parametric' | 'monte-carlo' | 'all';

/** {@link RiskInput} with its defaults applied. */
export type NormalizedRiskInput = Required<RiskInput>;

/**
 * Validates and completes a risk input.
 * @throws FoliokitError `VALIDATION_FAILED` naming the field
 */
export function parseRiskInput(input: unknown): NormalizedRiskInput {
  return validate(riskInputSchema, input ?? {}, 'input');
}

/** One VaR/ES estimate. Amounts are null, with a reason, when the estimate could not be made. */
export interface RiskEstimate {
  method: 'historical' | 'parametric' | 'monte-carlo';
  /** Value at Risk: a loss amount (positive = loss), decimal string rounded to cents. */
  var: string | null;
  /** Expected shortfall (mean loss beyond the VaR), decimal string rounded to cents. */
  expectedShortfall: string | null;
  /** VaR as a fraction of the portfolio value (null when the value is not positive). */
  varFraction: number | null;
  /** ES as a fraction of the portfolio value. */
  expectedShortfallFraction: number | null;
  /** Why the amounts are null. */
  reason?: string;
  /** The formula used. */
  formula: string;
}

/** The Monte Carlo estimate, with what reproduces it. */
export interface MonteCarloEstimate extends RiskEstimate {
  method: 'monte-carlo';
  paths: number;
  seed: number;
  /** Diagonal jitter the Cholesky factorisation needed (0 when the covariance was positive definite). */
  jitter: number;
}

/** One position's share of the parametric VaR (Euler allocation: components sum to the VaR). */
export interface RiskContribution {
  symbol: string;
  /** Position value (quantity × price), exact decimal string. */
  value: string;
  /** Position value / portfolio value (null when the portfolio value is not positive). */
  weight: number | null;
  /** ∂VaR/∂vᵢ: VaR added per unit of currency added to this position. */
  marginal: number;
  /** vᵢ × marginal, cents; the components add up exactly to the parametric VaR string. */
  component: string;
  /** component / VaR (null when the VaR is zero). */
  percent: number | null;
}

/** Something in the data that the estimates worked around. */
export interface RiskGap {
  symbol: string;
  kind: 'carried-forward' | 'before-common-start' | 'no-history' | 'price-from-history' | 'stale-price' | 'bad-close';
  /** How many days it concerns. */
  days: number;
  note: string;
}

/** What {@link getRisk} returns. */
export interface RiskReport {
  portfolioId: string;
  /** When it was computed (the host clock). */
  asOf: string;
  /** Portfolio value: cash + Σ quantity × price, exact decimal string. */
  value: string;
  cash: string;
  confidence: number;
  horizonDays: number;
  lookbackDays: number;
  returns: 'simple';
  /** The aligned days used: first and last price day and the number of daily returns. */
  window: { from: string | null; to: string | null; observations: number };
  /** Symbols held, in the order of the matrices and contributions. */
  symbols: string[];
  historical: RiskEstimate;
  parametric: RiskEstimate;
  monteCarlo: MonteCarloEstimate;
  /** Sample covariance of daily simple returns (divisor n − 1); [] when it could not be computed. */
  covariance: Matrix;
  /** Correlation matrix; null entries where a symbol's price never moved. */
  correlation: (number | null)[][];
  /** Euler allocation of the parametric VaR (given whichever `method` was asked for). */
  contributions: RiskContribution[];
  notes: string[];
  gaps: RiskGap[];
}

/** Options of {@link getRisk}. */
export interface GetRiskOptions {
  /** A cache from {@link createRiskCache}: a hit skips every read and computation. */
  cache?: RiskCache;
}

/**
 * The risk report of a portfolio's current positions.
 *
 * @throws FoliokitError `VALIDATION_FAILED` (bad input), `PORTFOLIO_NOT_FOUND`,
 *   `PRICE_UNAVAILABLE` (a held symbol has neither a price nor a close in the lookback)
 *
 * @example
 * const report = await getRisk(engine, portfolioId, { confidence: 0.99, horizonDays: 10 });
 * report.parametric.var; // "1234.56"
 */
export async function getRisk(
  host: SnapshotHost,
  portfolioId: string,
  input: RiskInput = {},
  options: GetRiskOptions = {},
): Promise<RiskReport> {
  const id = checkId(portfolioId);
  const params = parseRiskInput(input);
  const now = host.clock.now();
  const key: RiskCacheKey = { portfolioId: id, input: params, day: dayOf(now) };
  const cached = options.cache?.get(key);
  if (cached) return cached;
  const report = await computeRisk(host, id, params, now);
  options.cache?.set(key, report);
  return report;
}

interface Holding {
  symbol: string;
  value: Dec;
}

async function computeRisk(
  host: SnapshotHost,
  portfolioId: string,
  params: NormalizedRiskInput,
  now: number,
): Promise<RiskReport> {
  const [state] = await host.store.readPortfolioStates([portfolioId]);
  if (!state) throw portfolioNotFound(portfolioId);
  const cash = dec(state.portfolio.cash);
  const open = state.positions.filter((p) => !dec(p.quantity).isZero());
  const symbols = open.map((p) => p.symbol);
  const to = dayOf(now);
  const from = dayOf(now - params.lookbackDays * DAY_MS);
  const [prices, histories] = await Promise.all([
    host.latestPrices(symbols),
    Promise.all(symbols.map((s) => loadCloses(host, s, from, to))),
  ]);
  const gaps: RiskGap[] = [];
  const missing: string[] = [];
  const holdings: Holding[] = open.map((p, i) => {
    const quote = prices.get(p.symbol)?.price;
    const last = histories[i]?.at(-1);
    if (prices.get(p.symbol)?.stale) {
      gaps.push({
        symbol: p.symbol,
        kind: 'stale-price',
        days: 1,
        note: 'valued at its last known price, not a current one',
      });
    }
    if (quote === undefined && last) {
      gaps.push({ symbol: p.symbol, kind: 'price-from-history', days: 1, note: `valued at the close of ${last.day}` });
    }
    const price = quote ?? (last ? new Dec(last.closeText) : undefined);
    if (price === undefined) missing.push(p.symbol);
    return { symbol: p.symbol, value: price === undefined ? ZERO : dec(p.quantity).times(price) };
  });
  if (missing.length > 0) {
    throw new FoliokitError('PRICE_UNAVAILABLE', `No price for ${missing.join(', ')}: the portfolio cannot be valued`, {
      field: 'symbols',
      symbols: missing,
    });
  }
  const value = holdings.reduce((sum, h) => sum.plus(h.value), cash);
  const base = {
    portfolioId,
    asOf: toIso(now),
    value: fmt(value),
    cash: fmt(cash),
    confidence: params.confidence,
    horizonDays: params.horizonDays,
    lookbackDays: params.lookbackDays,
    returns: 'simple' as const,
    symbols,
  };
  if (holdings.length === 0) return cashOnlyReport(base, params);
  const aligned = alignReturns(symbols, histories as Closes[], gaps);
  const estimates = estimateRisk(holdings, value, aligned, params);
  return { ...base, ...estimates, window: aligned.window, gaps };
}

/** A day's close, as the number used for returns and the text used to value a position. */
interface Close {
  day: string;
  close: number;
  closeText: string;
}
type Closes = Close[];

/** Daily closes from the provider, else the stored bars; [] when neither has any. */
async function loadCloses(host: SnapshotHost, symbol: string, from: string, to: string): Promise<Closes> {
  let bars: readonly Pick<DailyBar, 'day' | 'close' | 'adjClose'>[] = [];
  try {
    bars = await host.marketData.getDailyHistory(symbol, { from, to });
  } catch (error) {
    host.logger.warn('risk: provider history failed, using stored bars', { symbol, error: String(error) });
  }
  if (bars.length === 0) {
    const stored = await host.store.listDailyBars(symbol, { from, to });
    bars = stored.map((b) => ({
      day: b.day,
      close: b.close,
      ...(b.adjClose !== null ? { adjClose: b.adjClose } : {}),
    }));
  }
  return [...bars]
    .sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0))
    .map((b) => ({ day: b.day, close: Number(b.adjClose ?? b.close), closeText: b.close }));
}

interface Aligned {
  /** returns[i][t]: symbol i's simple return on aligned day t + 1. */
  returns: number[][] | null;
  reason?: string;
  window: RiskReport['window'];
}

/**
 * Aligns every symbol's closes on the union of their price days, from the first day on which all
 * have a close; a symbol without a close on a later day carries its last close forward (a zero
 * return, counted in `gaps`). A non-positive or non-finite close is treated as missing.
 */
function alignReturns(symbols: readonly string[], histories: readonly Closes[], gaps: RiskGap[]): Aligned {
  const usable = histories.map((closes, i) => {
    const good = closes.filter((c) => Number.isFinite(c.close) && c.close > 0);
    if (good.length < closes.length) {
      const symbol = symbols[i] as string;
      const days = closes.length - good.length;
      gaps.push({ symbol, kind: 'bad-close', days, note: 'non-positive or unreadable closes treated as missing' });
    }
    return good;
  });
  const empty = symbols.filter((_, i) => (usable[i] as Closes).length === 0);
  for (const symbol of empty) {
    gaps.push({ symbol, kind: 'no-history', days: 0, note: 'no daily closes in the lookback' });
  }
  if (empty.length > 0) {
    return {
      returns: null,
      reason: `no price history for ${empty.join(', ')}: leaving it out would understate the risk`,
      window: { from: null, to: null, observations: 0 },
    };
  }
  const start = usable
    .map((closes) => (closes[0] as Close).day)
    .sort()
    .at(-1) as string;
  const days = [...new Set(usable.flatMap((closes) => closes.map((c) => c.day)))].filter((d) => d >= start).sort();
  usable.forEach((closes, i) => {
    const dropped = closes.filter((c) => c.day < start).length;
    if (dropped > 0) {
      const note = `closes before ${start}, the first day every symbol has a close, are left out`;
      gaps.push({ symbol: symbols[i] as string, kind: 'before-common-start', days: dropped, note });
    }
  });
  const returns = usable.map((closes, i) => {
    const byDay = new Map(closes.map((c) => [c.day, c.close]));
    let last = byDay.get(start) as number;
    let carried = 0;
    const out: number[] = [];
    for (const day of days.slice(1)) {
      const close = byDay.get(day);
      if (close === undefined) carried++;
      const price = close ?? last;
      out.push(price / last - 1);
      last = price;
    }
    if (carried > 0) {
      const note = 'days without a close carried the last close forward (zero return)';
      gaps.push({ symbol: symbols[i] as string, kind: 'carried-forward', days: carried, note });
    }
    return out;
  });
  const observations = days.length - 1;
  const window = { from: days[0] ?? null, to: days.at(-1) ?? null, observations };
  if (observations < MIN_RISK_OBSERVATIONS) {
    return {
      returns: null,
      reason: `only ${observations} aligned daily returns; at least ${MIN_RISK_OBSERVATIONS} are needed`,
      window,
    };
  }
  return { returns, window };
}

type Estimates = Pick<
  RiskReport,
  'historical' | 'parametric' | 'monteCarlo' | 'covariance' | 'correlation' | 'contributions' | 'notes'
>;

function estimateRisk(
  holdings: readonly Holding[],
  value: Dec,
  aligned: Aligned,
  params: NormalizedRiskInput,
): Estimates {
  const notes = methodNotes(params);
  const positionValues = holdings.map((h) => h.value.toNumber());
  const total = value.toNumber();
  const returns = aligned.returns;
  if (!returns) {
    const reason = aligned.reason ?? 'not enough data';
    return {
      historical: unavailable('historical', reason),
      parametric: unavailable('parametric', reason),
      monteCarlo: asMonteCarlo(unavailable('monte-carlo', reason), params.paths, params.seed, 0),
      covariance: [],
      correlation: [],
      contributions: [],
      notes,
    };
  }
  const cov = covariance(returns);
  const wants = (m: RiskMethodChoice): boolean => params.method === 'all' || params.method === m;
  const options = { confidence: params.confidence, horizonDays: params.horizonDays };
  const pnl = returns[0]?.map((_, t) =>
    positionValues.reduce((sum, v, i) => sum + v * ((returns[i] as number[])[t] as number), 0),
  );
  const parametric = parametricVar(positionValues, cov, options);
  const historical = wants('historical')
    ? toEstimate('historical', historicalVar(pnl ?? [], options), total)
    : unavailable('historical', 'not requested');
  const monteCarlo = wants('monte-carlo')
    ? monteCarloEstimate(positionValues, cov, { ...options, paths: params.paths, seed: params.seed }, total)
    : asMonteCarlo(unavailable('monte-carlo', 'not requested'), params.paths, params.seed, 0);
  if (monteCarlo.jitter > 0) {
    notes.push(
      `the covariance matrix is singular; Monte Carlo added ${monteCarlo.jitter.toExponential(2)} to its diagonal`,
    );
  }
  return {
    historical,
    parametric: wants('parametric')
      ? toEstimate('parametric', parametric, total)
      : unavailable('parametric', 'not requested'),
    monteCarlo,
    covariance: cov,
    correlation: correlation(cov),
    contributions: contributionsOf(holdings, positionValues, parametric, total),
    notes,
  };
}

function methodNotes(params: NormalizedRiskInput): string[] {
  return [
    'daily simple returns of the adjusted close, applied to today’s position values; cash is riskless',
    `one-day figures scaled by √${params.horizonDays} (i.i.d. returns)`,
    'parametric and Monte Carlo assume zero-mean normal returns; historical uses the returns as observed',
    'empirical VaR is the ⌈n(1−c)⌉-th worst loss; ES the mean of those losses',
    'amounts are rounded half-even to cents from float estimates',
  ];
}

const FORMULAS = {
  historical: 'VaR = k-th worst of n daily P&L losses Σ vᵢ rᵢ,t with k = ⌈n(1−c)⌉, × √h; ES = mean of the k worst × √h',
  parametric: 'VaR = Φ⁻¹(c) · √(vᵀΣv) · √h; ES = φ(Φ⁻¹(c)) / (1−c) · √(vᵀΣv) · √h',
  'monte-carlo': 'paths of x = L·z (L·Lᵀ = Σ, z ~ N(0, I)); loss = −vᵀx · √h; VaR, ES as the empirical rule',
} as const;

function unavailable(method: RiskEstimate['method'], reason: string): RiskEstimate {
  return {
    method,
    var: null,
    expectedShortfall: null,
    varFraction: null,
    expectedShortfallFraction: null,
    reason,
    formula: FORMULAS[method],
  };
}

function toEstimate(method: RiskEstimate['method'], figures: VarFigures, total: number): RiskEstimate {
  const positive = total > 0;
  return {
    method,
    var: cents(figures.var),
    expectedShortfall: cents(figures.expectedShortfall),
    varFraction: positive ? figures.var / total : null,
    expectedShortfallFraction: positive ? figures.expectedShortfall / total : null,
    ...(positive ? {} : { reason: 'the portfolio value is not positive: no fraction of it' }),
    formula: FORMULAS[method],
  };
}

function monteCarloEstimate(
  positionValues: readonly number[],
  cov: Matrix,
  options: MonteCarloOptions,
  total: number,
): MonteCarloEstimate {
  const result = monteCarloVar(positionValues, cov, options);
  const estimate =
    result.figures === null
      ? unavailable('monte-carlo', result.reason ?? 'refused')
      : toEstimate('monte-carlo', result.figures, total);
  return asMonteCarlo(estimate, options.paths, options.seed, result.jitter);
}

function asMonteCarlo(estimate: RiskEstimate, paths: number, seed: number, jitter: number): MonteCarloEstimate {
  return { ...estimate, method: 'monte-carlo', paths, seed, jitter };
}

function cashOnlyReport(
  base: Omit<RiskReport, 'window' | keyof Estimates | 'gaps'>,
  params: NormalizedRiskInput,
): RiskReport {
  const total = Number(base.value);
  const zero = { var: 0, expectedShortfall: 0 };
  const pick = (method: RiskEstimate['method'], choice: RiskMethodChoice): RiskEstimate =>
    params.method === 'all' || params.method === choice
      ? toEstimate(method, zero, total)
      : unavailable(method, 'not requested');
  return {
    ...base,
    window: { from: null, to: null, observations: 0 },
    historical: pick('historical', 'historical'),
    parametric: pick('parametric', 'parametric'),
    monteCarlo: asMonteCarlo(pick('monte-carlo', 'monte-carlo'), params.paths, params.seed, 0),
    covariance: [],
    correlation: [],
    contributions: [],
    notes: ['the portfolio holds only cash: zero market risk in this model (currency and rate risk are not modelled)'],
    gaps: [],
  };
}

/** A VaR and ES as float amounts (positive = loss). */
export interface VarFigures {
  var: number;
  expectedShortfall: number;
}

/** Confidence and horizon of a VaR computation. */
export interface VarOptions {
  /** Confidence level in (0, 1). */
  confidence: number;
  /** Horizon in days; one-day figures are scaled by √h. */
  horizonDays: number;
}

/**
 * Historical-simulation VaR and ES of a series of daily P&L amounts (gains positive).
 * Losses `−pnl` are sorted from the worst; `k = ⌈n (1 − c)⌉` (at least 1); VaR is the k-th worst
 * loss and ES the mean of the k worst, both × √h.
 *
 * @example historicalVar([-5, -3, 1, 2, ...16 more], { confidence: 0.9, horizonDays: 1 }) // k = 2: VaR 3, ES 4
 * @throws RangeError for an empty series
 */
export function historicalVar(pnl: readonly number[], options: VarOptions): VarFigures {
  return empiricalVar(
    Float64Array.from(pnl, (p) => -p),
    options,
  );
}

/** Empirical VaR/ES of losses (sorted in place). */
function empiricalVar(losses: Float64Array, options: VarOptions): VarFigures {
  const n = losses.length;
  if (n === 0) throw new RangeError('VaR needs at least one outcome');
  losses.sort();
  // ⌈n(1−c)⌉ with a tolerance: 100 × (1 − 0.95) is 5.000000000000004 in floats.
  const k = Math.min(n, Math.max(1, Math.ceil(n * (1 - options.confidence) - 1e-9)));
  let tail = 0;
  for (let i = n - k; i < n; i++) tail += losses[i] as number;
  const scale = Math.sqrt(options.horizonDays);
  return { var: (losses[n - k] as number) * scale, expectedShortfall: (tail / k) * scale };
}

/** A parametric VaR with what the Euler allocation needs. */
export interface ParametricFigures extends VarFigures {
  /** Daily standard deviation of the portfolio P&L, √(vᵀΣv). */
  sigma: number;
  /** ∂VaR/∂vᵢ = Φ⁻¹(c) · √h · (Σv)ᵢ / σ (zeros when σ = 0). */
  marginal: number[];
}

/**
 * Parametric (variance–covariance) VaR and ES for zero-mean normal returns:
 * `VaR = z σ √h`, `ES = φ(z) / (1 − c) · σ √h` with `z = Φ⁻¹(c)` and `σ² = vᵀΣv`.
 *
 * @param positionValues signed position values `v` (currency)
 * @param cov daily return covariance `Σ`, in the order of `positionValues`
 */
export function parametricVar(positionValues: readonly number[], cov: Matrix, options: VarOptions): ParametricFigures {
  const z = normalQuantile(options.confidence);
  const scale = Math.sqrt(options.horizonDays);
  const sigma = Math.sqrt(Math.max(0, quadraticForm(cov, positionValues)));
  const gradient = matVec(cov, positionValues);
  const marginal = gradient.map((g) => (sigma > 0 ? (z * scale * g) / sigma : 0));
  const tailDensity = normalPdf(z) / (1 - options.confidence);
  return { var: z * sigma * scale, expectedShortfall: tailDensity * sigma * scale, sigma, marginal };
}

/** Monte Carlo settings. */
export interface MonteCarloOptions extends VarOptions {
  paths: number;
  seed: number;
}

/** A Monte Carlo run: figures, or null with the reason the covariance was refused. */
export interface MonteCarloResult {
  figures: VarFigures | null;
  jitter: number;
  reason?: string;
}

/**
 * Monte Carlo VaR and ES: `paths` draws of correlated daily returns `x = L z` (`L Lᵀ = Σ` by
 * {@link cholesky}, `z` standard normals from {@link createRng}`(seed)`), loss `−vᵀx · √h`, and
 * the empirical rule of {@link historicalVar}. The same seed gives the same figures.
 * A covariance matrix that {@link cholesky} refuses gives `figures: null` with its reason.
 */
export function monteCarloVar(
  positionValues: readonly number[],
  cov: Matrix,
  options: MonteCarloOptions,
): MonteCarloResult {
  const { factor, jitter, reason } = cholesky(cov);
  if (factor === null) return { figures: null, jitter, reason: reason ?? 'the covariance matrix was refused' };
  const n = positionValues.length;
  // Row-major lower triangle, packed for a tight loop.
  const packed = new Float64Array((n * (n + 1)) / 2);
  let p = 0;
  for (let i = 0; i < n; i++) for (let k = 0; k <= i; k++) packed[p++] = (factor[i] as number[])[k] as number;
  const v = Float64Array.from(positionValues);
  const rng = createRng(options.seed);
  const z = new Float64Array(n);
  const losses = new Float64Array(options.paths);
  for (let path = 0; path < options.paths; path++) {
    for (let k = 0; k < n; k++) z[k] = rng.normal();
    let pnl = 0;
    p = 0;
    for (let i = 0; i < n; i++) {
      let x = 0;
      for (let k = 0; k <= i; k++) x += (packed[p++] as number) * (z[k] as number);
      pnl += (v[i] as number) * x;
    }
    losses[path] = -pnl;
  }
  return { figures: empiricalVar(losses, options), jitter };
}

/** Euler allocation of the parametric VaR, components rounded so they add up to the VaR in cents. */
function contributionsOf(
  holdings: readonly Holding[],
  positionValues: readonly number[],
  parametric: ParametricFigures,
  total: number,
): RiskContribution[] {
  const raw = positionValues.map((v, i) => v * (parametric.marginal[i] as number));
  const components = allocateCents(raw, cents(parametric.var));
  return holdings.map((h, i) => ({
    symbol: h.symbol,
    value: fmt(h.value),
    weight: total > 0 ? (positionValues[i] as number) / total : null,
    marginal: parametric.marginal[i] as number,
    component: components[i] as string,
    percent: parametric.var > 0 ? (raw[i] as number) / parametric.var : null,
  }));
}

/**
 * Rounds `amounts` to cents so that they add up exactly to `totalCents` (largest remainder: the
 * cents left over go to the amounts that rounding cut most).
 */
function allocateCents(amounts: readonly number[], totalText: string): string[] {
  const floors = amounts.map((a) => new Dec(a).times(100).floor());
  const target = new Dec(totalText).times(100);
  let left = floors
    .reduce((sum, f) => sum.plus(f), ZERO)
    .minus(target)
    .neg()
    .toNumber();
  const order = amounts
    .map((a, i) => ({
      i,
      rest: new Dec(a)
        .times(100)
        .minus(floors[i] as Dec)
        .toNumber(),
    }))
    .sort((x, y) => (left >= 0 ? y.rest - x.rest : x.rest - y.rest));
  const units = floors.slice();
  for (let j = 0; left !== 0 && order.length > 0; j = (j + 1) % order.length) {
    const at = (order[j] as { i: number }).i;
    units[at] = (units[at] as Dec).plus(left > 0 ? 1 : -1);
    left += left > 0 ? -1 : 1;
  }
  return units.map((u) => fmt(u.div(100)));
}

/** A float amount as a decimal string rounded half-even to cents (`"-0"` printed as `"0"`). */
function cents(amount: number): string {
  return fmt(new Dec(amount).toDecimalPlaces(2, Dec.ROUND_HALF_EVEN));
}

/** The standard normal density φ(x). */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

// Rational approximation of the normal quantile (P. J. Acklam), relative error below 1.2e-9.
const QA = [
  -39.69683028665376, 220.9460984245205, -275.928510446969, 138.357751867269, -30.66479806614716, 2.506628277459239,
];
const QB = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
const QC = [
  -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const QD = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
const Q_LOW = 0.02425;

/**
 * The standard normal quantile Φ⁻¹(p) for p in (0, 1), by Acklam's rational approximation
 * (relative error below 1.2e-9: ample for a VaR).
 * @throws RangeError outside (0, 1)
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError('normalQuantile needs 0 < p < 1');
  const poly = (c: readonly number[], x: number): number => c.reduce((acc, k) => acc * x + k, 0);
  if (p < Q_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(QC, q) / (poly(QD, q) * q + 1);
  }
  if (p > 1 - Q_LOW) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -poly(QC, q) / (poly(QD, q) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return (poly(QA, r) * q) / (poly(QB, r) * r + 1);
}

/** A cache key: the portfolio, the completed input and the UTC day (a new day never hits). */
export interface RiskCacheKey {
  portfolioId: string;
  input: RiskInput;
  day: string;
}

/** Risk reports kept per portfolio and inputs. Cached reports are shared: treat them as read-only. */
export interface RiskCache {
  get(key: RiskCacheKey): RiskReport | undefined;
  set(key: RiskCacheKey, report: RiskReport): void;
  /** Drops one portfolio's reports (after its trades), or every report (after new prices). */
  invalidate(portfolioId?: string): void;
  /** Reports held. */
  readonly size: number;
}

/**
 * Creates a {@link RiskCache}. Keys are normalised (defaults applied), so `{}` and
 * `{ confidence: 0.95 }` share an entry. The oldest entry is dropped beyond `maxEntries`.
 */
export function createRiskCache(options: { maxEntries?: number } = {}): RiskCache {
  const maxEntries = options.maxEntries ?? 256;
  const byPortfolio = new Map<string, Map<string, RiskReport>>();
  const order = new Map<string, string>(); // full key → portfolio id, in insertion order
  const keyOf = (key: RiskCacheKey): string => {
    const p = parseRiskInput(key.input);
    return JSON.stringify([
      key.portfolioId,
      key.day,
      p.confidence,
      p.horizonDays,
      p.lookbackDays,
      p.method,
      p.paths,
      p.seed,
    ]);
  };
  const drop = (full: string, portfolioId: string): void => {
    order.delete(full);
    byPortfolio.get(portfolioId)?.delete(full);
    if (byPortfolio.get(portfolioId)?.size === 0) byPortfolio.delete(portfolioId);
  };
  return {
    get: (key) => byPortfolio.get(key.portfolioId)?.get(keyOf(key)),
    set(key, report) {
      const full = keyOf(key);
      drop(full, key.portfolioId);
      let entries = byPortfolio.get(key.portfolioId);
      if (!entries) byPortfolio.set(key.portfolioId, (entries = new Map()));
      entries.set(full, report);
      order.set(full, key.portfolioId);
      while (order.size > maxEntries) {
        const [oldest, owner] = order.entries().next().value as [string, string];
        drop(oldest, owner);
      }
    },
    invalidate(portfolioId) {
      if (portfolioId === undefined) {
        byPortfolio.clear();
        order.clear();
        return;
      }
      for (const full of byPortfolio.get(portfolioId)?.keys() ?? []) order.delete(full);
      byPortfolio.delete(portfolioId);
    },
    get size() {
      return order.size;
    },
  };
}
