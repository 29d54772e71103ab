/**
 * A TTL cache with request coalescing in front of a provider.
 */
import {
  type CallOptions,
  type Clock,
  type DailyBar,
  type MarketDataProvider,
  normalizeSymbol,
  type Quote,
  type QuoteBatch,
  systemClock,
  validateBars,
  validateQuoteBatch,
} from '@foliokit/core';
import { checkNumberOption, checkRange, uniqueSymbols } from './inputs.js';
import { raceSignal } from './signals.js';
import { toProviderError } from './wrap.js';

/** Options of {@link withCache}. */
export interface WithCacheOptions {
  /** How long a quote is served from the cache, in ms. @default 15000 */
  ttlMs?: number;
  /** How long a symbol the provider did not know stays unknown, in ms. @default ttlMs */
  unknownTtlMs?: number;
  /** How long a history answer (per symbol and range) is served from the cache, in ms. @default 3600000 */
  historyTtlMs?: number;
  /** Most quotes and most history answers kept (each); the least recently used go first. @default 10000 */
  maxEntries?: number;
  /** The clock the TTLs run on. @default systemClock */
  clock?: Clock;
}

/** A cached provider: a {@link MarketDataProvider} whose cache can be cleared. */
export interface CachedProvider extends MarketDataProvider {
  /** Forgets everything cached for `symbol`, or everything when no symbol is given. */
  clear(symbol?: string): void;
}

interface Entry<T> {
  value: T;
  expiresAt: number;
}

/**
 * Caches the answers of `provider`: quotes per symbol for `ttlMs`, unknown symbols for
 * `unknownTtlMs`, history per (symbol, range) for `historyTtlMs`. Failures are not cached.
 *
 * Requests are coalesced: while a symbol's quote is being fetched, every other request for it
 * waits for that one fetch (100 concurrent `getQuotes(['AAPL'])` make one upstream call), and a
 * batch asks upstream only for the symbols neither cached nor in flight. The upstream call does
 * not get a caller's signal (other callers may share it); an aborted caller stops waiting at once.
 *
 * @example
 * ```ts
 * const market = withCache(createFailoverProvider([yahoo, av]), { ttlMs: 30_000 });
 * ```
 * @throws FoliokitError `INVALID_CONFIGURATION` for bad options.
 */
export function withCache(provider: MarketDataProvider, options: WithCacheOptions = {}): CachedProvider {
  const {
    ttlMs = 15_000,
    unknownTtlMs = ttlMs,
    historyTtlMs = 3_600_000,
    maxEntries = 10_000,
    clock = systemClock,
  } = options;
  checkNumberOption(ttlMs, 'ttlMs', 0);
  checkNumberOption(unknownTtlMs, 'unknownTtlMs', 0);
  checkNumberOption(historyTtlMs, 'historyTtlMs', 0);
  checkNumberOption(maxEntries, 'maxEntries', 1);

  /** Quote, or null for a symbol the provider does not know. */
  const quotes = new Map<string, Entry<Quote | null>>();
  const quotesInFlight = new Map<string, Promise<Quote | null>>();
  const histories = new Map<string, Entry<DailyBar[]>>();
  const historiesInFlight = new Map<string, Promise<DailyBar[]>>();

  const remember = <T>(map: Map<string, Entry<T>>, key: string, value: T, ttl: number): void => {
    map.delete(key);
    map.set(key, { value, expiresAt: clock.now() + ttl });
    if (map.size > maxEntries) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
  };
  const recall = <T>(map: Map<string, Entry<T>>, key: string): Entry<T> | undefined => {
    const entry = map.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= clock.now()) {
      map.delete(key);
      return undefined;
    }
    // Refresh its place for the least-recently-used order.
    map.delete(key);
    map.set(key, entry);
    return entry;
  };

  /** Starts one upstream call for `symbols`, registering a shared promise per symbol. */
  const fetchQuotes = (symbols: string[]): void => {
    const upstream = (async (): Promise<QuoteBatch> => {
      try {
        return validateQuoteBatch(await provider.getQuotes(symbols), symbols, provider.name);
      } catch (error) {
        throw toProviderError(error, provider.name);
      }
    })();
    for (const symbol of symbols) {
      const pending = upstream.then((batch) => {
        const quote = batch.quotes[symbol] ?? null;
        remember(quotes, symbol, quote, quote === null ? unknownTtlMs : ttlMs);
        return quote;
      });
      quotesInFlight.set(symbol, pending);
      const settle = (): void => {
        if (quotesInFlight.get(symbol) === pending) quotesInFlight.delete(symbol);
      };
      pending.then(settle, settle);
    }
  };

  const cached: CachedProvider = {
    name: provider.name,

    async getQuotes(symbols: readonly string[], callOptions?: CallOptions): Promise<QuoteBatch> {
      const wanted = uniqueSymbols(symbols);
      const known = new Map<string, Quote | null>();
      const missing: string[] = [];
      for (const symbol of wanted) {
        const entry = recall(quotes, symbol);
        if (entry !== undefined) known.set(symbol, entry.value);
        else if (!quotesInFlight.has(symbol)) missing.push(symbol);
      }
      if (missing.length > 0) fetchQuotes(missing);
      const waits = wanted
        .filter((symbol) => !known.has(symbol))
        .map(async (symbol) => [symbol, await (quotesInFlight.get(symbol) as Promise<Quote | null>)] as const);
      for (const [symbol, quote] of await raceSignal(Promise.all(waits), callOptions?.signal)) known.set(symbol, quote);
      const batch: QuoteBatch = { quotes: {}, unknown: [] };
      for (const symbol of wanted) {
        const quote = known.get(symbol);
        if (quote) batch.quotes[symbol] = quote;
        else batch.unknown.push(symbol);
      }
      return batch;
    },

    async getDailyHistory(symbol: string, range: { from: string; to: string }, callOptions?: CallOptions) {
      checkRange(range);
      const key = normalizeSymbol(symbol, 'symbol', { check: false });
      const cacheKey = `${key}|${range.from}|${range.to}`;
      const entry = recall(histories, cacheKey);
      if (entry !== undefined) return entry.value.map((bar) => ({ ...bar }));
      let pending = historiesInFlight.get(cacheKey);
      if (pending === undefined) {
        const started = (async (): Promise<DailyBar[]> => {
          try {
            const bars = validateBars(await provider.getDailyHistory(key, range), key, provider.name, range);
            remember(histories, cacheKey, bars, historyTtlMs);
            return bars;
          } catch (error) {
            throw toProviderError(error, provider.name);
          }
        })();
        pending = started;
        historiesInFlight.set(cacheKey, started);
        const settle = (): void => {
          if (historiesInFlight.get(cacheKey) === started) historiesInFlight.delete(cacheKey);
        };
        started.then(settle, settle);
      }
      const bars = await raceSignal(pending, callOptions?.signal);
      return bars.map((bar) => ({ ...bar }));
    },

    clear(symbol?: string): void {
      if (symbol === undefined) {
        quotes.clear();
        histories.clear();
        return;
      }
      const key = normalizeSymbol(symbol, 'symbol', { check: false });
      quotes.delete(key);
      for (const cacheKey of [...histories.keys()]) if (cacheKey.startsWith(`${key}|`)) histories.delete(cacheKey);
    },
  };
  if (provider.searchSymbols) {
    const search = provider.searchSymbols.bind(provider);
    cached.searchSymbols = async (query, callOptions) => {
      try {
        return await search(query, callOptions);
      } catch (error) {
        throw toProviderError(error, provider.name);
      }
    };
  }
  return cached;
}
