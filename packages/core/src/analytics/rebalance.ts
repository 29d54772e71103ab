/**
 * Rebalancing a model portfolio: the buy and sell orders that bring its holdings to their target
 * weights ({@link planRebalance}, on the pure {@link planOrders}), and their execution through the
 * engine's `trade` ({@link rebalance}), one idempotency key per order.
 *
 * Every amount and quantity is an exact decimal; orders cross the API as decimal strings.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { TradeInput } from '../engine/inputs.js';
import { isReplay } from '../engine/results.js';
import type { Transaction } from '../engine/types.js';
import { FoliokitError } from '../errors.js';
import type { RebalanceOrder } from '../events.js';
import { Dec, fmt, parseDecimal, ZERO } from '../money/decimal.js';
import { formatScaled } from '../money/fixed.js';
import type { SnapshotHost } from '../snapshots/host.js';
import { toIso } from '../time.js';
import { decimalInput, idempotencyKeyInput, validate } from '../validation.js';
import type { HoldingPrice } from '../valuation/kernel.js';
import { type HoldingsState, loadModel, type ResolvedTarget, weighHoldings } from './targets.js';

export type { RebalanceOrder } from '../events.js';

/** Decimal places of a fractional order's quantity (rounded down). */
export const FRACTIONAL_DECIMALS = 8;

/** Options of {@link planRebalance}. */
export interface PlanRebalanceInput {
  /**
   * Leave a symbol alone while |current − target| value is at most `threshold × total value`
   * (a weight fraction: `0.02` = 2 percentage points). @default 0
   */
  threshold?: string | number;
  /**
   * An AMOUNT of cash (in the portfolio's currency) kept back: targets apply to
   * `total value − cashBuffer`, and buys never take cash below it. @default 0
   */
  cashBuffer?: string | number;
  /** Skip orders worth less than this amount. @default 0 */
  minTrade?: string | number;
  /** Fractional quantities (8 decimal places, rounded down); `false` = whole units. @default true */
  fractional?: boolean;
}

/** Options of {@link rebalance}: the plan's, and the idempotency key of the whole rebalance. */
export interface RebalanceInput extends PlanRebalanceInput {
  /**
   * Each order is traded under a key derived from this one and the order's side and symbol, so a
   * retried rebalance replays (or completes) rather than doubles. @default a key derived from the
   * plan and the portfolio's latest ledger instant (the same plan on the same ledger dedupes)
   */
  idempotencyKey?: string;
}

/** The validated options the pure planner takes. */
export interface PlanOptions {
  threshold: Dec;
  cashBuffer: Dec;
  minTrade: Dec;
  fractional: boolean;
}

/** Why a symbol off target got no order. */
export type SkipReason = 'threshold' | 'min-trade' | 'rounds-to-zero' | 'no-price';

/** What {@link planOrders} returns. */
export interface OrderPlan {
  method: 'target-weights-on-investable-value';
  /** Sells first, then buys; each group by symbol. */
  orders: RebalanceOrder[];
  /** Cash + Σ quantity × price. */
  totalValue: string;
  /** totalValue − cashBuffer (never negative): what the target weights apply to. */
  investable: string;
  cashBefore: string;
  /** Cash once every order is filled at its price (no fees): never below the buffer unless it started there. */
  cashAfter: string;
  /** Symbols off target that got no order, and why. */
  skipped: Array<{ symbol: string; reason: SkipReason }>;
  /** Why nothing can be planned (no targets, or total value not positive); absent otherwise. */
  reason?: string;
}

/** What {@link planRebalance} returns. */
export interface RebalancePlan extends OrderPlan {
  portfolioId: string;
  at: string;
  /** A fingerprint of the plan and the ledger it was made on (idempotency keys derive from it). */
  planId: string;
  /** Symbols priced at a last known (stale) price. */
  stale: string[];
}

