/**
 * The one totals kernel: a portfolio's holdings at prices → market value, total value, cost basis
 * and unrealized P&L, with the symbols it could not price. Valuations, post-trade and manual
 * snapshots and the interval and daily jobs get their totals here; backfill's day walk sums with
 * the same primitives ({@link holdingValue}, {@link scaledTotals}) and is property-tested against
 * {@link valueHoldings} day by day.
 *
 * The rule, written once:
 * - a holding with quantity `"0"` is skipped;
 * - a holding with no price is left out of market value and cost basis, flagged `SYM:unpriced`;
 * - a holding at a last known price is counted, flagged `SYM:stale`;
 * - totalValue = cash + marketValue; unrealizedPnl = marketValue − costBasis.
 *
 * Exact, on bigints: quantities and prices scaled by 10^18, amounts by 10^36 (every value the
 * engine accepts fits). Anything wider (a price with more decimals, a value printed with an
 * exponent) is summed again at a scale wide enough for it, never rounded.
 */
import { type Dec, dec, fmt } from '../money/decimal.js';
import { formatScaled, parseScaled } from '../money/fixed.js';
import type { PortfolioTotals } from '../ports/index.js';

/** Scale of quantities and prices: the engine accepts at most 18 decimals. */
export const QUANTITY_SCALE = 18;
/** Scale of amounts: a quantity times a price has at most 36 decimals. */
export const AMOUNT_SCALE = 2 * QUANTITY_SCALE;

/** A holding as the kernel reads it (a position row fits). */
export interface Holding {
  symbol: string;
  quantity: string;
  costBasis: string;
}

/** A price as the kernel reads it. */
export interface HoldingPrice {
  price: Dec;
  /** True when it is a last known price rather than a current one. */
  stale: boolean;
}

/** The totals the kernel computes; realized P&L and net deposits are the ledger's, carried over. */
export type ComputedTotals = Pick<PortfolioTotals, 'marketValue' | 'totalValue' | 'costBasis' | 'unrealizedPnl'>;

/** What {@link valueHoldings} returns. */
export interface HoldingsValue {
  totals: ComputedTotals;
  /** Symbols held but priced nowhere: left out of the totals. */
  unpriced: string[];
  /** Symbols valued at a last known price. */
  stale: string[];
  /** `SYM:unpriced` and `SYM:stale`, in holdings order. */
  flags: string[];
}

/** One priced holding's exact amounts. */
export interface HoldingAmounts {
  /** quantity × price. */
  marketValue: string;
  /** marketValue − costBasis. */
  unrealizedPnl: string;
}

/**
 * Called once per open holding (quantity ≠ "0"), in order, after the totals are summed: with its
 * price and amounts, or with `undefined` and `null` when it is unpriced.
 */
export type HoldingVisitor<H, P> = (holding: H, price: P | undefined, amounts: HoldingAmounts | null) => void;

/** The flag of a holding left out for want of any price. */
export function unpricedFlag(symbol: string): string {
  return `${symbol}:unpriced`;
}

/** The flag of a holding valued at a last known price. */
export function staleFlag(symbol: string): string {
  return `${symbol}:stale`;
}

/** One holding's market value: quantity × price, both scaled by 10^s, scaled by 10^2s. */
export function holdingValue(quantity: bigint, price: bigint): bigint {
  return quantity * price;
}

/**
 * The computed totals from sums scaled by `10^scale`, printed like `fmt`. `costBasisText`: the
 * cost basis already printed, for a caller that keeps it across calls (backfill's walk).
 */
export function scaledTotals(
  cash: bigint,
  marketValue: bigint,
  costBasis: bigint,
  scale: number = AMOUNT_SCALE,
  costBasisText: string = formatScaled(costBasis, scale),
): ComputedTotals {
  return {
    marketValue: formatScaled(marketValue, scale),
    totalValue: formatScaled(cash + marketValue, scale),
    costBasis: costBasisText,
    unrealizedPnl: formatScaled(marketValue - costBasis, scale),
  };
}

/**
 * Values holdings at prices: the totals, the symbols left out or stale, and (through `visit`)
 * each open holding's amounts. `cash` is the portfolio's cash, added into the total value.
 */
