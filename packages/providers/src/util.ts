/**
 * Small helpers shared by the providers and wrappers: symbol normalisation, day ranges, abortable
 * waits on an injected clock, and a bounded-concurrency map.
 */
import { type Clock, FoliokitError, isFoliokitError, parseDay } from '@foliokit/core';

/** Trims and upper-cases a symbol: `' aapl '` → `'AAPL'`. */
export function normalizeSymbol(symbol: string): string {
  return symbol.trim().toUpperCase();
}

/** Normalises and de-duplicates a list of symbols, keeping the first occurrence's order. */
export function uniqueSymbols(symbols: readonly string[]): string[] {
  return [...new Set(symbols.map(normalizeSymbol))].filter((s) => s.length > 0);
}

/** Checks a `{ from, to }` range of `YYYY-MM-DD` days. Returns false when `from > to` (an empty range). */
export function checkRange(range: { from: string; to: string }): boolean {
  parseDay(range?.from, 'range.from');
  parseDay(range?.to, 'range.to');
  return range.from <= range.to;
}

/** Throws the signal's reason as a FoliokitError when the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/**
 * The error for an aborted call: the signal's reason when it is already a FoliokitError (as set by
 * `withTimeout`), `PROVIDER_TIMEOUT` for a `TimeoutError` (as from `AbortSignal.timeout()`), and
 * otherwise `PROVIDER_UNAVAILABLE` with `details.aborted = true`.
 */
export function abortError(signal: AbortSignal): FoliokitError {
  const reason: unknown = signal.reason;
  if (isFoliokitError(reason)) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new FoliokitError('PROVIDER_TIMEOUT', 'The request timed out', {}, { cause: reason });
  }
  return new FoliokitError('PROVIDER_UNAVAILABLE', 'The request was aborted', { aborted: true }, { cause: reason });
}

/**
 * A signal that aborts when any of `signals` does, with that signal's reason (`AbortSignal.any`,
 * with a fallback for Node versions before 20.3).
 */
export function anySignal(signals: readonly AbortSignal[]): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([...signals]);
  const controller = new AbortController();
  for (const signal of signals) {
    if (signal.aborted) {
      controller.abort(signal.reason);
      return controller.signal;
    }
    signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}

/** Waits `ms` on `clock`; rejects with {@link abortError} as soon as `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(abortError(signal as AbortSignal));
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles with `promise`, or rejects with {@link abortError} as soon as `signal` aborts (the
 * promise keeps running; its outcome is then ignored).
 */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Maps `items` through `fn` with at most `limit` calls in flight; rejects with the first failure. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, () => worker());
  await Promise.all(workers);
  return results;
}

/** Throws `INVALID_CONFIGURATION` unless `value` is a finite number within `[min, max]`. */
export function checkNumberOption(value: number, field: string, min: number, max = Number.POSITIVE_INFINITY): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    throw new FoliokitError('INVALID_CONFIGURATION', `${field} must be a number between ${min} and ${max}`, { field });
  }
  return value;
}
