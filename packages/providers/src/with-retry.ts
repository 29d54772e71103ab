/**
 * Retries of transient failures, with capped exponential backoff and full jitter.
 */
import { type Clock, type ErrorCode, type FoliokitError, type MarketDataProvider, systemClock } from '@foliokit/core';
import { checkNumberOption } from './inputs.js';
import { sleep } from './signals.js';
import { type ProviderOperation, wrapProvider } from './wrap.js';

/** What {@link WithRetryOptions.onRetry} is told before each wait. */
export interface RetryEvent {
  operation: ProviderOperation;
  /** The retry about to be made: 1 for the second attempt. */
  attempt: number;
  /** How long the wrapper waits before it. */
  delayMs: number;
  /** The failure that caused it. */
  error: FoliokitError;
}

/** Options of {@link withRetry}. */
export interface WithRetryOptions {
  /** Retries after the first attempt (so at most `retries + 1` calls). @default 3 */
  retries?: number;
  /** Backoff before the first retry; it doubles for each further retry. @default 200 */
  baseDelayMs?: number;
  /**
   * The longest wait. A `details.retryAfterMs` longer than this is not waited for: the error is
   * thrown at once, so a long server-imposed pause goes to the caller (or the next provider).
   * @default 10000
   */
  maxDelayMs?: number;
  /** Full jitter: wait a uniform random part of the backoff (AWS's "full jitter"). @default true */
  jitter?: boolean;
  /** The clock the waits run on. @default systemClock */
  clock?: Clock;
  /** The random source for jitter, in [0, 1). @default Math.random */
  random?: () => number;
  /**
   * The error codes worth another attempt.
   * @default ['PROVIDER_TIMEOUT', 'PROVIDER_UNAVAILABLE', 'PROVIDER_RATE_LIMITED']
   */
  retryOn?: readonly ErrorCode[];
  /** Called before each wait (for logs and metrics). @default undefined */
  onRetry?: (event: RetryEvent) => void;
}

/** The codes retried by default: failures that may pass. */
export const RETRYABLE_CODES: readonly ErrorCode[] = Object.freeze([
  'PROVIDER_TIMEOUT',
  'PROVIDER_UNAVAILABLE',
  'PROVIDER_RATE_LIMITED',
]);

/**
 * Retries the calls of `provider` that fail with a transient error (timeout, unavailable, rate
 * limited), never the others (unknown symbol, invalid response, bad input...).
 *
 * The wait before retry n (from 1) is `min(maxDelayMs, baseDelayMs × 2^(n-1))`, times a uniform
 * random factor with `jitter`; when the error carries `details.retryAfterMs` (from `Retry-After`),
 * the wait is at least that — unless it exceeds `maxDelayMs`, in which case the error is thrown at
 * once. An aborted caller signal stops the retries. The last error is thrown unchanged.
 *
 * @example
 * ```ts
 * const yahoo = withRetry(withTimeout(createYahooProvider(), 5_000), { retries: 2 });
 * ```
 * @throws FoliokitError `INVALID_CONFIGURATION` for bad options.
 */
export function withRetry(provider: MarketDataProvider, options: WithRetryOptions = {}): MarketDataProvider {
  const {
    retries = 3,
    baseDelayMs = 200,
    maxDelayMs = 10_000,
    jitter = true,
    clock = systemClock,
    random = Math.random,
    retryOn = RETRYABLE_CODES,
    onRetry,
  } = options;
  checkNumberOption(retries, 'retries', 0, 100);
  checkNumberOption(baseDelayMs, 'baseDelayMs', 0, 86_400_000);
  checkNumberOption(maxDelayMs, 'maxDelayMs', 0, 86_400_000);

  return wrapProvider(provider, async ({ operation, signal, call }) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call(signal);
      } catch (caught) {
        const error = caught as FoliokitError;
        if (attempt >= retries || !retryOn.includes(error.code) || signal?.aborted) throw error;
        const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
        let delayMs = jitter ? Math.floor(random() * backoff) : backoff;
        const retryAfterMs = error.details.retryAfterMs;
        if (typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs)) {
          if (retryAfterMs > maxDelayMs) throw error;
          delayMs = Math.max(delayMs, Math.ceil(retryAfterMs));
        }
        onRetry?.({ operation, attempt: attempt + 1, delayMs, error });
        await sleep(clock, delayMs, signal);
      }
    }
  });
}