export function valueHoldings<H extends Holding, P extends HoldingPrice>(
  cash: string,
  holdings: Iterable<H>,
  prices: ReadonlyMap<string, P>,
  visit?: HoldingVisitor<H, P>,
): HoldingsValue {
  const list = Array.isArray(holdings) ? (holdings as readonly H[]) : [...holdings];
  const fast = sumAt(QUANTITY_SCALE, false, cash, list, prices, visit);
  if (fast) return fast;
  // Every value is read at a scale wide enough for it, so this pass cannot refuse one.
  return sumAt(scaleFor(cash, list, prices), true, cash, list, prices, visit) as HoldingsValue;
}

/** A price as a bigint scaled by 10^18, computed once per price object. */
const scaledPrices = new WeakMap<object, bigint | null>();
function priceScaled(price: Dec): bigint | null {
  let v = scaledPrices.get(price);
  if (v === undefined) {
    v = parseScaled(fmt(price), QUANTITY_SCALE);
    scaledPrices.set(price, v);
  }
  return v;
}

const PLAIN = /^-?\d+(?:\.\d+)?$/;

/** A decimal string in plain notation (a trusted value printed with an exponent is read through `Dec`). */
function plain(text: string): string {
  return PLAIN.test(text) ? text : fmt(dec(text));
}

/**
 * The kernel's one pass at quantity/price scale `scale` (amounts at twice that). Null when a value
 * does not fit (only when not `wide`: a wide pass reads every text through {@link plain}).
 */
function sumAt<H extends Holding, P extends HoldingPrice>(
  scale: number,
  wide: boolean,
  cashText: string,
  list: readonly H[],
  prices: ReadonlyMap<string, P>,
  visit: HoldingVisitor<H, P> | undefined,
): HoldingsValue | null {
  const amountScale = 2 * scale;
  let marketValue = 0n;
  let costBasis = 0n;
  const unpriced: string[] = [];
  const stale: string[] = [];
  const flags: string[] = [];
  // Kept for the visitor only: each open holding with its price, value and cost.
  const seen: Array<{ h: H; p: P | undefined; v: bigint; c: bigint }> | undefined = visit ? [] : undefined;
  for (const h of list) {
    if (h.quantity === '0') continue;
    const p = prices.get(h.symbol);
    if (!p) {
      unpriced.push(h.symbol);
      flags.push(unpricedFlag(h.symbol));
      seen?.push({ h, p, v: 0n, c: 0n });
      continue;
    }
    const q = parseScaled(wide ? plain(h.quantity) : h.quantity, scale);
    const c = parseScaled(wide ? plain(h.costBasis) : h.costBasis, amountScale);
    const price = wide ? parseScaled(fmt(p.price), scale) : priceScaled(p.price);
    if (q === null || c === null || price === null) return null;
    const v = holdingValue(q, price);
    marketValue += v;
    costBasis += c;
    seen?.push({ h, p, v, c });
    if (p.stale) {
      stale.push(h.symbol);
      flags.push(staleFlag(h.symbol));
    }
  }
  const cash = parseScaled(wide ? plain(cashText) : cashText, amountScale);
  if (cash === null) return null;
  const totals = scaledTotals(cash, marketValue, costBasis, amountScale);
  if (seen && visit) {
    for (const { h, p, v, c } of seen) {
      const amounts = p
        ? { marketValue: formatScaled(v, amountScale), unrealizedPnl: formatScaled(v - c, amountScale) }
        : null;
      visit(h, p, amounts);
    }
  }
  return { totals, unpriced, stale, flags };
}

/** A quantity/price scale at which every value of a valuation is exact. */
function scaleFor(cash: string, list: readonly Holding[], prices: ReadonlyMap<string, HoldingPrice>): number {
  const places = (text: string) => dec(text).decimalPlaces();
  let scale = Math.max(QUANTITY_SCALE, Math.ceil(places(cash) / 2));
  for (const h of list) {
    const p = prices.get(h.symbol);
    if (h.quantity === '0' || !p) continue;
    scale = Math.max(scale, places(h.quantity), p.price.decimalPlaces(), Math.ceil(places(h.costBasis) / 2));
  }
  return scale;
}
