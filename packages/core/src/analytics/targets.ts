/**
 * Model portfolios: a portfolio's target holdings (a symbol and a weight, a missing weight meaning an
 * equal share of what the weighted targets leave), and its drift from them.
 *
 * Weights are exact decimal fractions of total value (`"0.25"` = 25 %); amounts are exact decimals.
 * Everything crosses the API as decimal strings.
 */
import { z } from 'zod';
import { FoliokitError } from '../errors.js';
import type { ResolvedTarget } from '../events.js';
import { Dec, divideToString, fmt, parseDecimal, ZERO } from '../money/decimal.js';
import type { PortfolioState, Store, TargetRow } from '../ports/index.js';
import { normalizeSymbol } from '../prices/symbols.js';
import type { SnapshotHost } from '../snapshots/host.js';
import { toIso } from '../time.js';
import { checkId, decimalInput, validate } from '../validation.js';
import type { HoldingPrice } from '../valuation/kernel.js';

export type { ResolvedTarget } from '../events.js';

/** The most targets one portfolio may list. */
export const MAX_TARGETS = 2000;

/** Decimal places of an equal share (`1/3` → `0.333333333333`), rounded down so shares never sum above 1. */
export const EQUAL_SHARE_DECIMALS = 12;

/** Decimal places of a current weight and of a drift in percentage points (rounded half-even). */
export const WEIGHT_DECIMALS = 12;

/** One target as `setTargets` takes it. */
export interface TargetInput {
  symbol: string;
  /** A fraction of total value in [0, 1]; left out = an equal share of what the weighted targets leave. */
  weight?: string | number;
}

const targetsSchema = z.strictObject({
  targets: z.array(z.strictObject({ symbol: z.string(), weight: decimalInput.optional() })).max(MAX_TARGETS),
});

/** A store with the optional target methods, checked. */
type TargetStore = Store & Required<Pick<Store, 'getTargets' | 'setTargets'>>;

/**
 * The store, when it keeps targets.
 * @throws FoliokitError `INVALID_CONFIGURATION` naming the missing methods
 */
export function targetStore(store: Store): TargetStore {
  const missing = (['getTargets', 'setTargets'] as const).filter((m) => typeof store[m] !== 'function');
  if (missing.length > 0) {
    const names = missing.map((m) => `store.${m}`);
    throw new FoliokitError(
      'INVALID_CONFIGURATION',
      `Model portfolios need a store with ${names.join(' and ')}; the store "${store.name}" lacks them`,
      { field: 'store', missing: names },
    );
  }
  return store as TargetStore;
}

/** Throws `PORTFOLIO_NOT_FOUND` unless the portfolio exists. */
async function requirePortfolio(store: Store, id: string): Promise<void> {
  if (!(await store.getPortfolio(id))) {
    throw new FoliokitError('PORTFOLIO_NOT_FOUND', `No portfolio with id ${id}`, {
      field: 'portfolioId',
      portfolioId: id,
    });
  }
}

/**
 * Effective weights of targets: a given weight as it is; the rest `1 − Σ given` split equally
 * among the targets without one (each share rounded down to {@link EQUAL_SHARE_DECIMALS} places).
 * When every target has a weight and they sum below 1, the rest stays in cash. Pure.
 */
export function resolveTargets(rows: ReadonlyArray<{ symbol: string; weight: string | null }>): ResolvedTarget[] {
  let given = ZERO;
  let unweighted = 0;
  for (const r of rows) {
    if (r.weight === null) unweighted++;
    else given = given.plus(r.weight);
  }
  const rest = Dec.max(new Dec(1).minus(given), ZERO);
  const share = unweighted === 0 ? ZERO : rest.div(unweighted).toDecimalPlaces(EQUAL_SHARE_DECIMALS, Dec.ROUND_DOWN);
  return rows
    .map((r) => ({ symbol: r.symbol, weight: r.weight ?? fmt(share), givenWeight: r.weight }))
    .sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
}

/** Validates targets: symbols normalised and unique, weights exact decimals in [0, 1] summing to at most 1. */
function parseTargets(input: unknown): Array<{ symbol: string; weight: string | null }> {
  const list = validate(targetsSchema, { targets: input }, 'targets').targets;
  const seen = new Set<string>();
  let sum = ZERO;
  const out = list.map((t, i) => {
    const symbol = normalizeSymbol(t.symbol, `targets.${i}.symbol`);
    if (seen.has(symbol)) {
      throw new FoliokitError('VALIDATION_FAILED', `targets lists ${symbol} twice`, { field: `targets.${i}.symbol` });
    }
    seen.add(symbol);
    if (t.weight === undefined) return { symbol, weight: null };
    const field = `targets.${i}.weight`;
    const weight = parseDecimal(t.weight, field);
    if (weight.isNegative() || weight.gt(1)) {
      throw new FoliokitError('VALIDATION_FAILED', `${field} must be between 0 and 1`, { field });
    }
    sum = sum.plus(weight);
    return { symbol, weight: fmt(weight) };
  });
  if (sum.gt(1)) {
    throw new FoliokitError('VALIDATION_FAILED', `target weights sum to ${fmt(sum)}, more than 1`, {
      field: 'targets',
    });
  }
  return out;
}

