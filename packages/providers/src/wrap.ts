/**
 * The frame every wrapper is built on: one `around` function sees each call of the inner provider;
 * whatever the inner provider throws comes out as a FoliokitError, and whatever it answers is
 * validated before it is passed on.
 */
import {
  type CallOptions,
  type DailyBar,
  type FoliokitError,
  isFoliokitError,
  type MarketDataProvider,
  normalizeSymbol,
  type QuoteBatch,
  type SymbolMatch,
  validateBars,
  validateQuoteBatch,
  wrapError,
} from '@foliokit/core';
import { checkRange, uniqueSymbols } from './inputs.js';

/** The provider operations a wrapper sees. */
export type ProviderOperation = 'getQuotes' | 'getDailyHistory' | 'searchSymbols';

/** One call as a wrapper sees it: run `call` (as often as it likes) with a signal of its choosing. */
export interface WrappedCall<T> {
  operation: ProviderOperation;
  /** The symbols of the call (one for history, none for search). */
  symbols: readonly string[];
  /** The caller's signal. */
  signal: AbortSignal | undefined;
  /** Calls the inner provider; rejects only with FoliokitErrors. */
  call: (signal?: AbortSignal) => Promise<T>;
}

/** Turns anything a provider throws into a FoliokitError (`PROVIDER_ERROR` when it was not one). */
export function toProviderError(error: unknown, provider: string): FoliokitError {
  if (isFoliokitError(error)) return error;
  return wrapError(error, 'PROVIDER_ERROR', `${provider} failed`, { provider });
}

/**
 * Builds a provider that runs every call of `inner` through `around`, then validates the answer.
 * `searchSymbols` exists only when `inner` has it.
 */
export function wrapProvider(
  inner: MarketDataProvider,
  around: <T>(call: WrappedCall<T>) => Promise<T>,
  name: string = inner.name,
): MarketDataProvider {
  const guard =
    <T>(fn: (signal?: AbortSignal) => Promise<T>) =>
    (signal?: AbortSignal): Promise<T> => {
      try {
        return fn(signal).catch((error: unknown) => {
          throw toProviderError(error, inner.name);
        });
      } catch (error) {
        return Promise.reject(toProviderError(error, inner.name));
      }
    };
  const options = (signal?: AbortSignal): CallOptions | undefined => (signal ? { signal } : undefined);

  const wrapped: MarketDataProvider = {
    name,
    async getQuotes(symbols: readonly string[], callOptions?: CallOptions): Promise<QuoteBatch> {
      const wanted = uniqueSymbols(symbols);
      if (wanted.length === 0) return { quotes: {}, unknown: [] };
      const batch = await around<QuoteBatch>({
        operation: 'getQuotes',
        symbols: wanted,
        signal: callOptions?.signal,
        call: guard((signal) => inner.getQuotes(wanted, options(signal))),
      });
      return validateQuoteBatch(batch, wanted, inner.name);
    },
    async getDailyHistory(symbol: string, range: { from: string; to: string }, callOptions?: CallOptions) {
      checkRange(range);
      const key = normalizeSymbol(symbol, 'symbol', { check: false });
      const bars = await around<DailyBar[]>({
        operation: 'getDailyHistory',
        symbols: [key],
        signal: callOptions?.signal,
        call: guard((signal) => inner.getDailyHistory(key, range, options(signal))),
      });
      return validateBars(bars, key, inner.name, range);
    },
  };
  const search = inner.searchSymbols?.bind(inner);
  if (search) {
    wrapped.searchSymbols = (query: string, callOptions?: CallOptions): Promise<SymbolMatch[]> =>
      around<SymbolMatch[]>({
        operation: 'searchSymbols',
        symbols: [],
        signal: callOptions?.signal,
        call: guard((signal) => search(query, options(signal))),
      });
  }
  return wrapped;
}
