/**
 * `runBacktest`: replays daily bars of several symbols in date order through a strategy, fills its
 * orders with the ledger's own planning rules (`planTrade` on an in-memory ledger state: exact
 * decimals, fees in cost basis, average cost or FIFO), values the portfolio after every day with
 * the valuation kernel's primitives, and measures the equity curve with the analytics' statistics.
 * A backtest and a paper portfolio fed the same fills never disagree about money.
 */
import { z } from 'zod';
import { planOrders } from '../analytics/rebalance.js';
import { annualize as annualizeReturn, chainedReturns, type TwrResult, ttwror } from '../analytics/returns.js';
import { benchmarkStats, maxDrawdown, periodRate, sharpe, volatility } from '../analytics/stats.js';
import type { ResolvedTarget } from '../analytics/targets.js';
import { xirr } from '../analytics/xirr.js';
import { FoliokitError, isFoliokitError, wrapError } from '../errors.js';
import { planCash, planTrade } from '../ledger/plan.js';
import { DERIVED_SCALE, Dec, dec, divideToString, fmt, parseDecimal, ZERO } from '../money/decimal.js';
import { formatScaled, parseScaled, parseScaledNumber, pow10 } from '../money/fixed.js';
import {
  COST_BASIS_METHODS,
  type CostBasisMethod,
  type DailyBar,
  type LedgerState,
  type LedgerWrite,
  type LotRow,
  type MarketDataProvider,
  type PositionRow,
} from '../ports/index.js';
import { normalizeSymbol } from '../prices/symbols.js';
import { validateBars } from '../prices/validate.js';
import { daysInclusive, parseDay } from '../time.js';
import { decimalInput, validate } from '../validation.js';
import { AMOUNT_SCALE, type HoldingPrice, QUANTITY_SCALE, valueHoldings } from '../valuation/kernel.js';
import { getStrategy } from './registry.js';
import { rebalanceStrategy } from './strategies/rebalance.js';
import { type AnyStrategy, isStrategy, type StrategyContext, type TargetWeightsOptions } from './strategy.js';

/** When an order placed at a bar's close fills. */
export const FILL_MODES = ['next-open', 'close'] as const;
export type FillMode = (typeof FILL_MODES)[number];

/**
 * How the cash is shared between symbols. Target weights (a model portfolio) run on `'shared'`:
 * see the `rebalance` strategy and `ctx.targetWeights`.
 */
export const ALLOCATIONS = ['equal-sleeves', 'shared'] as const;
export type Allocation = (typeof ALLOCATIONS)[number];

/** Trading days a year: the equity curve has one point per trading day, so statistics annualise with 252. */
export const BACKTEST_PERIODS_PER_YEAR = 252;

/** Progress of a run: bars replayed so far, of all bars. */
export interface BacktestProgress {
  done: number;
  total: number;
}

/** Input of {@link runBacktest}. */
export interface BacktestOptions {
  /** A registered strategy's name (`'sma-cross'`) or a strategy object. */
  strategy: string | AnyStrategy;
  /** The strategy's parameters, validated (and defaulted) by its schema. @default {} */
  params?: Record<string, unknown>;
  /** The symbols to trade (1 to 1,000, no duplicates). */
  symbols: string[];
  /** First day, `YYYY-MM-DD`. */
  from: string;
  /** Last day, `YYYY-MM-DD` (at least `from`). */
  to: string;
  /** Where the daily bars come from (`getDailyHistory`): any provider, CSV files included. */
  marketData: MarketDataProvider;
  /** Starting cash (a decimal string or number, > 0). */
  initialCash: string | number;
  /**
   * When an order placed at a bar's close fills: the symbol's next bar's open (`'next-open'`; a bar
   * without an open fills at its close) or the same close (`'close'`). @default 'next-open'
   */
  fill?: FillMode;
  /** Commission per fill: `fixed` plus `rate` × gross (exact; both ≥ 0). @default none */
  commission?: { fixed?: string | number; rate?: string | number };
  /**
   * `'equal-sleeves'`: the starting cash split equally into one sleeve per symbol, sleeves never
   * borrow from each other; `'shared'`: one pool (what target weights need).
   * @default the strategy's own `allocation` (`'shared'` for `rebalance`), else 'equal-sleeves'
   */
  allocation?: Allocation;
  /**
   * A symbol to measure the run against (an index fund, `'SPY'`): its daily bars are loaded from
   * `marketData` over the same range and never traded. Adds `metrics.benchmark` and
   * `benchmarkEquity`. @default none
   */
  benchmark?: string;
  /** The ledger's cost basis method. @default 'average' */
  costBasisMethod?: CostBasisMethod;
  /** Annual risk-free rate for the Sharpe ratio (0.02 = 2 %). @default 0 */
  riskFreeRate?: number;
  /** Called as the replay advances (about every 1 % of the bars, and at the end). */
  onProgress?: (progress: BacktestProgress) => void;
  /** Cancels the run: it then rejects with the signal's reason when that is a FoliokitError, else `CONFLICT` with `details.aborted`. */
  signal?: AbortSignal;
}

/** One fill. Decimal strings; `at` is the ledger instant it was recorded at. */
export interface BacktestFill {
  day: string;
  /** `${day}T00:00:00.000Z` for an open fill, `${day}T23:59:59.999Z` for a close fill. */
  at: string;
  symbol: string;
  side: 'buy' | 'sell';
  quantity: string;
  price: string;
  fee: string;
}

/**
 * Why an order did not fill. `NO_BAR`: a target-weight order for a symbol without a bar on the fill
 * day (planned at its last close, not traded).
 */
export type UnfilledReason = 'LAST_BAR' | 'INSUFFICIENT_CASH' | 'INSUFFICIENT_QUANTITY' | 'NO_BAR';

/** An order that did not fill: placed on the symbol's last bar, or not affordable (or nothing to sell). */
export interface UnfilledOrder {
  /** The day the order was placed. */
  day: string;
  symbol: string;
  side: 'buy' | 'sell';
  /** The quantity asked, or null for "as much as possible" / "the whole position". */
  quantity: string | null;
  reason: UnfilledReason;
}

/** A statistic, or null with the reason it is not defined. */
export interface BacktestStat {
  value: number | null;
  reason?: string;
}

