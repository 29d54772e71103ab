/** The options of `createPortfolioEngine`: the ports the engine runs on, and its tunables. */
import type { Clock, Logger, MarketDataProvider, Store } from '../ports/index.js';
import type { SnapshotOptions } from '../snapshots/options.js';

/** Options of `createPortfolioEngine`. */
export interface CreatePortfolioEngineOptions {
  /** Where portfolios live: `createSqliteStore(...)`, `createPostgresStore(...)` or your own. */
  store: Store;
  /** Where prices come from: `createSimulatedProvider(...)`, a real provider, or your own. */
  marketData: MarketDataProvider;
  /** Time source. @default systemClock */
  clock?: Clock;
  /** Where the engine logs (listener errors, provider fallbacks). @default consoleLogger (warnings and errors) */
  logger?: Logger;
  /** The price book: how long a price is fresh, and how many symbols one provider call asks for. */
  prices?: PriceOptions;
  /** Snapshots: after each trade, the interval, backfill limits (docs/snapshots.md). @default {} (see {@link SnapshotOptions}) */
  snapshots?: SnapshotOptions;
}

/** Options of the engine's price book. */
export interface PriceOptions {
  /**
   * A price older than this (since the provider last confirmed it) is asked for again before a
   * valuation or a market fill uses it. @default 15_000
   */
  maxAgeMs?: number;
  /** Symbols per provider call when refreshing. @default 100 */
  batchSize?: number;
}
