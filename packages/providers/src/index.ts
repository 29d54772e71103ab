/**
 * @packageDocumentation
 * `@foliokit/providers`: market-data providers for foliokit (simulated, static, CSV, Alpha Vantage,
 * Yahoo Finance) and the wrappers that make any provider resilient (timeout, retry, rate limit,
 * cache, failover). Every export returns a `MarketDataProvider`, so they compose.
 */

/** The shared quote and bar validation lives in core; re-exported here as before. */
export {
  isPositiveDecimalString,
  validateBars,
  validateQuote,
  validateQuoteBatch,
} from '@foliokit/core';
export { type AlphaVantageProviderOptions, createAlphaVantageProvider } from './alpha-vantage.js';
export { type CsvProviderOptions, createCsvProvider } from './csv.js';
export {
  type CircuitState,
  createFailoverProvider,
  type FailoverOptions,
  type FailoverProvider,
  type ProviderStatus,
} from './failover.js';
export { parseRetryAfter } from './fetch-json.js';
export {
  type CreateMarketDataOptions,
  createMarketData,
  type MarketData,
  type MarketDataSource,
} from './market-data.js';
export { readPrice } from './read-decimal.js';
export {
  createSimulatedProvider,
  DEFAULT_SIMULATED_SYMBOLS,
  type SimulatedProvider,
  type SimulatedProviderOptions,
  type SimulatedSymbol,
} from './simulated.js';
export { createStaticProvider, type StaticProvider, type StaticProviderOptions } from './static.js';
export { type CachedProvider, type WithCacheOptions, withCache } from './with-cache.js';
export { type WithRateLimitOptions, withRateLimit } from './with-rate-limit.js';
export { RETRYABLE_CODES, type RetryEvent, type WithRetryOptions, withRetry } from './with-retry.js';
export { type WithTimeoutOptions, withTimeout } from './with-timeout.js';
export { type ProviderOperation, toProviderError, type WrappedCall, wrapProvider } from './wrap.js';
export { createYahooProvider, type YahooProviderOptions } from './yahoo.js';