/** Statistics of the equity curve (floats), computed by core's analytics. */
export interface BacktestMetrics {
  /** Time-weighted return (TTWROR, no external flows: final value / initial cash − 1). */
  twr: BacktestStat;
  /** TWR annualised over the calendar days from the first to the last bar. */
  annualizedReturn: BacktestStat;
  /** Money-weighted return (XIRR of the initial cash and the final value), annual. */
  mwr: BacktestStat;
  /** Deepest fall of the equity curve from a running peak (≤ 0). */
  maxDrawdown: BacktestStat;
  /** Annualised volatility of the daily returns (× √252). */
  volatility: BacktestStat;
  /** Annualised Sharpe ratio of the daily returns (252 periods a year). */
  sharpe: BacktestStat;
  /** The run against `options.benchmark`; null (or absent) without one. */
  benchmark?: BacktestBenchmarkMetrics | null;
}

/**
 * The run against its benchmark. Daily returns are compared on the days of the equity curve after
 * the first one where the benchmark has a close (carried forward over days without a bar) on that
 * day and the day before; statistics by core's analytics (`benchmarkStats`), 252 periods a year.
 */
export interface BacktestBenchmarkMetrics {
  /** The benchmark symbol. */
  symbol: string;
  /** The benchmark's return over the run: its last close / its first close (on or before the first day) − 1. */
  twr: BacktestStat;
  /** The run's `twr` − the benchmark's. */
  excessReturn: BacktestStat;
  /** `cov(p, b) / var(b)` of the daily returns. */
  beta: BacktestStat;
  /** Jensen's alpha, annualised: `(mean(p − rf) − β · mean(b − rf)) × 252`. */
  alpha: BacktestStat;
  /** `stdev(p − b) × √252`. */
  trackingError: BacktestStat;
  /** `mean(p − b) × 252 / trackingError`. */
  informationRatio: BacktestStat;
  /** Pearson correlation of the daily returns. */
  correlation: BacktestStat;
  /** Days whose returns were compared. */
  days: number;
}

/** An open position at the end. */
export interface BacktestPosition {
  symbol: string;
  quantity: string;
  /** Cost of the shares held, buy fees included. */
  costBasis: string;
  /** Realized P&L of this symbol's sells. */
  realizedPnl: string;
}

/** What {@link runBacktest} returns. */
export interface BacktestResult {
  strategy: string;
  /** The parameters as the strategy's schema validated them (defaults filled in). */
  params: unknown;
  symbols: string[];
  from: string;
  to: string;
  fill: FillMode;
  allocation: Allocation;
  costBasisMethod: CostBasisMethod;
  commission: { fixed: string; rate: string };
  initialCash: string;
  /** Every fill, in the order it happened. */
  fills: BacktestFill[];
  /** Orders that did not fill, in the order they were placed or tried. */
  unfilled: UnfilledOrder[];
  /** The portfolio's value after each day with a bar (cash + positions at their last close). */
  equity: Array<{ day: string; value: string }>;
  /** Cash + open positions marked at their last close (not sold). */
  finalValue: string;
  cash: string;
  /** Each sleeve's cash at the end (`'equal-sleeves'` only), by symbol. */
  sleeves?: Record<string, string>;
  /** Open positions, by symbol. */
  positions: BacktestPosition[];
  /** Realized P&L of every sell. */
  realizedPnl: string;
  /** Bars replayed. */
  bars: number;
  metrics: BacktestMetrics;
  /**
   * With `benchmark`: the benchmark's value on each day of `equity`, as if the initial cash had been
   * in it from its first close (initial cash × close / first close, 12 decimal places; closes carried
   * forward; null before its first close). Absent without `benchmark`.
   */
  benchmarkEquity?: Array<{ day: string; value: string | null }>;
}

const optionsSchema = z.strictObject({
  strategy: z.union([z.string().min(1).max(64), z.custom<AnyStrategy>(isStrategy, 'must be a strategy object')]),
  params: z.record(z.string(), z.unknown()).optional(),
  symbols: z.array(z.string()).min(1).max(1000),
  from: z.string(),
  to: z.string(),
  marketData: z.custom<MarketDataProvider>(
    (v) => typeof (v as MarketDataProvider | null)?.getDailyHistory === 'function',
    'must be a market data provider with getDailyHistory',
  ),
  initialCash: decimalInput,
  fill: z.enum(FILL_MODES).default('next-open'),
  commission: z.strictObject({ fixed: decimalInput.optional(), rate: decimalInput.optional() }).optional(),
  allocation: z.enum(ALLOCATIONS).optional(),
  benchmark: z.string().optional(),
  costBasisMethod: z.enum(COST_BASIS_METHODS).default('average'),
  riskFreeRate: z.number().min(-1).max(1).default(0),
  onProgress: z.custom<(p: BacktestProgress) => void>((v) => typeof v === 'function', 'must be a function').optional(),
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, 'must be an AbortSignal').optional(),
});

/** The validated, parsed options. */
interface Plan {
  strategy: AnyStrategy;
  params: unknown;
  symbols: string[];
  from: string;
  to: string;
  marketData: MarketDataProvider;
  initialCash: Dec;
  fill: FillMode;
  fixedFee: Dec;
  feeRate: Dec;
  allocation: Allocation;
  benchmark: string | null;
  costBasisMethod: CostBasisMethod;
  riskFreeRate: number;
  onProgress: ((p: BacktestProgress) => void) | undefined;
  signal: AbortSignal | undefined;
}

function fail(field: string, message: string): FoliokitError {
  return new FoliokitError('VALIDATION_FAILED', `${field}: ${message}`, { field });
}

function nonNegative(input: string | number | undefined, field: string): Dec {
  if (input === undefined) return ZERO;
  const value = parseDecimal(input, field);
  if (value.isNegative()) throw fail(field, 'must not be negative');
  return value;
}

