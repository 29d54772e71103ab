/**
 * Valuation math, pure: positions × prices → valued positions and totals. Exact decimals for every
 * amount; percentages and weights are statistics and may go through binary floats (DESIGN.md).
 */

import type { Valuation, ValuedPosition } from '../engine/types.js';
import { type Dec, dec, divideToString, fmt, ZERO } from '../money/decimal.js';
import type { PortfolioRow, PositionRow } from '../ports/index.js';

/** A price the engine knows for a symbol. */
export interface KnownPrice {
  price: Dec;
  /** `price` printed once, canonically. */
  text: string;
  at: string;
  source: string;
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

/** Values open positions (quantity ≠ 0) of a portfolio at the given prices. */
export function valuePortfolio(
  portfolio: PortfolioRow,
  rows: readonly PositionRow[],
  prices: ReadonlyMap<string, KnownPrice>,
  at: string,
): Valuation {
  const cash = dec(portfolio.cash);
  let marketValue = ZERO;
  let costBasis = ZERO;
  const unpriced: string[] = [];
  const stale: string[] = [];
  const positions: ValuedPosition[] = [];
  const mvNumbers: number[] = [];
  for (const row of rows) {
    if (row.quantity === '0') continue;
    const known = prices.get(row.symbol);
    const position: ValuedPosition = {
      symbol: row.symbol,
      quantity: row.quantity,
      costBasis: row.costBasis,
      averageCost: divideToString(row.costBasis, row.quantity),
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
    if (known) {
      const cost = dec(row.costBasis);
      const mv = dec(row.quantity).times(known.price);
      const pnl = mv.minus(cost);
      marketValue = marketValue.plus(mv);
      costBasis = costBasis.plus(cost);
      position.price = known.text;
      position.priceAt = known.at;
      position.priceSource = known.source;
      position.stale = known.stale;
      position.marketValue = fmt(mv);
      position.unrealizedPnl = fmt(pnl);
      position.unrealizedPnlPercent = ratioText(pnl.toNumber() * 100, cost.toNumber(), 4);
      if (known.stale) stale.push(row.symbol);
      mvNumbers.push(mv.toNumber());
    } else {
      unpriced.push(row.symbol);
      mvNumbers.push(Number.NaN);
    }
    positions.push(position);
  }
  const totalValue = cash.plus(marketValue);
  const total = totalValue.toNumber();
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
      marketValue: fmt(marketValue),
      totalValue: fmt(totalValue),
      costBasis: fmt(costBasis),
      unrealizedPnl: fmt(marketValue.minus(costBasis)),
      realizedPnl: portfolio.realizedPnl,
      netDeposits: portfolio.netDeposits,
    },
    unpriced,
    stale,
  };
}
