/** Public result types of the engine (a valuation's are in `valuation/types.ts`). Every decimal is a string. */
import type { SchedulerStatus } from '../jobs/scheduler.js';
import type { PortfolioRow, TransactionRow } from '../ports/index.js';
import type { ProviderStatus } from '../prices/price-book.js';

export type { Position, Valuation, ValuedPosition } from '../valuation/types.js';

/** A portfolio. */
export type Portfolio = PortfolioRow;

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

/** What `engine.checkHealth()` reports (the HTTP layer's `/health`). */
export interface EngineHealth {
  /** The store answers and the engine is open. */
  ok: boolean;
  closed: boolean;
  store: { ok: boolean; name: string; error?: string };
  scheduler: SchedulerStatus;
  provider: ProviderStatus;
}
