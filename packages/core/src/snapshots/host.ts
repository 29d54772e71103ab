/** What the snapshot code and the snapshot jobs need from the engine (the engine satisfies it). */
import type { FoliokitEvent } from '../events.js';
import type { Clock, Logger, MarketDataProvider, Store } from '../ports/index.js';
import type { HoldingPrice } from '../valuation/kernel.js';

/** What the snapshot code needs from the engine. */
export interface SnapshotHost {
  readonly store: Store;
  readonly marketData: MarketDataProvider;
  readonly clock: Clock;
  readonly logger: Logger;
  emit(event: FoliokitEvent): void;
  /** Latest prices: the provider's, else the store's last known (stale); absent when neither. */
  latestPrices(symbols: readonly string[]): Promise<ReadonlyMap<string, HoldingPrice>>;
  /** The engine's price book: its in-memory prices, read without I/O. */
  readonly priceBook?: { peek(symbol: string): HoldingPrice | undefined };
}