/**
 * Replaces a portfolio's target holdings (an empty list clears them) and emits `targets.updated`.
 *
 * @example
 * ```ts
 * await setTargets(engine, p.id, [{ symbol: 'VTI', weight: '0.6' }, { symbol: 'BND' }, { symbol: 'VXUS' }]);
 * // → VTI 0.6, BND 0.2, VXUS 0.2
 * ```
 * @returns the resolved targets (effective weights), ordered by symbol
 * @throws FoliokitError `VALIDATION_FAILED` (the field at fault), `PORTFOLIO_NOT_FOUND`,
 *   `INVALID_CONFIGURATION` when the store keeps no targets
 */
export async function setTargets(host: SnapshotHost, id: string, targets: TargetInput[]): Promise<ResolvedTarget[]> {
  checkId(id);
  const rows = parseTargets(targets);
  const store = targetStore(host.store);
  await requirePortfolio(store, id);
  const at = toIso(host.clock.now());
  const stored: TargetRow[] = rows.map((r) => ({ portfolioId: id, symbol: r.symbol, weight: r.weight, updatedAt: at }));
  await store.setTargets(id, stored, at);
  const resolved = resolveTargets(rows);
  host.emit({ type: 'targets.updated', portfolioId: id, targets: resolved });
  return resolved;
}

/**
 * A portfolio's target holdings with their effective weights, ordered by symbol (empty when none).
 * @throws FoliokitError `PORTFOLIO_NOT_FOUND`, `INVALID_CONFIGURATION`
 */
export async function getTargets(host: SnapshotHost, id: string): Promise<ResolvedTarget[]> {
  checkId(id);
  const store = targetStore(host.store);
  await requirePortfolio(store, id);
  return resolveTargets(await store.getTargets(id));
}

/** One symbol's drift. Decimals are strings. */
export interface DriftRow {
  symbol: string;
  /** Quantity held ("0" for a target not held). */
  quantity: string;
  /** The price used; null for a target not held and without a price (its current value is 0 anyway). */
  price: string | null;
  /** Effective target weight ("0" for a held symbol without a target). */
  targetWeight: string;
  /** currentValue / totalValue, to {@link WEIGHT_DECIMALS} places; null when total value is not positive. */
  currentWeight: string | null;
  /** (currentWeight − targetWeight) × 100, in percentage points (+ = overweight); null with currentWeight. */
  drift: string | null;
  currentValue: string;
  /** targetWeight × totalValue. */
  targetValue: string;
  /** targetValue − currentValue: what to buy (+) or sell (−) to be on target. */
  difference: string;
}

/** What {@link getDrift} returns. */
export interface Drift {
  portfolioId: string;
  /** When the drift was computed. */
  at: string;
  method: 'weights-on-total-value';
  /** Cash + Σ quantity × price. */
  totalValue: string;
  /** Cash, as a row of its own: its target weight is what the targets leave (1 − Σ target weights). */
  cash: Omit<DriftRow, 'symbol' | 'quantity' | 'price'>;
  /** Held symbols and targets, by symbol. */
  positions: DriftRow[];
  /** Symbols valued at a last known (stale) price. */
  stale: string[];
  /** Why weights are null (total value not positive); absent otherwise. */
  reason?: string;
}

/** The cash and quantities a drift or a plan starts from (a store's `PortfolioState` fits). */
export interface HoldingsState {
  cash: string;
  positions: ReadonlyArray<{ symbol: string; quantity: string }>;
}

/** A plain view of a portfolio state. */
export function holdingsOf(state: PortfolioState): HoldingsState {
  return { cash: state.portfolio.cash, positions: state.positions };
}

/** One symbol of the union of held symbols and targets, valued. Internal to drift and planning. */
export interface Valued {
  symbol: string;
  quantity: Dec;
  price: Dec | null;
  weight: Dec;
  value: Dec;
}

/**
 * Values held symbols and targets (pure). Every held symbol with a non-zero quantity needs a price.
 * @throws FoliokitError `PRICE_UNAVAILABLE` naming the unpriced held symbols
 */