/** Validates the options once; every failure is `VALIDATION_FAILED` naming the field. */
function parseOptions(input: BacktestOptions): Plan {
  const v = validate(optionsSchema, input, 'options');
  let strategy: AnyStrategy;
  if (typeof v.strategy === 'string') {
    try {
      strategy = getStrategy(v.strategy);
    } catch {
      throw fail('strategy', `no strategy named ${JSON.stringify(v.strategy)}`);
    }
  } else {
    strategy = v.strategy;
  }
  const parsed = strategy.params.safeParse(v.params ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.map(String).join('.') ?? '';
    throw fail(path === '' ? 'params' : `params.${path}`, issue?.message ?? 'invalid parameters');
  }
  const symbols = v.symbols.map((s, i) => normalizeSymbol(s, `symbols.${i}`));
  const seen = new Set<string>();
  symbols.forEach((s, i) => {
    if (seen.has(s)) throw fail(`symbols.${i}`, `${s} is listed twice`);
    seen.add(s);
  });
  const from = parseDay(v.from, 'from');
  const to = parseDay(v.to, 'to');
  if (to < from) throw fail('to', 'must not be before from');
  const initialCash = parseDecimal(v.initialCash, 'initialCash');
  if (!initialCash.isPositive() || initialCash.isZero()) throw fail('initialCash', 'must be greater than zero');
  const needs = strategy.allocation;
  if (needs !== undefined && !(ALLOCATIONS as readonly string[]).includes(needs)) {
    throw fail('strategy.allocation', `must be one of ${ALLOCATIONS.join(', ')}`);
  }
  if (needs !== undefined && v.allocation !== undefined && v.allocation !== needs) {
    throw fail('allocation', `the strategy "${strategy.name}" needs allocation '${needs}'`);
  }
  if (strategy === rebalanceStrategy) {
    const targets = (parsed.data as { targets: Record<string, unknown> }).targets;
    const named = new Set<string>();
    for (const key of Object.keys(targets)) {
      const field = `params.targets.${key}`;
      const symbol = normalizeSymbol(key, field);
      if (!seen.has(symbol)) throw fail(field, `${symbol} is not one of the backtest's symbols`);
      if (named.has(symbol)) throw fail(field, `${symbol} is listed twice`);
      named.add(symbol);
    }
  }
  return {
    strategy,
    params: parsed.data,
    symbols,
    from,
    to,
    marketData: v.marketData,
    initialCash,
    fill: v.fill,
    fixedFee: nonNegative(v.commission?.fixed, 'commission.fixed'),
    feeRate: nonNegative(v.commission?.rate, 'commission.rate'),
    allocation: v.allocation ?? needs ?? 'equal-sleeves',
    benchmark: v.benchmark === undefined ? null : normalizeSymbol(v.benchmark, 'benchmark'),
    costBasisMethod: v.costBasisMethod,
    riskFreeRate: v.riskFreeRate,
    onProgress: v.onProgress,
    signal: v.signal,
  };
}

/** An order waiting for its fill. */
interface Order {
  day: string;
  side: 'buy' | 'sell';
  quantity: Dec | null;
  /** A target-weight buy: at most `quantity`, cut to the whole shares the cash affords with the commission. */
  upTo?: boolean;
}

/** A `ctx.targetWeights` request: the day asked, the targets resolved, the band. */
interface TargetRequest {
  day: string;
  targets: ResolvedTarget[];
  band: Dec;
}

/** One symbol's replay state. */
interface SymbolRun {
  symbol: string;
  bars: DailyBar[];
  /** Index of the current bar (−1 before the first). */
  index: number;
  pending: Order[];
  /** The sleeve's cash (`'equal-sleeves'`), else null. */
  sleeve: Dec | null;
  position: PositionRow | null;
  lots: LotRow[];
  /** Quantity held, scaled by 10^18 (null: not representable at that scale). */
  quantityScaled: bigint | null;
  /** The quantity as a whole number of shares in a double, when it is one (else NaN). */
  quantityWhole: number;
  costScaled: bigint | null;
  /** The close last valued, scaled by 10^18, and the bar index it belongs to. */
  closeScaled: bigint | null;
  closeIndex: number;
  /** The close last valued × 10^{@link SMALL_SCALE} in a double (NaN when not exact), and its bar index. */
  closeSmall: number;
  smallIndex: number;
  ctx: StrategyContext;
  state: unknown;
}

const PORTFOLIO_ID = 'backtest';

/** Fill instants: opens at the start of the day, closes at its end (the deposit precedes both). */
function openAt(day: string): string {
  return `${day}T00:00:00.000Z`;
}
function closeAt(day: string): string {
  return `${day}T23:59:59.999Z`;
}

/** 10^(precision − 1): {@link floorQuotient}'s margin against the division's rounding. */
const QUOTIENT_MARGIN = new Dec(10).pow(Dec.precision - 1);

/**
 * `a.div(b).floor()` for positive `a` and `b`, without decimal.js's division (rounded to the
 * precision's 120 digits, slow; a buy with no quantity divides once): a float estimate n, kept only when exact checks prove
 * n·b ≤ a < (n+1)·b and that a/b stays below n+1 by more than the division's rounding could
 * cover ((n+1)·b − a > (n+1)·b / 10^(precision−1), more than an ulp of a/b). Then the rounded
 * quotient is in [n, n+1) and its floor is n. Null when unproven: the caller divides.
 */
function floorQuotient(a: Dec, b: Dec): Dec | null {
  // Below 10^40 with at most 40 places, every product, sum and difference here has at most 97
  // digits: exact at the 120-digit precision.
  if (a.e >= 40 || b.e >= 40 || a.decimalPlaces() > 40 || b.decimalPlaces() > 40) return null;
  const estimate = Math.floor(a.toNumber() / b.toNumber());
  if (!(estimate >= 0 && estimate <= Number.MAX_SAFE_INTEGER)) return null;
  const n = new Dec(estimate);
  const nb = n.times(b);
  if (nb.gt(a)) return null;
  const next = nb.plus(b);
  if (!next.gt(a) || !next.minus(a).times(QUOTIENT_MARGIN).gt(next)) return null;
  return n;
}

/** Lists an order that did not fill. */
function missed(unfilled: UnfilledOrder[], run: SymbolRun, order: Order, reason: UnfilledReason): void {
  unfilled.push({
    day: order.day,
    symbol: run.symbol,
    side: order.side,
    quantity: order.quantity ? fmt(order.quantity) : null,
    reason,
  });
}

/** A bar's fill price at the open (its close when it has no open), and at the close. */
function openOrClose(bar: DailyBar): string {
  return bar.open ?? bar.close;
}
function closeOf(bar: DailyBar): string {
  return bar.close;
}

/** The cancellation error: the signal's reason when it is a FoliokitError, else `CONFLICT`. */
function abortError(signal: AbortSignal, progress: BacktestProgress): FoliokitError {
  const reason: unknown = signal.reason;
  if (isFoliokitError(reason)) return reason;
  return new FoliokitError('CONFLICT', 'The backtest was cancelled', { aborted: true, ...progress }, { cause: reason });
}

