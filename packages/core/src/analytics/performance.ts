/**
 * `getPerformance`: how a portfolio did over a period, every figure with its method.
 *
 * The daily series and flows come from `performance-data.ts`; the formulas from `returns.ts`
 * (TTWROR, Modified Dietz, simple return, annualization), `xirr.ts` and `stats.ts`. Statistics are
 * JS numbers (IEEE doubles, about 15 significant digits); amounts (gains, P&L) are exact decimal
 * strings. A figure that cannot be computed is `null` with a `reason` beside it.
 */
import { z } from 'zod';
import { FoliokitError, portfolioNotFound } from '../errors.js';
import { minusDays } from '../jobs/backfill.js';
import { type Dec, dec, divideToString, fmt, ZERO } from '../money/decimal.js';
import type { DailyBar } from '../ports/index.js';
import { normalizeSymbol } from '../prices/symbols.js';
import type { SnapshotHost } from '../snapshots/host.js';
import { dayOf, nextDay, parseDay } from '../time.js';
import { checkId, validate } from '../validation.js';
import { valueHoldings } from '../valuation/kernel.js';
import {
  type DayPoint,
  externalFlow,
  loadPerformanceData,
  type PerformanceData,
  type PerformanceGap,
} from './performance-data.js';
import { annualize, chainedReturns, modifiedDietz, simpleReturn, type TwrResult, ttwror } from './returns.js';
import {
  benchmarkStats,
  bestWorstDay,
  calmar,
  maxDrawdown,
  periodRate,
  type Stat,
  sharpe,
  sortino,
  volatility,
} from './stats.js';
import { xirr } from './xirr.js';

/** Named periods of `getPerformance`, each ending at `to` (default today, UTC). */
export const PERFORMANCE_PERIODS = ['1d', 'wtd', 'mtd', 'ytd', '1y', '3y', '5y', 'max'] as const;
export type PerformancePeriod = (typeof PERFORMANCE_PERIODS)[number];

/** Intervals of the chart series. */
export const PERFORMANCE_INTERVALS = ['1d', '1w', '1m'] as const;
export type PerformanceInterval = (typeof PERFORMANCE_INTERVALS)[number];

/** Input of `getPerformance` (`engine.getPerformance`). */
export interface PerformanceInput {
  /**
   * A named period ending at `to`: `1d` (that day), `wtd` (from Monday), `mtd` (from the 1st),
   * `ytd` (from January 1st), `1y`/`3y`/`5y` (from the day after the same date N years earlier,
   * so the base is that date), `max` (from the first ledger entry). Not with `from`.
   * @default 'max' (when `from` is not given)
   */
  period?: PerformancePeriod;
  /** First day measured, `YYYY-MM-DD` (a custom range; not with `period`). */
  from?: string;
  /** Last day measured, `YYYY-MM-DD`, not after today (UTC). @default today */
  to?: string;
  /** A symbol to compare with (its daily closes). */
  benchmark?: string;
  /** Annual risk-free rate as a fraction (0.03 = 3 %), for Sharpe, Sortino and alpha. @default 0 */
  riskFreeRate?: number;
  /** Spacing of `series`: every day, the last day of each week (Mon–Sun) or month. @default '1d' */
  interval?: PerformanceInterval;
}

/** A number that may be unavailable, with why. */
export interface Figure {
  value: number | null;
  reason?: string;
}

/** One point of the chart series. */
export interface PerformancePoint {
  day: string;
  /** End-of-day total value. */
  value: number;
  /** Cumulative time-weighted return from the start of the period to this day. */
  twr: number | null;
  /** Drawdown of the time-weighted index from its running peak (≤ 0). */
  drawdown: number | null;
}

/** Per position: P&L over the period and its share of the portfolio's return. */
export interface PositionPerformance {
  symbol: string;
  /** Realized P&L of the period's sells (exact decimal). */
  realizedPnl: string;
  /** Unrealized P&L of the shares held now, at the latest prices (exact decimal); null with a reason. */
  unrealizedPnl: string | null;
  unrealizedReason?: string;
  /** (realized + unrealized) ÷ the cost of the period's buys plus the cost basis held at the start. */
  holdingPeriodReturn: Figure;
  /** (realized + unrealized) ÷ the portfolio's Modified Dietz average capital. */
  contribution: Figure;
}

