/**
 * Portfolio valuation, pure: positions × prices → valued positions and totals. The totals and each
 * position's amounts come from the totals kernel (`kernel.ts`), exact; percentages and weights are
 * statistics and may go through binary floats (DESIGN.md).
 */
import { type Dec, divideToString } from '../money/decimal.js';
import type { PortfolioRow, PositionRow } from '../ports/index.js';
import { valueHoldings } from './kernel.js';
import type { Position, Valuation, ValuedPosition } from './types.js';

/** A price the engine knows for a symbol (what the totals kernel reads, and where it came from). */
export interface KnownPrice {
  price: Dec;
  /** `price` printed once, canonically. */
  text: string;
  at: string;
  source: string;
  /** True when it is a last known price rather than a current one. */
  stale: boolean;
}

/**
 * A statistic (a percentage, a weight) as a decimal string with at most `places` decimals.
 */
export function ratioText(numerator: number, denominator: number, places: number): string | null {
  if (denominator === 0 || !Number.isFinite(numerator) || !Number.isFinite(denominator)) return null;
  const text = (numerator / denominator).toFixed(places);
  let end = text.length;
  if (text.includes('.')) {
    while (text.charCodeAt(end - 1) === 48) end--;
    if (text.charCodeAt(end - 1) === 46) end--;
  }
  const out = text.slice(0, end);
  return out === '-0' ? '0' : out;
}

/** Average cost: cost basis ÷ quantity, exact, rounded once to 12 places ("0" when flat). */
export function averageCostOf(row: Pick<PositionRow, 'quantity' | 'costBasis'>): string {
  return row.quantity === '0' ? '0' : divideToString(row.costBasis, row.quantity);
}

/** A stored position as users see it: with its average cost. */
export function positionOf(row: PositionRow): Position {
  return {
    symbol: row.symbol,
    quantity: row.quantity,
    costBasis: row.costBasis,
    averageCost: averageCostOf(row),
    realizedPnl: row.realizedPnl,
    openedAt: row.openedAt,
  };
}

/** Values open positions (quantity ≠ 0) of a portfolio at the given prices. */
export function valuePortfolio(
  portfolio: PortfolioRow,
  rows: readonly PositionRow[],
  prices: ReadonlyMap<string, KnownPrice>,
  at: string,
): Valuation {
  const positions: ValuedPosition[] = [];
  /** Each position's market value as a number, NaN when unpriced: for the weights. */
  const mvNumbers: number[] = [];
  const { totals, unpriced, stale } = valueHoldings(portfolio.cash, rows, prices, (row, known, amounts) => {
    // Spelled out, not spread from positionOf: a spread here made valuations of 1,000 positions ~3× slower.
    const position: ValuedPosition = {
      symbol: row.symbol,
      quantity: row.quantity,
      costBasis: row.costBasis,
      averageCost: averageCostOf(row),
      realizedPnl: row.realizedPnl,
      openedAt: row.openedAt,
      price: null,
      priceAt: null,
      priceSource: null,
      stale: false,
      marketValue: null,
      unrealizedPnl: null,
      unrealizedPnlPercent: null,
      weight: null,
    };
    if (known && amounts) {
      position.price = known.text;
      position.priceAt = known.at;
      position.priceSource = known.source;
      position.stale = known.stale;
      position.marketValue = amounts.marketValue;
      position.unrealizedPnl = amounts.unrealizedPnl;
      position.unrealizedPnlPercent = ratioText(Number(amounts.unrealizedPnl) * 100, Number(row.costBasis), 4);
      mvNumbers.push(Number(amounts.marketValue));
    } else {
      mvNumbers.push(Number.NaN);
    }
    positions.push(position);
  });
  const total = Number(totals.totalValue);
  for (let i = 0; i < positions.length; i++) {
    const mv = mvNumbers[i] as number;
    if (!Number.isNaN(mv)) (positions[i] as ValuedPosition).weight = ratioText(mv, total, 6);
  }
  return {
    portfolioId: portfolio.id,
    baseCurrency: portfolio.baseCurrency,
    at,
    cash: portfolio.cash,
    positions,
    totals: {
      marketValue: totals.marketValue,
      totalValue: totals.totalValue,
      costBasis: totals.costBasis,
      unrealizedPnl: totals.unrealizedPnl,
      realizedPnl: portfolio.realizedPnl,
      netDeposits: portfolio.netDeposits,
    },
    unpriced,
    stale,
  };
}