/** Lets timers and I/O run (an abort, an HTTP request) between slices of a long replay. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Loads and validates every symbol's bars, one symbol at a time, in the order given. */
async function loadBars(plan: Plan): Promise<DailyBar[][]> {
  const out: DailyBar[][] = [];
  for (const symbol of plan.symbols) {
    if (plan.signal?.aborted) throw abortError(plan.signal, { done: 0, total: 0 });
    let bars: DailyBar[];
    try {
      bars = await plan.marketData.getDailyHistory(
        symbol,
        { from: plan.from, to: plan.to },
        plan.signal ? { signal: plan.signal } : undefined,
      );
    } catch (error) {
      throw wrapError(error, 'PROVIDER_ERROR', `Could not load the history of ${symbol}`, { symbol });
    }
    out.push(validateBars(bars, symbol, plan.marketData.name ?? 'marketData', { from: plan.from, to: plan.to }));
  }
  return out;
}

/**
 * Loads the benchmark's bars (validated like every provider's).
 * @throws FoliokitError `UNKNOWN_SYMBOL` or `PRICE_UNAVAILABLE` (no bar in the range) naming `benchmark`
 */
async function loadBenchmark(plan: Plan, symbol: string): Promise<DailyBar[]> {
  if (plan.signal?.aborted) throw abortError(plan.signal, { done: 0, total: 0 });
  const range = { from: plan.from, to: plan.to };
  let bars: DailyBar[];
  try {
    bars = await plan.marketData.getDailyHistory(symbol, range, plan.signal ? { signal: plan.signal } : undefined);
  } catch (error) {
    if (isFoliokitError(error) && error.code === 'UNKNOWN_SYMBOL') {
      throw new FoliokitError(
        'UNKNOWN_SYMBOL',
        `benchmark: ${error.message}`,
        { field: 'benchmark', symbol },
        { cause: error },
      );
    }
    throw wrapError(error, 'PROVIDER_ERROR', `Could not load the history of the benchmark ${symbol}`, { symbol });
  }
  const valid = validateBars(bars, symbol, plan.marketData.name ?? 'marketData', range);
  if (valid.length === 0) {
    throw new FoliokitError(
      'PRICE_UNAVAILABLE',
      `benchmark: ${symbol} has no daily bar from ${plan.from} to ${plan.to}`,
      { field: 'benchmark', symbol, from: plan.from, to: plan.to },
    );
  }
  return valid;
}

/**
 * Checks backtest options the way {@link runBacktest} does, without loading a bar: a queue can
 * refuse a bad request at once. Returns the strategy's validated parameters (defaults filled in).
 * @throws FoliokitError `VALIDATION_FAILED` naming the field.
 */
export function checkBacktestOptions(options: BacktestOptions): { strategy: string; params: unknown } {
  const plan = parseOptions(options);
  return { strategy: plan.strategy.name, params: plan.params };
}

/**
 * Runs a backtest: see the module note and docs/backtesting.md.
 *
 * Each day (the union of the symbols' bar days, ascending): first, with `'next-open'`, the orders
 * waiting for that day's opens fill, symbol by symbol in the order of `symbols`, each symbol's in
 * the order placed; then each symbol with a bar that day, in the order of `symbols`, gets `onBar`
 * (with `'close'`, the orders it placed fill right after, at their symbol's close that day); then
 * the day's value is recorded (cash + quantities × each symbol's last close). An order placed on a symbol's last bar is dropped
 * (listed in `unfilled` with reason `LAST_BAR`), with either fill mode. Target weights asked with
 * `ctx.targetWeights` (the `rebalance` strategy) are planned by analytics' `planOrders` and filled,
 * sells first, after every `onBar` of the day at its closes (`'close'`) or after the other orders
 * at the next day's opens (`'next-open'`). With `benchmark`, `metrics.benchmark` and
 * `benchmarkEquity` measure the run against that symbol.
 *
 * @throws FoliokitError `VALIDATION_FAILED` naming the field; a provider's error for a symbol it
 *   cannot serve; `UNKNOWN_SYMBOL` / `PRICE_UNAVAILABLE` naming `benchmark` for a benchmark
 *   without bars; `CONFLICT` with `details.aborted` (or the signal's own FoliokitError reason) when
 *   cancelled.
 */
export async function runBacktest(options: BacktestOptions): Promise<BacktestResult> {
  const plan = parseOptions(options);
  const allBars = await loadBars(plan);
  const benchmarkBars = plan.benchmark === null ? null : await loadBenchmark(plan, plan.benchmark);
  const result = await replay(plan, allBars);
  if (plan.benchmark !== null && benchmarkBars !== null) {
    const measured = measureBenchmark(plan.benchmark, benchmarkBars, result, plan);
    result.metrics.benchmark = measured.metrics;
    result.benchmarkEquity = measured.equity;
  }
  return result;
}