/** The answer of `getPerformance`. */
export interface Performance {
  portfolioId: string;
  period: PerformancePeriod | 'custom';
  /** First day measured (its return is against the end of the day before); null when nothing is measured. */
  from: string | null;
  to: string;
  /** Days measured. */
  days: number;
  /** How each figure is computed, and what was excluded. */
  notes: string[];
  twr: { cumulative: number | null; annualized: number | null; method: 'ttwror'; reason?: string };
  mwr: {
    xirr: number | null;
    method: 'xirr';
    reason?: string;
    modifiedDietz: { cumulative: number | null; method: 'modified-dietz'; reason?: string };
  };
  /** End value ÷ (start value + inflows − outflows) − 1. */
  simpleReturn: Figure & { method: 'simple' };
  /** Exact decimals. `total` = end value − start value − net external flows. */
  gain: { realized: string; unrealized: string; fees: string; total: string };
  drawdown: {
    max: number | null;
    peak: string | null;
    trough: string | null;
    recovery: string | null;
    method: 'twr-index';
    reason?: string;
  };
  volatility: { daily: number | null; annualized: number | null; reason?: string };
  sharpe: Figure;
  sortino: Figure;
  calmar: Figure;
  bestDay: { day: string; return: number } | null;
  worstDay: { day: string; return: number } | null;
  benchmark?: {
    symbol: string;
    return: number | null;
    beta: number | null;
    alpha: number | null;
    trackingError: number | null;
    correlation: number | null;
    reason?: string;
    gaps: PerformanceGap[];
  };
  series: PerformancePoint[];
  positions: PositionPerformance[];
  gaps: PerformanceGap[];
}

const performanceSchema = z.strictObject({
  period: z.enum(PERFORMANCE_PERIODS).optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  benchmark: z.string().optional(),
  riskFreeRate: z.number().finite().min(-1).max(10).default(0),
  interval: z.enum(PERFORMANCE_INTERVALS).default('1d'),
});

/** A resolved range of days. */
export interface ResolvedRange {
  period: PerformancePeriod | 'custom';
  /** First day measured, or null for `max` (from the first ledger entry). */
  from: string | null;
  to: string;
}

/**
 * Resolves a period (or custom `from`/`to`) against today (UTC of `nowMs`).
 * @throws `VALIDATION_FAILED` naming `from`, `to` or `period`
 */
export function resolvePeriod(
  input: { period?: PerformancePeriod; from?: string; to?: string },
  nowMs: number,
): ResolvedRange {
  const today = dayOf(nowMs);
  const to = input.to === undefined ? today : parseDay(input.to, 'to');
  if (to > today) throw new FoliokitError('VALIDATION_FAILED', 'to must not be after today (UTC)', { field: 'to' });
  if (input.from !== undefined) {
    if (input.period !== undefined) {
      throw new FoliokitError('VALIDATION_FAILED', 'give either period or from, not both', { field: 'period' });
    }
    const from = parseDay(input.from, 'from');
    if (from > to) throw new FoliokitError('VALIDATION_FAILED', 'from must not be after to', { field: 'from' });
    return { period: 'custom', from, to };
  }
  const period = input.period ?? 'max';
  return { period, from: periodStart(period, to), to };
}

