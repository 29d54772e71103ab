/** Public result types of the engine (a valuation's are in `valuation/types.ts`). Every decimal is a string. */
import type { TransactionRow } from '../ports/index.js';

export type { Position, Valuation, ValuedPosition } from '../valuation/types.js';

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