async function replay(plan: Plan, allBars: DailyBar[][]): Promise<BacktestResult> {
  const { strategy, params, fill, allocation } = plan;
  const sleeves = allocation === 'equal-sleeves';
  // Sleeves: the cash split equally, rounded down to 12 places; the remainder stays unspent cash.
  const sleeveStart = sleeves
    ? plan.initialCash.div(plan.symbols.length).toDecimalPlaces(DERIVED_SCALE, Dec.ROUND_DOWN)
    : null;

  const state: LedgerState = {
    portfolio: {
      id: PORTFOLIO_ID,
      ownerId: null,
      name: 'backtest',
      description: null,
      baseCurrency: 'USD',
      costBasisMethod: plan.costBasisMethod,
      cash: '0',
      netDeposits: '0',
      realizedPnl: '0',
      ledgerAt: null,
      createdAt: openAt(plan.from),
      updatedAt: openAt(plan.from),
    },
    position: null,
    lots: [],
    positions: [],
    existing: null,
    ledger: null,
  };
  const deposit = planCash(state, {
    kind: 'deposit',
    portfolioId: PORTFOLIO_ID,
    amount: plan.initialCash,
    executedAt: openAt(plan.from),
    now: openAt(plan.from),
    transactionId: 'bt-0',
    requestHash: '',
  });
  applyPortfolio(state, deposit.write);
  /** The shared cash as a Dec, read from the ledger state when first needed after a fill. */
  let cash: Dec | null = dec(state.portfolio.cash);
  const cashDec = (): Dec => {
    cash ??= dec(state.portfolio.cash);
    return cash;
  };
  let cashScaled = parseScaled(state.portfolio.cash, AMOUNT_SCALE);

  const fills: BacktestFill[] = [];
  const unfilled: UnfilledOrder[] = [];
  const runs: SymbolRun[] = [];
  const bySymbol = new Map<string, SymbolRun>();
  let seq = 0;

  const fee = (gross: Dec): Dec => {
    const f = plan.feeRate.isZero() ? plan.fixedFee : plan.fixedFee.plus(plan.feeRate.times(gross));
    return f.decimalPlaces() > 18 ? f.toDecimalPlaces(18) : f;
  };
  const onePlusRate = plan.feeRate.plus(1);
  /** The last whole number of shares {@link affordable} answered, with its gross and fee (reused by `execute`). */
  let afforded: { n: Dec; price: Dec; gross: Dec; fee: Dec } | null = null;

  /** Whole shares `available` buys at `price`, commission included. */
  const affordable = (available: Dec, price: Dec): Dec => {
    afforded = null;
    const spendable = available.minus(plan.fixedFee);
    if (!spendable.isPositive() || spendable.isZero()) return ZERO;
    const perShare = price.times(onePlusRate);
    let n = floorQuotient(spendable, perShare) ?? spendable.div(perShare).floor();
    while (n.isPositive() && !n.isZero()) {
      const gross = n.times(price);
      const f = fee(gross);
      if (!gross.plus(f).gt(available)) {
        afforded = { n, price, gross, fee: f };
        break;
      }
      n = n.minus(1);
    }
    return n;
  };

  const execute = (run: SymbolRun, order: Order, price: Dec, day: string, at: string): void => {
    const available = run.sleeve ?? cashDec();
    let quantity: Dec;
    let feeAmount: Dec;
    if (order.side === 'buy') {
      quantity = order.quantity ?? affordable(available, price);
      if (order.upTo) quantity = Dec.min(quantity, affordable(available, price));
      if (quantity.isZero()) return void missed(unfilled, run, order, 'INSUFFICIENT_CASH');
      const known: { n: Dec; price: Dec; gross: Dec; fee: Dec } | null = afforded;
      afforded = null;
      if (known !== null && known.n === quantity && known.price === price) {
        // affordable() just priced exactly these shares and found them affordable.
        feeAmount = known.fee;
      } else {
        const gross = quantity.times(price);
        feeAmount = fee(gross);
        if (gross.plus(feeAmount).gt(available)) return void missed(unfilled, run, order, 'INSUFFICIENT_CASH');
      }
    } else {
      const held = run.position ? dec(run.position.quantity) : ZERO;
      quantity = order.quantity ?? held;
      if (quantity.isZero() || quantity.gt(held)) return void missed(unfilled, run, order, 'INSUFFICIENT_QUANTITY');
      const gross = quantity.times(price);
      feeAmount = fee(gross);
      if (gross.minus(feeAmount).plus(available).isNegative())
        return void missed(unfilled, run, order, 'INSUFFICIENT_CASH');
    }
    seq += 1;
    const transactionId = `bt-${seq}`;
    state.position = run.position;
    state.lots = run.lots;
    const { write } = planTrade(state, {
      side: order.side,
      portfolioId: PORTFOLIO_ID,
      symbol: run.symbol,
      quantity,
      price,
      fee: feeAmount,
      executedAt: at,
      now: at,
      transactionId,
      lotId: `${transactionId}-lot`,
      requestHash: '',
      priceGiven: true,
    });
    applyPortfolio(state, write);
    applyPosition(run, write);
    const entry = write?.transaction;
    const amount = dec(entry?.amount ?? '0');
    if (run.sleeve) run.sleeve = run.sleeve.plus(amount);
    cash = null;
    cashScaled = parseScaled(state.portfolio.cash, AMOUNT_SCALE);
    fills.push({
      day,
      at,
      symbol: run.symbol,
      side: order.side,
      // The ledger entry prints them with `fmt` already.
      quantity: entry?.quantity ?? fmt(quantity),
      price: entry?.price ?? fmt(price),
      fee: entry?.fee ?? fmt(feeAmount),
    });
  };

  /** The day being replayed, and the runs that got an order during the current `onBar`. */
  let currentDay = plan.from;
  const placed: SymbolRun[] = [];

  const place = (run: SymbolRun, side: 'buy' | 'sell', quantity: string | number | undefined): void => {
    const field = side === 'buy' ? 'buy.quantity' : 'sell.quantity';
    const q = quantity === undefined ? null : parseDecimal(quantity, field);
    if (q && (!q.isPositive() || q.isZero())) throw fail(field, 'must be greater than zero');
    const day = currentDay;
    if (run.index === run.bars.length - 1) {
      unfilled.push({ day, symbol: run.symbol, side, quantity: q ? fmt(q) : null, reason: 'LAST_BAR' });
      return;
    }
    run.pending.push({ day, side, quantity: q });
    placed.push(run);
  };

  /** Fills the waiting orders of `run` at `price`, in the order they were placed. */
  const fillPending = (run: SymbolRun, price: Dec, at: string): void => {
    const orders = run.pending;
    run.pending = [];
    for (const order of orders) execute(run, order, price, currentDay, at);
  };

  const runOf = (symbol: string | undefined, self: SymbolRun, field: string): SymbolRun => {
    if (symbol === undefined || symbol === self.symbol) return self;
    const other = bySymbol.get(symbol) ?? bySymbol.get(normalizeSymbol(symbol, field));
    if (!other) throw fail(field, `${symbol} is not one of the backtest's symbols`);
    return other;
  };

  /** The day's target-weight request (the last `ctx.targetWeights` call wins), and one waiting for the next opens. */
  let request: TargetRequest | null = null;
  let waiting: TargetRequest | null = null;
  /** The last weights object parsed, and its targets: a strategy passes the same object every time. */
  let parsedWeights: { weights: object; targets: ResolvedTarget[] } | null = null;

  const targetWeights = (
    weights: Readonly<Record<string, string | number>>,
    options: TargetWeightsOptions | undefined,
  ): void => {
    if (sleeves) throw fail('allocation', "ctx.targetWeights needs one cash pool: allocation 'shared'");
    let targets: ResolvedTarget[];
    if (parsedWeights !== null && parsedWeights.weights === weights) {
      targets = parsedWeights.targets;
    } else {
      if (typeof weights !== 'object' || weights === null) throw fail('targetWeights', 'must be an object of weights');
      const byRun = new Map<SymbolRun, Dec>();
      let sum = ZERO;
      for (const [key, input] of Object.entries(weights)) {
        const field = `targetWeights.${key}`;
        const run = bySymbol.get(key) ?? bySymbol.get(normalizeSymbol(key, field));
        if (!run) throw fail(field, `${key} is not one of the backtest's symbols`);
        const weight = parseDecimal(input, field);
        if (weight.isNegative() || weight.gt(1)) throw fail(field, 'must be between 0 and 1');
        if (byRun.has(run)) throw fail(field, `${run.symbol} is listed twice`);
        byRun.set(run, weight);
        sum = sum.plus(weight);
      }
      if (sum.gt(1)) throw fail('targetWeights', `weights sum to ${fmt(sum)}, more than 1`);
      targets = [...byRun]
        .map(([run, weight]) => ({ symbol: run.symbol, weight: fmt(weight), givenWeight: fmt(weight) }))
        .sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
      parsedWeights = { weights, targets };
    }
    const band = nonNegative(options?.band, 'targetWeights.band');
    if (band.gt(1)) throw fail('targetWeights.band', 'must be between 0 and 1');
    request = { day: currentDay, targets, band };
  };

  /**
   * Brings the portfolio to `req`'s targets on `day`: the orders of analytics' `planOrders` (the rule
   * of a paper portfolio's rebalance: whole shares, no fee in the plan, sells first) at today's fill
   * prices (`fillPrice` of each symbol's bar today; the last close of a symbol without one, whose
   * orders are then `NO_BAR`), each filled through `execute` with the commission.
   */
  const rebalanceTo = (req: TargetRequest, day: string, at: string, fillPrice: (bar: DailyBar) => string): void => {
    const prices = new Map<string, HoldingPrice>();
    const positions: Array<{ symbol: string; quantity: string }> = [];
    for (const run of runs) {
      const bar = run.bars[run.index];
      if (bar !== undefined) {
        const today = bar.day === day;
        prices.set(run.symbol, { price: dec(today ? fillPrice(bar) : bar.close), stale: !today });
      }
      if (run.position !== null && run.position.quantity !== '0') {
        positions.push({ symbol: run.symbol, quantity: run.position.quantity });
      }
    }
    const orders = planOrders({ cash: state.portfolio.cash, positions }, req.targets, prices, {
      threshold: req.band,
      cashBuffer: ZERO,
      minTrade: ZERO,
      fractional: false,
    }).orders;
    for (const o of orders) {
      const run = bySymbol.get(o.symbol) as SymbolRun;
      const price = prices.get(o.symbol) as HoldingPrice;
      if (price.stale) {
        unfilled.push({ day: req.day, symbol: o.symbol, side: o.side, quantity: o.quantity, reason: 'NO_BAR' });
        continue;
      }
      const order: Order = { day: req.day, side: o.side, quantity: dec(o.quantity), upTo: o.side === 'buy' };
      execute(run, order, price.price, day, at);
    }
  };

  plan.symbols.forEach((symbol, i) => {
    const run: SymbolRun = {
      symbol,
      bars: allBars[i] as DailyBar[],
      index: -1,
      pending: [],
      sleeve: sleeveStart,
      position: null,
      lots: [],
      quantityScaled: 0n,
      quantityWhole: 0,
      costScaled: 0n,
      closeScaled: null,
      closeIndex: -1,
      closeSmall: Number.NaN,
      smallIndex: -1,
      ctx: undefined as unknown as StrategyContext,
      state: undefined,
    };
    run.ctx = makeContext(run, params, {
      cash: () => fmt(run.sleeve ?? cashDec()),
      position: (s) => runOf(s, run, 'position.symbol').position?.quantity ?? '0',
      history: (s, n) => {
        const r = runOf(s, run, 'history.symbol');
        return r.bars.slice(Math.max(0, r.index + 1 - n), r.index + 1);
      },
      order: (side, s, q) => place(runOf(s, run, `${side}.symbol`), side, q),
      targetWeights,
    });
    runs.push(run);
    bySymbol.set(symbol, run);
  });
  for (const run of runs) {
    run.state = strategy.init ? strategy.init({ symbol: run.symbol, params }) : undefined;
    (run.ctx as { state: unknown }).state = run.state;
  }

  // The calendar: every day any symbol has a bar.
  const daySet = new Set<string>();
  let total = 0;
  for (const bars of allBars) {
    total += bars.length;
    for (const bar of bars) daySet.add(bar.day);
  }
  const days = [...daySet].sort();
  const equity: Array<{ day: string; value: string }> = [];
  const step = Math.max(1, Math.ceil(total / 100));
  let done = 0;
  let nextReport = step;
  let exact = true;
  let previousDay: string | null = null;

  // The runs with a bar today (the first `todayCount` entries; one array for the whole replay).
  const today: SymbolRun[] = [];
  for (const day of days) {
    if (plan.signal?.aborted) throw abortError(plan.signal, { done, total });
    currentDay = day;
    let todayCount = 0;
    for (const run of runs) {
      const next = run.bars[run.index + 1];
      if (next !== undefined && next.day === day) {
        run.index += 1;
        today[todayCount++] = run;
      }
    }
    // 'next-open': the orders waiting for today's opens, symbol by symbol.
    if (fill === 'next-open') {
      let at: string | null = null;
      for (let i = 0; i < todayCount; i++) {
        const run = today[i] as SymbolRun;
        if (run.pending.length === 0) continue;
        const bar = run.bars[run.index] as DailyBar;
        at ??= openAt(day);
        fillPending(run, dec(bar.open ?? bar.close), at);
      }
      if (waiting !== null) {
        rebalanceTo(waiting, day, openAt(day), openOrClose);
        waiting = null;
      }
    }
    for (let i = 0; i < todayCount; i++) {
      const run = today[i] as SymbolRun;
      const ctx = run.ctx as { day: string; previousDay: string | null; bar: DailyBar; index: number };
      const bar = run.bars[run.index] as DailyBar;
      ctx.day = day;
      ctx.previousDay = previousDay;
      ctx.bar = bar;
      ctx.index = run.index;
      strategy.onBar(run.ctx);
      // 'close': the orders placed during this call fill at today's close of their symbol (one
      // without a bar today waits for its next bar's close).
      if (fill === 'close') {
        if (run.pending.length > 0) fillPending(run, dec(bar.close), closeAt(day));
        for (const target of placed) {
          const own = target.bars[target.index];
          if (target.pending.length > 0 && own?.day === day) fillPending(target, dec(own.close), closeAt(day));
        }
      }
      if (placed.length !== 0) placed.length = 0;
    }
    // Target weights asked today: filled now at today's closes ('close'), or at the next day's opens
    // ('next-open'; asked on the run's last day, there is no next day: never filled).
    if (request !== null) {
      if (fill === 'close') rebalanceTo(request, day, closeAt(day), closeOf);
      else waiting = request;
      request = null;
    }
    previousDay = day;
    done += todayCount;
    const value = exact ? valueScaled(runs, cashScaled) : null;
    if (value === null) exact = false;
    equity.push({ day, value: value ?? valueWide(runs, state.portfolio.cash) });
    if (done >= nextReport && done < total) {
      nextReport = done + step;
      plan.onProgress?.({ done, total });
      await yieldToEventLoop();
    }
  }
  if (plan.signal?.aborted) throw abortError(plan.signal, { done, total });
  plan.onProgress?.({ done, total });

  const finalValue = equity.at(-1)?.value ?? fmt(cashDec());
  const positions: BacktestPosition[] = runs
    .filter((r) => r.position !== null && r.position.quantity !== '0')
    .map((r) => ({
      symbol: r.symbol,
      quantity: (r.position as PositionRow).quantity,
      costBasis: (r.position as PositionRow).costBasis,
      realizedPnl: (r.position as PositionRow).realizedPnl,
    }))
    .sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  const result: BacktestResult = {
    strategy: strategy.name,
    params,
    symbols: plan.symbols,
    from: plan.from,
    to: plan.to,
    fill,
    allocation,
    costBasisMethod: plan.costBasisMethod,
    commission: { fixed: fmt(plan.fixedFee), rate: fmt(plan.feeRate) },
    initialCash: fmt(plan.initialCash),
    fills,
    unfilled,
    equity,
    finalValue,
    cash: state.portfolio.cash,
    positions,
    realizedPnl: state.portfolio.realizedPnl,
    bars: done,
    metrics: metricsOf(equity, plan.initialCash, plan.riskFreeRate),
  };
  if (sleeves) result.sleeves = Object.fromEntries(runs.map((r) => [r.symbol, fmt(r.sleeve ?? ZERO)]));
  return result;
}

