/**
 * `createMarketData`: one option to point the engine at a real source, with the resilience a
 * production app wants already composed — per source a timeout, retries with capped exponential
 * backoff and jitter, a rate limit where the source has one; failover across several sources with
 * a circuit per source; and a TTL cache with request coalescing in front of it all.
 */
import { type Clock, FoliokitError, type MarketDataProvider, systemClock } from '@foliokit/core';
import { createAlphaVantageProvider } from './alpha-vantage.js';
import { createFailoverProvider, type ProviderStatus } from './failover.js';
import { createSimulatedProvider } from './simulated.js';
import { withCache } from './with-cache.js';
import { withRateLimit } from './with-rate-limit.js';
import { withRetry } from './with-retry.js';
import { withTimeout } from './with-timeout.js';
import { createYahooProvider } from './yahoo.js';

/** One market-data source. A bare name works for sources that need no options. */
export type MarketDataSource =
  | 'yahoo'
  | 'simulated'
  | { source: 'yahoo'; baseUrl?: string }
  | {
      source: 'alpha-vantage';
      apiKey: string;
      baseUrl?: string;
      /** Calls allowed per minute. @default 5 (the free tier) */
      callsPerMinute?: number;
    }
  | { source: 'simulated'; seed?: number | string };

/** Options of {@link createMarketData}. */
export interface CreateMarketDataOptions {
  /** The source, or several in order of preference (the next is used while one is failing). */
  source: MarketDataSource | readonly MarketDataSource[];
  /** Per request: from when it is sent (a wait for a rate-limit slot does not count). @default 10_000 */
  timeoutMs?: number;
  /** Retries per call on timeouts, network errors, 5xx and 429. @default 2 */
  retries?: number;
  /** How long a quote is reused. @default 15_000 */
  cacheTtlMs?: number;
  /** How long a failing source is skipped before it is tried again. @default 60_000 */
  cooldownMs?: number;
  /** For tests. @default systemClock */
  clock?: Clock;
  /** The fetch the HTTP sources use. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
}

/** The composed provider: a `MarketDataProvider` that also reports each source's health. */
export interface MarketData extends MarketDataProvider {
  /** Each source's circuit: healthy, open or half-open, last success and error, counts. */
  getStatus(): ProviderStatus[];
  /** Drops cached quotes (all, or one symbol's). */
  clearCache(symbol?: string): void;
}

const FIFTEEN_MINUTES = 15 * 60_000;

/**
 * Builds a resilient market-data provider from one option.
 *
 * @example
 * ```ts
 * const engine = createPortfolioEngine({ store, marketData: createMarketData({ source: 'yahoo' }) });
 * const withBackup = createMarketData({
 *   source: ['yahoo', { source: 'alpha-vantage', apiKey: process.env.AV_KEY! }],
 * });
 * ```
 * @throws FoliokitError `INVALID_CONFIGURATION` naming the source at fault.
 */
export function createMarketData(options: CreateMarketDataOptions): MarketData {
  const { timeoutMs = 10_000, retries = 2, cacheTtlMs = 15_000, cooldownMs = 60_000, clock = systemClock } = options;
  const list = (Array.isArray(options.source) ? options.source : [options.source]) as MarketDataSource[];
  if (list.length === 0) {
    throw new FoliokitError('INVALID_CONFIGURATION', 'createMarketData needs at least one source', { field: 'source' });
  }
  let pollMs = Number.POSITIVE_INFINITY;
  const providers = list.map((entry, i) => {
    const spec = typeof entry === 'string' ? { source: entry } : entry;
    const field = Array.isArray(options.source) ? `source.${i}` : 'source';
    const fetchOption = options.fetch ? { fetch: options.fetch } : {};
    /** The source with a deadline on each request (and its rate limit, where it has one). */
    let provider: MarketDataProvider;
    switch (spec.source) {
      case 'simulated': {
        const sim = createSimulatedProvider({
          seed: 'seed' in spec && spec.seed !== undefined ? spec.seed : 42,
          clock,
        });
        pollMs = Math.min(pollMs, sim.suggestedPollIntervalMs ?? 5_000);
        return sim;
      }
      case 'yahoo': {
        const yahoo = createYahooProvider({
          clock,
          ...fetchOption,
          ...('baseUrl' in spec && spec.baseUrl ? { baseUrl: spec.baseUrl } : {}),
        });
        provider = withTimeout(yahoo, timeoutMs, { clock });
        break;
      }
      case 'alpha-vantage': {
        if (typeof spec.apiKey !== 'string' || spec.apiKey.length === 0) {
          throw new FoliokitError('INVALID_CONFIGURATION', 'alpha-vantage needs an apiKey', {
            field: `${field}.apiKey`,
          });
        }
        const perMinute = spec.callsPerMinute ?? 5;
        const alphaVantage = createAlphaVantageProvider({
          apiKey: spec.apiKey,
          clock,
          ...fetchOption,
          ...(spec.baseUrl ? { baseUrl: spec.baseUrl } : {}),
        });
        // One request per symbol, each taking a slot, one at a time; the timeout inside the limit
        // covers the request alone, never the wait for a slot.
        provider = withRateLimit(withTimeout(alphaVantage, timeoutMs, { clock }), {
          intervalCap: perMinute,
          interval: 60_000,
          concurrency: 1,
          perSymbol: true,
        });
        break;
      }
      default:
        throw new FoliokitError(
          'INVALID_CONFIGURATION',
          `Unknown market-data source ${JSON.stringify((spec as { source?: unknown }).source)}; use yahoo, alpha-vantage or simulated`,
          { field },
        );
    }
    pollMs = Math.min(pollMs, FIFTEEN_MINUTES);
    // Each attempt of a retry is a request of its own: it waits for its slot and gets its deadline.
    return withRetry(provider, { retries, clock });
  });
  const failover = createFailoverProvider(providers, { cooldownMs, clock, name: 'market-data' });
  const cached = withCache(failover, { ttlMs: cacheTtlMs, clock });
  return {
    name: list.length === 1 ? (providers[0]?.name ?? 'market-data') : 'market-data',
    suggestedPollIntervalMs: Number.isFinite(pollMs) ? pollMs : FIFTEEN_MINUTES,
    getQuotes: (symbols, callOptions) => cached.getQuotes(symbols, callOptions),
    getDailyHistory: (symbol, range, callOptions) => cached.getDailyHistory(symbol, range, callOptions),
    ...(cached.searchSymbols ? { searchSymbols: cached.searchSymbols.bind(cached) } : {}),
    getStatus: () => failover.getStatus(),
    clearCache: (symbol) => cached.clear(symbol),
  };
}