/** What {@link rebalance} returns: the plan it executed and the ledger entries of its orders. */
export interface RebalanceResult extends RebalancePlan {
  /** One per order, in order. */
  transactions: Transaction[];
  /** True when every order was answered as a replay of an earlier call (nothing traded now). */
  replayed: boolean;
}

/** The engine's trade, as {@link rebalance} calls it. */
export type TradeFn = (id: string, input: TradeInput) => Promise<Transaction>;

const planSchema = z.strictObject({
  threshold: decimalInput.optional(),
  cashBuffer: decimalInput.optional(),
  minTrade: decimalInput.optional(),
  fractional: z.boolean().optional(),
});
const rebalanceSchema = planSchema.extend({ idempotencyKey: idempotencyKeyInput.optional() });

/** Reads a non-negative decimal option; `max` bounds it. */
function nonNegative(value: string | number | undefined, field: string, max?: number): Dec {
  if (value === undefined) return ZERO;
  const d = parseDecimal(value, field);
  if (d.isNegative() || (max !== undefined && d.gt(max))) {
    const range = max === undefined ? 'not be negative' : `be between 0 and ${max}`;
    throw new FoliokitError('VALIDATION_FAILED', `${field} must ${range}`, { field });
  }
  return d;
}

/** Validates plan options. @throws FoliokitError `VALIDATION_FAILED` naming the field */
export function parsePlanOptions(input: unknown): PlanOptions {
  const v = validate(planSchema, input ?? {}, 'options');
  return {
    threshold: nonNegative(v.threshold, 'threshold', 1),
    cashBuffer: nonNegative(v.cashBuffer, 'cashBuffer'),
    minTrade: nonNegative(v.minTrade, 'minTrade'),
    fractional: v.fractional ?? true,
  };
}

/** A non-negative decimal as an integer and its scale: `12.34` → `[1234n, 2]`. */
function scaled(value: Dec): [bigint, number] {
  const text = value.toFixed();
  const dot = text.indexOf('.');
  return dot < 0 ? [BigInt(text), 0] : [BigInt(text.slice(0, dot) + text.slice(dot + 1)), text.length - dot - 1];
}

/**
 * `Π nums / Π dens` rounded down to `places` decimal places, exactly, in integers (decimal.js's
 * 120-digit division is the planner's hot spot). Dens must be positive; a product ≤ 0 gives 0.
 */
function floorRatio(nums: readonly Dec[], dens: readonly Dec[], places: number): Dec {
  if (nums.some((x) => !x.gt(0))) return ZERO;
  let n = 1n;
  let d = 1n;
  let shift = places;
  for (const x of nums) {
    const [v, sc] = scaled(x);
    n *= v;
    shift -= sc;
  }
  for (const x of dens) {
    const [v, sc] = scaled(x);
    d *= v;
    shift += sc;
  }
  if (shift >= 0) n *= 10n ** BigInt(shift);
  else d *= 10n ** BigInt(-shift);
  return new Dec(formatScaled(n / d, places));
}

/** `amount / price` (× `factor[0] / factor[1]`, when given) rounded down to the order's unit. */
function units(amount: Dec, price: Dec, fractional: boolean, factor?: readonly [Dec, Dec]): Dec {
  const places = fractional ? FRACTIONAL_DECIMALS : 0;
  return factor ? floorRatio([amount, factor[0]], [price, factor[1]], places) : floorRatio([amount], [price], places);
}

const bySymbol = (a: { symbol: string }, b: { symbol: string }) =>
  a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0;

/** A buy wanted: the value to buy and the price. */
interface Want {
  symbol: string;
  price: Dec;
  value: Dec;
  quantity: Dec;
}

/**
 * Sizes the buys within `available` cash: each gets its share of the cash (all of its value when
 * the cash suffices), rounded down to units; what rounding leaves is then topped up in order of
 * the largest wants. Afterwards every buy is within one unit of its want, or the cash left is worth
 * less than one unit of it — so planning again after execution finds nothing to buy.
 */