/** The runner's side of a context: what `cash`, `position`, `history`, `buy`, `sell` and `targetWeights` do. */
interface ContextHooks {
  cash(): string;
  position(symbol: string | undefined): string;
  history(symbol: string | undefined, n: number): readonly DailyBar[];
  order(side: 'buy' | 'sell', symbol: string | undefined, quantity: string | number | undefined): void;
  targetWeights(weights: Readonly<Record<string, string | number>>, options: TargetWeightsOptions | undefined): void;
}

/** One symbol's context, reused for each of its bars (the runner sets `day`, `bar`, `index`, `state`). */
function makeContext(run: SymbolRun, params: unknown, hooks: ContextHooks): StrategyContext {
  return {
    day: '',
    previousDay: null,
    symbol: run.symbol,
    bar: { day: '', close: '0' },
    index: -1,
    params,
    state: undefined,
    get cash() {
      return hooks.cash();
    },
    history(a: string | number, b?: number): readonly DailyBar[] {
      return typeof a === 'number' ? hooks.history(undefined, a) : hooks.history(a, b ?? 1);
    },
    position: (symbol?: string) => hooks.position(symbol),
    buy: (symbol?: string, quantity?: string | number) => hooks.order('buy', symbol, quantity),
    sell: (symbol?: string, quantity?: string | number) => hooks.order('sell', symbol, quantity),
    targetWeights: (weights: Readonly<Record<string, string | number>>, options?: TargetWeightsOptions) =>
      hooks.targetWeights(weights, options),
  } as StrategyContext;
}

