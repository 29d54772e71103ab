/**
 * Abort signals in the providers: the error an aborted call rejects with, one signal from several,
 * and waits that end early when their signal aborts.
 */
import { type Clock, FoliokitError, isFoliokitError } from '@foliokit/core';

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
