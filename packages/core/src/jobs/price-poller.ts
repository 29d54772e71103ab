/**
 * The price poller: a scheduled job that refreshes, through the price book, every symbol held in a
 * portfolio or on a watchlist, in the book's batches (the provider's own rate limit wrapper paces
 * them), emitting `price.updated` per changed symbol. A failing provider fails that tick and is
 * retried at the next one: the poller never stops on an error.
 */
import { FoliokitError } from '../errors.js';
import type { PriceRefreshReport } from '../prices/price-book.js';
import { BUILT_IN_JOB_NAMES, type JobDefinition } from './scheduler.js';

/** Name of the price poller job. */
export const PRICE_POLLER_JOB = BUILT_IN_JOB_NAMES.prices;

/** The default period for providers that suggest none (external sources): 15 minutes. */
export const DEFAULT_POLL_INTERVAL_MS = 15 * 60_000;

/** What the poller needs of the engine. */
export interface PollerHost {
  listActiveSymbols(): Promise<string[]>;
  refresh(symbols: readonly string[]): Promise<PriceRefreshReport>;
}

/** The job. Every instance polls (each keeps its own in-memory book fresh; the store upsert keeps the newest). */
export function pricePollerJob(host: PollerHost, everyMs: number, retryDelayMs?: number): JobDefinition {
  return {
    name: PRICE_POLLER_JOB,
    schedule: { everyMs },
    exclusive: false,
    ...(retryDelayMs !== undefined ? { retryDelayMs } : {}),
    async run() {
      const symbols = await host.listActiveSymbols();
      const report = await host.refresh(symbols);
      if (symbols.length > 0 && report.failed.length === symbols.length) {
        const codes = [...new Set(report.failed.map((f) => f.code))];
        throw new FoliokitError('PROVIDER_UNAVAILABLE', `No symbol could be refreshed (${codes.join(', ')})`, {
          report,
        });
      }
      return report;
    },
  };
}