function applyPortfolio(state: LedgerState, write: LedgerWrite | null): void {
  if (!write) return;
  state.portfolio = { ...state.portfolio, ...write.portfolio };
}

function applyPosition(run: SymbolRun, write: LedgerWrite | null): void {
  if (!write?.position) return;
  run.position = write.position;
  run.quantityScaled = parseScaled(write.position.quantity, QUANTITY_SCALE);
  run.quantityWhole = parseScaledNumber(write.position.quantity, 0);
  run.costScaled = parseScaled(write.position.costBasis, AMOUNT_SCALE);
  const lots = write.lots;
  if (lots) {
    const removed = new Set(lots.delete);
    const updates = new Map(lots.update.map((u) => [u.id, u]));
    run.lots = run.lots
      .filter((l) => !removed.has(l.id))
      .map((l) => {
        const u = updates.get(l.id);
        return u ? { ...l, quantity: u.quantity, costBasis: u.costBasis } : l;
      })
      .concat(lots.insert);
  }
}

/** Decimal places of a close on {@link valueScaled}'s double path. */
const SMALL_SCALE = 8;
/** From the double path's scale (shares × close × 10^8) to {@link AMOUNT_SCALE}. */
const SMALL_TO_AMOUNT = pow10(AMOUNT_SCALE - SMALL_SCALE);

/**
 * The day's value with the kernel's primitives (cash + Σ quantity × last close, scaled by 10^36,
 * printed like `scaledTotals` prints a total value): null when a value does not fit that scale (the
 * caller then values with {@link valueHoldings} itself). A holding of whole shares whose close has at
 * most 8 decimals is multiplied in a double when the product is small enough to be exact (each at
 * most 2^53 / the number of symbols, so their sum is exact too); the sum joins the bigints once.
 */
function valueScaled(runs: SymbolRun[], cashScaled: bigint | null): string | null {
  if (cashScaled === null) return null;
  const limit = Math.floor(Number.MAX_SAFE_INTEGER / runs.length);
  let marketValue = 0n;
  let small = 0;
  for (const run of runs) {
    const q = run.quantityScaled;
    if (q === 0n) continue;
    if (q === null || run.costScaled === null) return null;
    if (run.smallIndex !== run.index) {
      run.closeSmall = parseScaledNumber((run.bars[run.index] as DailyBar).close, SMALL_SCALE);
      run.smallIndex = run.index;
    }
    const product = run.quantityWhole * run.closeSmall;
    if (Math.abs(product) <= limit) {
      small += product;
      continue;
    }
    if (run.closeIndex !== run.index) {
      run.closeScaled = parseScaled((run.bars[run.index] as DailyBar).close, QUANTITY_SCALE);
      run.closeIndex = run.index;
    }
    if (run.closeScaled === null) return null;
    marketValue += q * run.closeScaled;
  }
  if (small !== 0) marketValue += BigInt(small) * SMALL_TO_AMOUNT;
  // `scaledTotals(…).totalValue`, without printing the totals the curve does not keep.
  return formatScaled(cashScaled + marketValue, AMOUNT_SCALE);
}

