/**
 * A client-side rate limit in front of a provider, on p-queue.
 */
import { FoliokitError, type MarketDataProvider, type QuoteBatch } from '@foliokit/core';
import PQueue from 'p-queue';
import { checkNumberOption, uniqueSymbols } from './inputs.js';
import { abortError } from './signals.js';
import { wrapProvider } from './wrap.js';

/** Options of {@link withRateLimit}. */
export interface WithRateLimitOptions {
  /** Calls started per `interval`. */
  intervalCap: number;
  /** The window of `intervalCap`, in ms. */
  interval: number;
  /** Calls in flight at once. @default Infinity */
  concurrency?: number;
  /**
   * A sliding window (no more than `intervalCap` starts in any `interval`), rather than fixed
   * windows that allow a burst of 2 × intervalCap across a boundary.
   * @default true
   */
  strict?: boolean;
  /**
   * Calls allowed to wait; one more is refused at once with `PROVIDER_RATE_LIMITED` rather than
   * queued without bound.
   * @default Infinity
   */
  maxQueueSize?: number;
  /**
   * Split `getQuotes` batches into one call per symbol, each counted against the limit — for
   * providers that make one upstream request per symbol (Alpha Vantage, Yahoo).
   * @default false
   */
  perSymbol?: boolean;
}

/**
 * Limits how fast calls reach `provider`: at most `intervalCap` calls start per `interval` ms and
 * at most `concurrency` run at once; the others wait in order. A waiting call whose signal aborts
 * leaves the queue. The queue runs on real timers (p-queue), not on an injected clock.
 *
 * @example
 * ```ts
 * // Alpha Vantage's free tier: 5 calls a minute.
 * const av = withRateLimit(createAlphaVantageProvider({ apiKey }), { intervalCap: 5, interval: 60_000, perSymbol: true });
 * ```
 * @throws FoliokitError `INVALID_CONFIGURATION` for bad options.
 */
export function withRateLimit(provider: MarketDataProvider, options: WithRateLimitOptions): MarketDataProvider {
  const {
    intervalCap,
    interval,
    concurrency = Number.POSITIVE_INFINITY,
    strict = true,
    maxQueueSize = Number.POSITIVE_INFINITY,
    perSymbol = false,
  } = options ?? ({} as WithRateLimitOptions);
  checkNumberOption(intervalCap, 'intervalCap', 1);
  checkNumberOption(interval, 'interval', 0, 2_147_483_647);
  checkNumberOption(concurrency, 'concurrency', 1);
  checkNumberOption(maxQueueSize, 'maxQueueSize', 0);
  const queue = new PQueue({ intervalCap, interval, concurrency, strict });

  const limited = wrapProvider(provider, async ({ signal, call }) => {
    if (queue.size >= maxQueueSize) {
      throw new FoliokitError(
        'PROVIDER_RATE_LIMITED',
        `${provider.name}: ${queue.size} calls already wait for the rate limit`,
        {
          provider: provider.name,
          queued: queue.size,
          retryAfterMs: interval,
        },
      );
    }
    try {
      return await queue.add(() => call(signal), signal ? { signal } : {});
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      throw error;
    }
  });
  if (!perSymbol) return limited;
  return {
    ...limited,
    async getQuotes(symbols, callOptions): Promise<QuoteBatch> {
      const singles = await Promise.all(
        uniqueSymbols(symbols).map((symbol) => limited.getQuotes([symbol], callOptions)),
      );
      const merged: QuoteBatch = { quotes: {}, unknown: [] };
      for (const batch of singles) {
        Object.assign(merged.quotes, batch.quotes);
        merged.unknown.push(...batch.unknown);
      }
      return merged;
    },
  };
}