/** The first day of a named period ending at `to` (null for `max`). */
function periodStart(period: PerformancePeriod, to: string): string | null {
  const [y, m] = [Number(to.slice(0, 4)), to.slice(5, 7)];
  switch (period) {
    case '1d':
      return to;
    case 'wtd': {
      const weekday = (new Date(`${to}T00:00:00Z`).getUTCDay() + 6) % 7; // Monday = 0
      return minusDays(to, weekday);
    }
    case 'mtd':
      return `${to.slice(0, 7)}-01`;
    case 'ytd':
      return `${y}-01-01`;
    case '1y':
    case '3y':
    case '5y': {
      const years = Number(period[0]);
      const year = String(y - years).padStart(4, '0');
      const day = Math.min(Number(to.slice(8, 10)), daysInMonth(y - years, Number(m)));
      return nextDay(`${year}-${m}-${String(day).padStart(2, '0')}`);
    }
    case 'max':
      return null;
  }
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * How a portfolio did over a period: TWR (TTWROR), MWR (XIRR, Modified Dietz), simple return,
 * exact gains, drawdown, volatility, Sharpe/Sortino/Calmar, best and worst day, an optional
 * benchmark comparison, a chart series and per-position figures. See {@link Performance}.
 *
 * @throws `VALIDATION_FAILED` (naming the field), `PORTFOLIO_NOT_FOUND`
 */
export async function getPerformance(
  host: SnapshotHost,
  portfolioId: string,
  input: PerformanceInput = {},
): Promise<Performance> {
  checkId(portfolioId);
  const v = validate(performanceSchema, input, 'input');
  const range = resolvePeriod(v, host.clock.now());
  const benchmark = v.benchmark === undefined ? undefined : normalizeSymbol(v.benchmark, 'benchmark');
  const portfolio = await host.store.getPortfolio(portfolioId);
  if (!portfolio) throw portfolioNotFound(portfolioId);
  const data = await loadPerformanceData(host, portfolioId, { from: range.from ?? '0001-01-01', to: range.to });
  const measured = data.days.slice(1);
  const startValue = data.days[0]?.value ?? 0;
  const twr = ttwror(measured, { startValue });
  const dietz = modifiedDietz(measured, { startValue });
  const index = twrIndex(data.days, twr);
  const cumulative = twr.cumulative;
  const annualized = cumulative === null ? null : annualize(cumulative, measured.length);
  const drawdown = drawdownFigures(index);
  const dietzLast = dietz.at(-1);
  const out: Performance = {
    portfolioId,
    period: range.period,
    from: data.from,
    to: data.to,
    days: measured.length,
    notes: [...METHOD_NOTES, ...data.notes],
    twr: {
      cumulative,
      annualized,
      method: 'ttwror',
      ...reasonOf(
        twr.reason ?? (cumulative !== null && annualized === null ? 'annualized: 1 + cumulative ≤ 0' : undefined),
      ),
    },
    mwr: {
      ...xirrFigure(data),
      modifiedDietz: {
        cumulative: dietzLast?.cumulative ?? null,
        method: 'modified-dietz',
        ...reasonOf(dietzLast ? dietzLast.reason : 'no days measured'),
      },
    },
    simpleReturn: simpleFigure(data),
    gain: gainFigures(data),
    drawdown,
    ...riskFigures(twr, annualized, drawdown.max, v.riskFreeRate),
    series: downsampleSeries(data.days, index, v.interval),
    positions: await positionFigures(host, portfolioId, data, dietzLast?.cumulative ?? null),
    gaps: [...data.gaps, ...twr.gaps.map((g) => ({ day: g.day, reason: `twr: ${g.reason}` }))],
  };
  if (benchmark !== undefined) out.benchmark = await benchmarkFigures(host, benchmark, data, twr, v.riskFreeRate);
  return out;
}

const METHOD_NOTES = [
  'TWR: TTWROR, daily chain r = (V_t + Out_t) / (V_{t-1} + In_t) − 1 (inflows at the start of the day, outflows at the end); annualized as (1 + c)^(365 / days) − 1.',
  'MWR: XIRR over the start value (as a deposit), the external flows and the end value (actual/365); Modified Dietz weights each flow by the share of the period it was invested.',
  'Simple return: end value ÷ (start value + inflows − outflows) − 1.',
  'Gain (exact): realized = Σ P&L of the period’s sells; unrealized = change in the snapshots’ unrealized P&L; fees = Σ fees paid (already inside realized and unrealized); total = end value − start value − net external flows.',
  'Drawdown, volatility, Sharpe, Sortino, Calmar, best/worst day: on the daily TWR returns over calendar days (365 a year), so flows are never gains or losses.',
  'Per position: inception-to-date P&L (realized from the ledger, unrealized at the latest prices); contribution = that P&L ÷ the period’s Modified Dietz average capital (only when the period starts at the first entry).',
];

function reasonOf(reason: string | undefined): { reason?: string } {
  return reason === undefined ? {} : { reason };
}

/** The TWR index (1 at the base day); a day left out of the chain keeps the index flat. */
function twrIndex(days: readonly DayPoint[], twr: TwrResult): Array<{ day: string; value: number }> {
  const base = days[0];
  if (!base) return [];
  const out = [{ day: base.day, value: 1 }];
  let level = 1;
  for (const d of twr.daily) {
    if (d.r !== null) level *= 1 + d.r;
    out.push({ day: d.day, value: level });
  }
  return out;
}

/** XIRR over the flows: the start value and deposits paid in (−), withdrawals and the end value received (+). */
function xirrFigure(data: PerformanceData): { xirr: number | null; method: 'xirr'; reason?: string } {
  const base = data.days[0];
  const last = data.days.at(-1);
  if (!base || !last || data.days.length < 2) return { xirr: null, method: 'xirr', reason: 'no days measured' };
  const flows: Array<{ day: string; amount: number }> = [];
  if (base.value !== 0) flows.push({ day: base.day, amount: -base.value });
  for (const d of data.days.slice(1)) {
    if (d.inflow !== 0) flows.push({ day: d.day, amount: -d.inflow });
    if (d.outflow !== 0) flows.push({ day: d.day, amount: d.outflow });
  }
  flows.push({ day: last.day, amount: last.value });
  const r = xirr(flows);
  return { xirr: r.rate, method: 'xirr', ...reasonOf(r.reason) };
}

/** Simple return on the capital put in over the period (start value + inflows − outflows). */
function simpleFigure(data: PerformanceData): Performance['simpleReturn'] {
  if (data.days.length < 2) return { value: null, reason: 'no days measured', method: 'simple' };
  let net = data.days[0]?.value ?? 0;
  for (const d of data.days.slice(1)) net += d.inflow - d.outflow;
  return simpleReturn(data.days.at(-1)?.value ?? 0, net);
}

/** Exact gains of the period, from the ledger and the snapshots. */
function gainFigures(data: PerformanceData): Performance['gain'] {
  let realized: Dec = ZERO;
  let fees: Dec = ZERO;
  let flows: Dec = ZERO;
  for (const t of data.entries) {
    if (t.realizedPnl !== null) realized = realized.plus(t.realizedPnl);
    fees = fees.plus(t.fee);
    flows = flows.plus(externalFlow(t));
  }
  const endUnrealized = data.endSnapshot ? dec(data.endSnapshot.unrealizedPnl) : ZERO;
  const startUnrealized = data.baseSnapshot ? dec(data.baseSnapshot.unrealizedPnl) : ZERO;
  const total = dec(data.endValue).minus(data.baseValue).minus(flows);
  return {
    realized: fmt(realized),
    unrealized: fmt(endUnrealized.minus(startUnrealized)),
    fees: fmt(fees),
    total: fmt(total),
  };
}

/** The chart series: every day, or the last day of each week (Monday to Sunday) or month, and always the last day. */
function downsampleSeries(
  days: readonly DayPoint[],
  index: ReadonlyArray<{ day: string; value: number }>,
  interval: PerformanceInterval,
): PerformancePoint[] {
  const points: PerformancePoint[] = [];
  let peak = 0;
  for (let i = 0; i < days.length; i++) {
    const d = days[i] as DayPoint;
    const level = index[i]?.value ?? 1;
    peak = Math.max(peak, level);
    points.push({ day: d.day, value: d.value, twr: level - 1, drawdown: peak > 0 ? level / peak - 1 : null });
  }
  if (interval === '1d') return points;
  // The days are contiguous: day i is `first + i` days after 1970-01-01 (a Thursday, hence + 3 for Monday weeks).
  const first = points[0] ? Date.parse(`${points[0].day}T00:00:00Z`) / 86_400_000 : 0;
  const key = (p: PerformancePoint, i: number): string | number =>
    interval === '1m' ? p.day.slice(0, 7) : Math.floor((first + i + 3) / 7);
  return points.filter((p, i) => {
    const next = points[i + 1];
    return next === undefined || key(next, i + 1) !== key(p, i);
  });
}

/** Per position, inception to `to`: realized from the ledger, unrealized from the positions held now. */
async function positionFigures(
  host: SnapshotHost,
  portfolioId: string,
  data: PerformanceData,
  dietzReturn: number | null,
): Promise<PositionPerformance[]> {
  if (data.days.length < 2) return [];
  const today = dayOf(host.clock.now());
  const ledger = data.allEntries;
  const bySymbol = new Map<string, { realized: Dec; bought: Dec }>();
  for (const t of ledger) {
    if (t.symbol === null) continue;
    const p = bySymbol.get(t.symbol) ?? { realized: ZERO, bought: ZERO };
    if (t.realizedPnl !== null) p.realized = p.realized.plus(t.realizedPnl);
    if (t.kind === 'buy') p.bought = p.bought.minus(t.amount);
    bySymbol.set(t.symbol, p);
  }
  const unrealized = data.to === today ? await unrealizedNow(host, portfolioId) : null;
  const capital = averageCapital(data, dietzReturn);
  const out: PositionPerformance[] = [];
  for (const [symbol, p] of [...bySymbol].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const u = unrealized === null ? null : (unrealized.get(symbol) ?? ZERO);
    const pnl = u === null ? null : p.realized.plus(u);
    const row: PositionPerformance = {
      symbol,
      realizedPnl: fmt(p.realized),
      unrealizedPnl: u === null ? null : fmt(u),
      holdingPeriodReturn: ratio(pnl, p.bought, 'nothing bought'),
      contribution:
        capital.value === null ? { value: null, reason: capital.reason } : ratio(pnl, capital.value, 'no capital'),
    };
    if (unrealized === null) {
      row.unrealizedReason = 'unrealized P&L is valued at the latest prices: only for a period ending today';
    } else if (unrealized.unpriced.has(symbol)) {
      row.unrealizedPnl = null;
      row.unrealizedReason = 'no price for this symbol';
      row.holdingPeriodReturn = { value: null, reason: 'no price for this symbol' };
      row.contribution = { value: null, reason: 'no price for this symbol' };
    }
    out.push(row);
  }
  return out;
}

/** `a ÷ b` as a float figure; null when `a` is unknown or `b` ≤ 0. */
function ratio(a: Dec | null, b: Dec, zeroReason: string): Figure {
  if (a === null) return { value: null, reason: 'P&L unknown' };
  if (!b.isPositive() || b.isZero()) return { value: null, reason: `${zeroReason}: denominator ≤ 0` };
  return { value: Number(divideToString(fmt(a), fmt(b), 15)) };
}

/**
 * The Modified Dietz average capital of the period, recovered as gain ÷ return (both exact from the
 * same inputs); only when the period starts at the first ledger entry, so inception-to-date P&L and
 * the period's capital describe the same span.
 */
function averageCapital(data: PerformanceData, dietzReturn: number | null): { value: Dec | null; reason?: string } {
  if (data.from !== data.firstEntryDay) {
    return { value: null, reason: 'contribution needs a period starting at the first entry (period max)' };
  }
  if (dietzReturn === null || dietzReturn === 0) {
    return { value: null, reason: 'the portfolio return is zero or unavailable: no average capital to divide by' };
  }
  const gain = dec(gainFigures(data).total);
  return { value: gain.dividedBy(dietzReturn) };
}

/** Unrealized P&L of each open position at the latest prices (exact), and the symbols without a price. */
async function unrealizedNow(
  host: SnapshotHost,
  portfolioId: string,
): Promise<Map<string, Dec> & { unpriced: Set<string> }> {
  const positions = (await host.store.listPositions(portfolioId)).filter((p) => !dec(p.quantity).isZero());
  const prices = await host.latestPrices(positions.map((p) => p.symbol));
  const out = new Map<string, Dec>() as Map<string, Dec> & { unpriced: Set<string> };
  out.unpriced = new Set();
  valueHoldings('0', positions, prices, (h, _price, amounts) => {
    if (amounts === null) out.unpriced.add(h.symbol);
    else out.set(h.symbol, dec(amounts.unrealizedPnl));
  });
  return out;
}

/** Daily closes of the benchmark from the provider, else the store's bars. */
async function benchmarkCloses(
  host: SnapshotHost,
  symbol: string,
  range: { from: string; to: string },
): Promise<DailyBar[]> {
  try {
    return await host.marketData.getDailyHistory(symbol, range);
  } catch (error) {
    const stored = await host.store.listDailyBars(symbol, range);
    if (stored.length === 0) throw error;
    return stored.map((b) => ({
      day: b.day,
      close: b.close,
      ...(b.adjClose !== null ? { adjClose: b.adjClose } : {}),
    }));
  }
}

/** How far before the base day a benchmark close is looked for (weekends, holidays). */
const BENCHMARK_LOOKBACK_DAYS = 10;

/**
 * The benchmark's closes (adjusted when given) on each day of the series, the last earlier close carried
 * over days without one; null on days before its first close.
 */
function alignCloses(days: readonly DayPoint[], bars: readonly DailyBar[]): Array<number | null> {
  const out: Array<number | null> = [];
  let j = 0;
  let last: number | null = null;
  for (const d of days) {
    while (j < bars.length && (bars[j] as DailyBar).day <= d.day) {
      const b = bars[j] as DailyBar;
      last = Number(b.adjClose ?? b.close);
      j++;
    }
    out.push(last);
  }
  return out;
}

/** Max drawdown of the TWR index, with its peak, trough and recovery days. */
function drawdownFigures(index: Array<{ day: string; value: number }>): Performance['drawdown'] {
  const r = maxDrawdown(index);
  return {
    max: r.maxDrawdown,
    peak: r.peak?.day ?? null,
    trough: r.trough?.day ?? null,
    recovery: r.recovery,
    method: 'twr-index',
    ...reasonOf(r.reason),
  };
}

/** Volatility, Sharpe, Sortino, Calmar, best and worst day, on the chained daily TWR returns. */
function riskFigures(
  twr: TwrResult,
  annualized: number | null,
  maxDd: number | null,
  riskFreeRate: number,
): Pick<Performance, 'volatility' | 'sharpe' | 'sortino' | 'calmar' | 'bestDay' | 'worstDay'> {
  const returns = chainedReturns(twr.daily);
  const vol = volatility(returns);
  const best = bestWorstDay(twr.daily);
  return {
    volatility: { daily: vol.daily, annualized: vol.annualized, ...reasonOf(vol.reason) },
    sharpe: figure(sharpe(returns, riskFreeRate)),
    sortino: figure(sortino(returns, riskFreeRate)),
    calmar: figure(calmar(annualized, maxDd)),
    bestDay: best.best ? { day: best.best.day, return: best.best.r } : null,
    worstDay: best.worst ? { day: best.worst.day, return: best.worst.r } : null,
  };
}

function figure(s: Stat): Figure {
  return { value: s.value, ...reasonOf(s.reason) };
}

/**
 * The benchmark over the same days: its return from the base day's close to the last day's (closes
 * carried over days without one), and beta, alpha, tracking error and correlation on the days where both
 * the portfolio's and the benchmark's daily return exist.
 */
async function benchmarkFigures(
  host: SnapshotHost,
  symbol: string,
  data: PerformanceData,
  twr: TwrResult,
  riskFreeRate: number,
): Promise<NonNullable<Performance['benchmark']>> {
  const none = { return: null, beta: null, alpha: null, trackingError: null, correlation: null };
  const base = data.days[0];
  if (!base || data.days.length < 2) return { symbol, ...none, reason: 'no days measured', gaps: [] };
  const bars = await benchmarkCloses(host, symbol, { from: minusDays(base.day, BENCHMARK_LOOKBACK_DAYS), to: data.to });
  const closes = alignCloses(data.days, bars);
  const gaps: PerformanceGap[] = [];
  const p: number[] = [];
  const b: number[] = [];
  const have = new Set(bars.map((x) => x.day));
  for (let i = 1; i < data.days.length; i++) {
    const day = (data.days[i] as DayPoint).day;
    const prev = closes[i - 1];
    const cur = closes[i];
    if (!have.has(day))
      gaps.push({ day, reason: cur == null ? 'no benchmark close yet' : 'no benchmark close: carried forward' });
    const r = twr.daily[i - 1]?.r ?? null;
    if (prev == null || cur == null || prev <= 0 || r === null) continue;
    p.push(r);
    b.push(cur / prev - 1);
  }
  const first = closes[0];
  const last = closes.at(-1);
  const stats = benchmarkStats(p, b, periodRate(riskFreeRate));
  const out: NonNullable<Performance['benchmark']> = {
    symbol,
    return: first != null && last != null && first > 0 ? last / first - 1 : null,
    beta: stats.beta.value,
    alpha: stats.alpha.value,
    trackingError: stats.trackingError.value,
    correlation: stats.correlation.value,
    gaps,
  };
  const reasons = [
    out.return === null ? 'return: no benchmark close on or before the base day' : null,
    stats.beta.reason ? `beta: ${stats.beta.reason}` : null,
    stats.correlation.reason ? `correlation: ${stats.correlation.reason}` : null,
    stats.trackingError.reason ? `tracking error: ${stats.trackingError.reason}` : null,
  ].filter((x): x is string => x !== null);
  if (reasons.length > 0) out.reason = reasons.join('; ');
  return out;
}