/** The day's value through {@link valueHoldings} (any scale). */
function valueWide(runs: SymbolRun[], cash: string): string {
  const prices = new Map<string, { price: Dec; stale: boolean }>();
  const holdings: PositionRow[] = [];
  for (const run of runs) {
    const bar = run.bars[run.index];
    if (!run.position || !bar) continue;
    holdings.push(run.position);
    prices.set(run.symbol, { price: dec(bar.close), stale: false });
  }
  return valueHoldings(cash, holdings, prices).totals.totalValue;
}

/** The equity curve's statistics, by core's analytics (TWR, annualised, XIRR, drawdown, volatility, Sharpe). */
function metricsOf(
  equity: Array<{ day: string; value: string }>,
  initialCash: Dec,
  riskFreeRate: number,
): BacktestMetrics {
  const start = Number(fmt(initialCash));
  const series = equity.map((p) => ({ day: p.day, value: Number(p.value) }));
  const twr = equityTwr(equity, start);
  const first = series[0];
  const last = series.at(-1);
  const calendarDays = first && last ? daysInclusive(first.day, last.day) : 0;
  const annualized = twr.cumulative === null ? null : annualizeReturn(twr.cumulative, calendarDays);
  const mwr =
    first && last && first.day < last.day
      ? xirr([
          { day: first.day, amount: -start },
          { day: last.day, amount: last.value },
        ])
      : null;
  // The running peak starts at the initial cash: a first day below it (a commission paid) is a fall.
  const drawdown = maxDrawdown([{ day: '', value: start }, ...series]);
  const returns = chainedReturns(twr.daily);
  const vol = volatility(returns, BACKTEST_PERIODS_PER_YEAR);
  const ratio = sharpe(returns, riskFreeRate, BACKTEST_PERIODS_PER_YEAR);
  return {
    twr: stat(twr.cumulative, twr.reason),
    annualizedReturn: stat(annualized, twr.cumulative === null ? twr.reason : 'fewer than 1 calendar day'),
    mwr: mwr ? stat(mwr.rate, mwr.reason) : { value: null, reason: 'fewer than 2 days' },
    maxDrawdown: stat(drawdown.maxDrawdown, drawdown.reason),
    volatility: stat(vol.annualized, vol.reason),
    sharpe: stat(ratio.value, ratio.reason),
    benchmark: null,
  };
}

/** A statistic, or null with its reason. */
function stat(value: number | null, reason: string | undefined): BacktestStat {
  return value === null ? { value, reason: reason ?? 'not defined' } : { value };
}

/** The equity curve's TTWROR (the initial cash flowing in on the first day, nothing else). */
function equityTwr(equity: ReadonlyArray<{ day: string; value: string }>, start: number): TwrResult {
  return ttwror(
    equity.map((p, i) => ({ day: p.day, value: Number(p.value), inflow: i === 0 ? start : 0, outflow: 0 })),
  );
}

/**
 * The run against its benchmark: the benchmark's close on each equity day (carried forward), its
 * curve scaled to the initial cash, and the statistics of the daily returns aligned by day (a day
 * counts when the run's return and the benchmark's, from the day before, both exist).
 */
function measureBenchmark(
  symbol: string,
  bars: readonly DailyBar[],
  result: BacktestResult,
  plan: Plan,
): { metrics: BacktestBenchmarkMetrics; equity: Array<{ day: string; value: string | null }> } {
  const closes: Array<string | null> = [];
  let j = -1;
  for (const point of result.equity) {
    while (j + 1 < bars.length && (bars[j + 1] as DailyBar).day <= point.day) j += 1;
    closes.push(j < 0 ? null : (bars[j] as DailyBar).close);
  }
  const baseIndex = closes.findIndex((c) => c !== null);
  const base = baseIndex < 0 ? null : dec(closes[baseIndex] as string);
  const equity = result.equity.map((point, i) => {
    const close = closes[i];
    const value =
      close == null || base === null || base.isZero()
        ? null
        : fmt(new Dec(divideToString(plan.initialCash.times(close), base, DERIVED_SCALE)));
    return { day: point.day, value };
  });
  const start = Number(fmt(plan.initialCash));
  const twr = equityTwr(result.equity, start);
  const p: number[] = [];
  const b: number[] = [];
  for (let i = 1; i < closes.length; i++) {
    const prev = closes[i - 1];
    const cur = closes[i];
    const r = twr.daily[i]?.r ?? null;
    if (prev == null || cur == null || r === null || !(Number(prev) > 0)) continue;
    p.push(r);
    b.push(Number(cur) / Number(prev) - 1);
  }
  const benchTwr =
    baseIndex < 0
      ? null
      : ttwror(
          closes.slice(baseIndex).map((c, i) => ({
            day: result.equity[baseIndex + i]?.day as string,
            value: Number(c),
            inflow: i === 0 ? Number(c) : 0,
            outflow: 0,
          })),
        );
  const own = result.metrics.twr.value;
  const theirs = benchTwr?.cumulative ?? null;
  const stats = benchmarkStats(
    p,
    b,
    periodRate(plan.riskFreeRate, BACKTEST_PERIODS_PER_YEAR),
    BACKTEST_PERIODS_PER_YEAR,
  );
  let active = 0;
  for (let i = 0; i < p.length; i++) active += (p[i] as number) - (b[i] as number);
  const te = stats.trackingError.value;
  const informationRatio: BacktestStat =
    te === null
      ? { value: null, reason: stats.trackingError.reason ?? 'no tracking error' }
      : te === 0
        ? { value: null, reason: 'zero tracking error' }
        : { value: ((active / p.length) * BACKTEST_PERIODS_PER_YEAR) / te };
  return {
    metrics: {
      symbol,
      twr: benchTwr === null ? { value: null, reason: 'no benchmark close' } : stat(theirs, benchTwr.reason),
      excessReturn:
        own === null || theirs === null
          ? { value: null, reason: own === null ? 'the run has no twr' : 'the benchmark has no twr' }
          : { value: own - theirs },
      beta: stat(stats.beta.value, stats.beta.reason),
      alpha: stat(stats.alpha.value, stats.alpha.reason),
      trackingError: stat(te, stats.trackingError.reason),
      informationRatio,
      correlation: stat(stats.correlation.value, stats.correlation.reason),
      days: p.length,
    },
    equity,
  };
}