function sizeBuys(wants: Want[], available: Dec, fractional: boolean): Dec {
  let wanted = ZERO;
  for (const w of wants) wanted = wanted.plus(w.value);
  // Short of cash: each buy gets `value × available / wanted`.
  const factor = wanted.lte(available) ? undefined : ([available, wanted] as const);
  let remaining = available;
  for (const w of wants) {
    w.quantity = units(w.value, w.price, fractional, factor);
    remaining = remaining.minus(w.quantity.times(w.price));
  }
  if (factor !== undefined) {
    const order = [...wants].sort((a, b) => b.value.comparedTo(a.value) || bySymbol(a, b));
    for (const w of order) {
      const extra = units(Dec.min(w.value.minus(w.quantity.times(w.price)), remaining), w.price, fractional);
      if (extra.lte(0)) continue;
      w.quantity = w.quantity.plus(extra);
      remaining = remaining.minus(extra.times(w.price));
    }
  }
  return remaining;
}

/**
 * The orders that bring `state` to `targets` at `prices` (pure, no I/O): every symbol whose target
 * value (`weight × (total − cashBuffer)`) differs from its current value by more than
 * `threshold × total` gets an order for the difference, rounded down to its unit; a symbol with
 * target 0 is sold whole. Sells come first; buys spend at most the cash after sells minus the
 * buffer (scaled down together when short); orders worth less than `minTrade` are left out.
 * Orders are valued at the given prices with no fees.
 *
 * @throws FoliokitError `PRICE_UNAVAILABLE` when a held symbol has no price
 */
export function planOrders(
  state: HoldingsState,
  targets: readonly ResolvedTarget[],
  prices: ReadonlyMap<string, HoldingPrice>,
  options: PlanOptions,
): OrderPlan {
  const { rows, cash, total } = weighHoldings(state, targets, prices);
  const investable = Dec.max(total.minus(options.cashBuffer), ZERO);
  const base = {
    method: 'target-weights-on-investable-value' as const,
    totalValue: fmt(total),
    investable: fmt(investable),
    cashBefore: fmt(cash),
  };
  const none = (reason: string): OrderPlan => ({ ...base, orders: [], cashAfter: fmt(cash), skipped: [], reason });
  // No targets would mean "target 0 for everything held": never liquidate a portfolio by default.
  if (targets.length === 0) return none('the portfolio has no targets: nothing to rebalance to');
  if (!total.gt(0)) return none('total value is not positive: nothing to weigh');
  const band = options.threshold.times(total);
  const skipped: OrderPlan['skipped'] = [];
  const sells: RebalanceOrder[] = [];
  const wants: Want[] = [];
  let proceeds = ZERO;
  for (const r of rows) {
    const diff = r.weight.times(investable).minus(r.value);
    if (diff.isZero()) continue;
    if (diff.abs().lte(band)) {
      skipped.push({ symbol: r.symbol, reason: 'threshold' });
      continue;
    }
    if (r.price === null) {
      skipped.push({ symbol: r.symbol, reason: 'no-price' });
      continue;
    }
    if (diff.gt(0)) {
      wants.push({ symbol: r.symbol, price: r.price, value: diff, quantity: ZERO });
      continue;
    }
    const quantity = r.weight.isZero()
      ? r.quantity
      : Dec.min(units(diff.neg(), r.price, options.fractional), r.quantity);
    const value = quantity.times(r.price);
    const reason = quantity.isZero() ? 'rounds-to-zero' : value.lt(options.minTrade) ? 'min-trade' : null;
    if (reason) {
      skipped.push({ symbol: r.symbol, reason });
      continue;
    }
    proceeds = proceeds.plus(value);
    sells.push({ symbol: r.symbol, side: 'sell', quantity: fmt(quantity), price: fmt(r.price), value: fmt(value) });
  }
  const afterSells = cash.plus(proceeds);
  sizeBuys(wants, Dec.max(afterSells.minus(options.cashBuffer), ZERO), options.fractional);
  const buys: RebalanceOrder[] = [];
  let spent = ZERO;
  for (const w of wants) {
    const value = w.quantity.times(w.price);
    const reason = w.quantity.isZero() ? 'rounds-to-zero' : value.lt(options.minTrade) ? 'min-trade' : null;
    if (reason) {
      skipped.push({ symbol: w.symbol, reason });
      continue;
    }
    spent = spent.plus(value);
    buys.push({ symbol: w.symbol, side: 'buy', quantity: fmt(w.quantity), price: fmt(w.price), value: fmt(value) });
  }
  return {
    ...base,
    orders: [...sells.sort(bySymbol), ...buys.sort(bySymbol)],
    cashAfter: fmt(afterSells.minus(spent)),
    skipped: skipped.sort(bySymbol),
  };
}

