/**
 * A deadline for every call of a provider.
 */
import { type Clock, FoliokitError, type MarketDataProvider, systemClock } from '@foliokit/core';
import { checkNumberOption } from './inputs.js';
import { anySignal, raceSignal } from './signals.js';
import { wrapProvider } from './wrap.js';

/** Options of {@link withTimeout}. */
export interface WithTimeoutOptions {
  /** The clock the deadline runs on. @default systemClock */
  clock?: Clock;
}

/**
 * Gives every call of `provider` a deadline of `ms` milliseconds. When it passes, the call rejects
 * with `PROVIDER_TIMEOUT` (`details.timeoutMs`) and the signal passed down to the provider is
 * aborted, so an HTTP request in flight is cancelled. A caller's own signal still aborts the call.
 *
 * @example
 * ```ts
 * const yahoo = withTimeout(createYahooProvider(), 5_000);
 * ```
 * @throws FoliokitError `INVALID_CONFIGURATION` when `ms` is not a positive number.
 */
export function withTimeout(
  provider: MarketDataProvider,
  ms: number,
  options: WithTimeoutOptions = {},
): MarketDataProvider {
  const { clock = systemClock } = options;
  checkNumberOption(ms, 'ms', 1, 2_147_483_647);
  return wrapProvider(provider, async ({ operation, signal: parent, call }) => {
    const controller = new AbortController();
    const timer = clock.setTimeout(() => {
      controller.abort(
        new FoliokitError('PROVIDER_TIMEOUT', `${provider.name}: ${operation} took longer than ${ms} ms`, {
          provider: provider.name,
          operation,
          timeoutMs: ms,
        }),
      );
    }, ms);
    const signal = parent ? anySignal([parent, controller.signal]) : controller.signal;
    try {
      return await raceSignal(call(signal), signal);
    } finally {
      clock.clearTimeout(timer);
    }
  });
}