export function weighHoldings(
  state: HoldingsState,
  targets: readonly ResolvedTarget[],
  prices: ReadonlyMap<string, HoldingPrice>,
): { rows: Valued[]; cash: Dec; total: Dec } {
  const bySymbol = new Map<string, Valued>();
  const unpriced: string[] = [];
  const cash = new Dec(state.cash);
  let total = cash;
  for (const p of state.positions) {
    const quantity = new Dec(p.quantity);
    if (quantity.isZero()) continue;
    const price = prices.get(p.symbol)?.price ?? null;
    if (price === null) {
      unpriced.push(p.symbol);
      continue;
    }
    const value = quantity.times(price);
    total = total.plus(value);
    bySymbol.set(p.symbol, { symbol: p.symbol, quantity, price, weight: ZERO, value });
  }
  if (unpriced.length > 0) {
    throw new FoliokitError(
      'PRICE_UNAVAILABLE',
      `No price for held ${unpriced.join(', ')}: cannot weigh the portfolio`,
      {
        field: 'symbol',
        symbols: unpriced,
      },
    );
  }
  for (const t of targets) {
    const held = bySymbol.get(t.symbol);
    if (held) held.weight = new Dec(t.weight);
    else {
      const price = prices.get(t.symbol)?.price ?? null;
      bySymbol.set(t.symbol, { symbol: t.symbol, quantity: ZERO, price, weight: new Dec(t.weight), value: ZERO });
    }
  }
  const rows = [...bySymbol.values()].sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  return { rows, cash, total };
}

/** A drift row's weight columns for `value` against `weight` on `total`. */
function weighRow(value: Dec, weight: Dec, total: Dec): Omit<DriftRow, 'symbol' | 'quantity' | 'price'> {
  const targetValue = weight.times(total);
  const positive = total.gt(0);
  const currentWeight = positive ? divideToString(value, total, WEIGHT_DECIMALS) : null;
  return {
    targetWeight: fmt(weight),
    currentWeight,
    drift: currentWeight === null ? null : fmt(new Dec(currentWeight).minus(weight).times(100)),
    currentValue: fmt(value),
    targetValue: fmt(targetValue),
    difference: fmt(targetValue.minus(value)),
  };
}

/** Drift of holdings from targets (pure): see {@link getDrift}. */
export function computeDrift(
  state: HoldingsState,
  targets: readonly ResolvedTarget[],
  prices: ReadonlyMap<string, HoldingPrice>,
): Pick<Drift, 'totalValue' | 'cash' | 'positions' | 'stale' | 'reason'> {
  const { rows, cash, total } = weighHoldings(state, targets, prices);
  let targeted = ZERO;
  for (const t of targets) targeted = targeted.plus(t.weight);
  const positions = rows.map((r) => ({
    symbol: r.symbol,
    quantity: fmt(r.quantity),
    price: r.price === null ? null : fmt(r.price),
    ...weighRow(r.value, r.weight, total),
  }));
  const stale = rows.filter((r) => !r.quantity.isZero() && prices.get(r.symbol)?.stale === true).map((r) => r.symbol);
  return {
    totalValue: fmt(total),
    cash: weighRow(cash, Dec.max(new Dec(1).minus(targeted), ZERO), total),
    positions,
    stale,
    ...(total.gt(0) ? {} : { reason: 'total value is not positive: weights are undefined' }),
  };
}

/**
 * Current against target weights, per symbol (held symbols without a target have target 0), with
 * cash and the total. Prices: `host.latestPrices` (a stale last known price is used, and listed;
 * a target not held needs none).
 *
 * @throws FoliokitError `PORTFOLIO_NOT_FOUND`, `PRICE_UNAVAILABLE` (a held symbol has no price at
 *   all), `INVALID_CONFIGURATION`
 */
export async function getDrift(host: SnapshotHost, id: string): Promise<Drift> {
  const { state, targets, prices } = await loadModel(host, id);
  return {
    portfolioId: id,
    at: toIso(host.clock.now()),
    method: 'weights-on-total-value',
    ...computeDrift(state, targets, prices),
  };
}

/** A portfolio's holdings, targets and prices, read for a drift or a plan. */
export interface ModelInputs {
  state: HoldingsState;
  /** The portfolio's latest ledger instant (changes with every entry): fingerprints a plan. */
  ledgerAt: string | null;
  targets: ResolvedTarget[];
  prices: ReadonlyMap<string, HoldingPrice>;
}

/**
 * Reads holdings (one consistent read), targets, and the prices of held symbols and targets (a
 * target's price may be absent: only a held symbol needs one).
 */
export async function loadModel(host: SnapshotHost, id: string): Promise<ModelInputs> {
  checkId(id);
  const store = targetStore(host.store);
  const [found] = await store.readPortfolioStates([id]);
  if (!found) {
    throw new FoliokitError('PORTFOLIO_NOT_FOUND', `No portfolio with id ${id}`, {
      field: 'portfolioId',
      portfolioId: id,
    });
  }
  const targets = resolveTargets(await store.getTargets(id));
  const symbols = new Set(found.positions.filter((p) => p.quantity !== '0').map((p) => p.symbol));
  for (const t of targets) symbols.add(t.symbol);
  const prices = symbols.size === 0 ? new Map<string, HoldingPrice>() : await host.latestPrices([...symbols]);
  return { state: holdingsOf(found), ledgerAt: found.portfolio.ledgerAt, targets, prices };
}