/** A short stable hash. */
function digest(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
}

/**
 * The buy and sell orders that bring a portfolio to its targets (see {@link planOrders}), at
 * `host.latestPrices` (held symbols and targets; stale prices are used and listed). Plans only.
 *
 * @example
 * ```ts
 * const plan = await planRebalance(engine, p.id, { threshold: 0.01, minTrade: 50, fractional: false });
 * for (const o of plan.orders) console.log(o.side, o.quantity, o.symbol, '@', o.price);
 * ```
 * @throws FoliokitError `VALIDATION_FAILED`, `PORTFOLIO_NOT_FOUND`, `PRICE_UNAVAILABLE` (a held
 *   symbol without any price), `INVALID_CONFIGURATION` (the store keeps no targets)
 */
export async function planRebalance(
  host: SnapshotHost,
  id: string,
  options: PlanRebalanceInput = {},
): Promise<RebalancePlan> {
  const opts = parsePlanOptions(options);
  const { state, ledgerAt, targets, prices } = await loadModel(host, id);
  const plan = planOrders(state, targets, prices, opts);
  const stale = [...prices]
    .filter(([, p]) => p.stale)
    .map(([s]) => s)
    .sort();
  return {
    portfolioId: id,
    at: toIso(host.clock.now()),
    planId: digest([id, ledgerAt, state.cash, plan.orders]),
    stale,
    ...plan,
  };
}

/** The idempotency key of one order: from the caller's key (or the plan), the side and the symbol. */
export function orderKey(base: string, order: Pick<RebalanceOrder, 'side' | 'symbol'>): string {
  return `rebalance:${digest(base)}:${order.side}:${order.symbol}`;
}

/**
 * Plans (see {@link planRebalance}) and executes the orders through `trade`, sells first, each at
 * its planned price and under its own idempotency key ({@link orderKey}); emits
 * `rebalance.executed` when an order traded now (not for a pure replay).
 *
 * A retry with the same `idempotencyKey` after the first call finished plans nothing (the
 * portfolio is on target); a retry after a failure part-way re-plans and trades the rest; a
 * concurrent duplicate replays the same orders. An order's error propagates unchanged; the orders
 * before it stay executed.
 *
 * @example
 * ```ts
 * const r = await rebalance(engine, (id, t) => engine.trade(id, t), p.id, { idempotencyKey: 'rb-2026-01' });
 * ```
 */
export async function rebalance(
  host: SnapshotHost,
  trade: TradeFn,
  id: string,
  options: RebalanceInput = {},
): Promise<RebalanceResult> {
  const { idempotencyKey, ...planInput } = validate(rebalanceSchema, options ?? {}, 'options');
  const plan = await planRebalance(host, id, planInput);
  const base = idempotencyKey ?? plan.planId;
  const transactions: Transaction[] = [];
  for (const o of plan.orders) {
    const input = { symbol: o.symbol, side: o.side, quantity: o.quantity, price: o.price };
    transactions.push(await trade(id, { ...input, idempotencyKey: orderKey(base, o) }));
  }
  const replayed = transactions.length > 0 && transactions.every(isReplay);
  if (transactions.some((t) => !isReplay(t))) {
    host.emit({ type: 'rebalance.executed', portfolioId: id, orders: plan.orders, transactions });
  }
  return { ...plan, transactions, replayed };
}
