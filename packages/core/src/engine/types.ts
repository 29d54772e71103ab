/** Public result types of the engine (a valuation's are in `valuation/types.ts`). Every decimal is a string. */
import type { CostBasisMethod, TransactionRow } from '../ports/index.js';

export type { Position, Valuation, ValuedPosition } from '../valuation/types.js';

/** A portfolio, as the public API shows it. Every decimal is a string. */
export interface Portfolio {
  id: string;
  /** The user or account it belongs to. */
  ownerId: string | null;
  name: string;
  description: string | null;
  /** ISO 4217 code. */
  baseCurrency: string;
  costBasisMethod: CostBasisMethod;
  cash: string;
  /** Deposits minus withdrawals. */
  netDeposits: string;
  /** Realized P&L of every sell. */
  realizedPnl: string;
  /** The latest `executedAt` of its ledger entries that are not void (null before the first). */
  ledgerAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A ledger entry, as the public API shows it. */
export type Transaction = Omit<TransactionRow, 'requestHash'>;

/** A page of a cursor-paginated list. Pass `nextCursor` back as `cursor` for the next page. */
export interface Page<T> {
  items: T[];
  /** Null on the last page. */
  nextCursor: string | null;
}

/** A symbol on a watchlist. */
export interface WatchlistItem {
  symbol: string;
  addedAt: string;
}
