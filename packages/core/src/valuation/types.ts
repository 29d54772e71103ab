/** Public result types of a valuation: positions with their prices, and the portfolio's totals. */
import type { PortfolioTotals } from '../ports/index.js';

/** An open position (quantity > 0). */
export interface Position {
  symbol: string;
  quantity: string;
  /** Total cost of the shares held, buy fees included. */
  costBasis: string;
  /** costBasis / quantity, rounded to 12 decimal places. */
  averageCost: string;
  /** Realized P&L of this symbol's sells so far. */
  realizedPnl: string;
  openedAt: string | null;
}

/** A position in a valuation. */
export interface ValuedPosition extends Position {
  /** Latest price, or null when no price is known (the position is then left out of the totals). */
  price: string | null;
  priceAt: string | null;
  /** Where the price came from (provider name), or null. */
  priceSource: string | null;
  /** True when the price came from the last known price because the provider could not answer. */
  stale: boolean;
  marketValue: string | null;
  unrealizedPnl: string | null;
  /** Unrealized P&L as a percentage of cost basis (`"12.5"` is 12.5 %), 4 decimal places. */
  unrealizedPnlPercent: string | null;
  /** Share of the priced market value plus cash, 0..1, 6 decimal places. */
  weight: string | null;
}

/** A portfolio's value now. */
export interface Valuation {
  portfolioId: string;
  baseCurrency: string;
  /** When the valuation was computed. */
  at: string;
  cash: string;
  positions: ValuedPosition[];
  totals: PortfolioTotals;
  /** Symbols with no price at all, left out of the totals. */
  unpriced: string[];
  /** Symbols valued at a stale price. */
  stale: string[];
}
