/**
 * An ordered list of providers behind one, each guarded by a circuit breaker.
 */
import {
  type CallOptions,
  type Clock,
  type DailyBar,
  type ErrorCode,
  FoliokitError,
  type MarketDataProvider,
  normalizeSymbol,
  type QuoteBatch,
  type SymbolMatch,
  systemClock,
  toIso,
  validateBars,
  validateQuoteBatch,
} from '@foliokit/core';
import { checkNumberOption, checkRange, uniqueSymbols } from './inputs.js';
import { throwIfAborted } from './signals.js';
import { toProviderError } from './wrap.js';

/** Options of {@link createFailoverProvider}. */
export interface FailoverOptions {
  /** How long a provider whose circuit opened is skipped, in ms (longer when it sent `retryAfterMs`). @default 30000 */
  cooldownMs?: number;
  /** Consecutive failures that open a provider's circuit. @default 1 */
  failureThreshold?: number;
  /** The clock the cool-downs run on. @default systemClock */
  clock?: Clock;
  /** The name of the failover provider (quotes keep the `source` of the provider that answered). @default 'failover' */
  name?: string;
}

/** The state of a provider's circuit. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** One provider's health, as reported by {@link FailoverProvider.getStatus}. */
export interface ProviderStatus {
  /** The provider's `name`. */
  name: string;
  /** True while the circuit is closed. */
  healthy: boolean;
  /** `closed`: used; `open`: skipped until the cool-down ends; `half-open`: the next call is a trial. */
  state: CircuitState;
  /** The last successful call (ISO instant), or null. */
  lastSuccessAt: string | null;
  /** The last failure, or null. */
  lastError: { code: ErrorCode; message: string; at: string } | null;
  /** When an open circuit becomes half-open (ISO instant), or null when not open. */
  retryAt: string | null;
  /** Failures since the last success. */
  consecutiveFailures: number;
  /** Failures since creation. */
  totalFailures: number;
  /** Calls made to this provider since creation (calls skipped while open are not counted). */
  totalCalls: number;
}

/** A failover provider: a {@link MarketDataProvider} that reports the health of each provider. */
export interface FailoverProvider extends MarketDataProvider {
  /** The health of each provider, in order. */
  getStatus(): ProviderStatus[];
}

interface Circuit {
  provider: MarketDataProvider;
  openUntil: number | null;
  /** A half-open trial is in flight. */
  probing: boolean;
  lastSuccessAt: number | null;
  lastError: { code: ErrorCode; message: string; at: number } | null;
  consecutiveFailures: number;
  totalFailures: number;
  totalCalls: number;
}

/** Errors that say nothing about a provider's health: the request itself is at fault. */
const NOT_FAILURES: readonly ErrorCode[] = ['UNKNOWN_SYMBOL', 'VALIDATION_FAILED'];

/**
 * Puts `providers` behind one, in order of preference. Each has a circuit breaker: after
 * `failureThreshold` consecutive failures it opens, and the provider is skipped for `cooldownMs`
 * (or the `retryAfterMs` it sent, if longer); then it is half-open: the next call tries it once,
 * closing the circuit on success and reopening it on failure.
 *
 * `getQuotes` asks the first available provider for every symbol, then asks the next ones for the
 * symbols still missing (those it did not know, or all when it failed). `getDailyHistory` moves on
 * when a provider fails or does not know the symbol. When every provider failed the call throws
 * (the one error when only one provider was tried, otherwise `PROVIDER_UNAVAILABLE` listing them in
 * `details.attempts`); when every circuit is open it fails fast with `PROVIDER_UNAVAILABLE` and
 * `details.retryAfterMs`. Unknown symbols and bad input do not count as failures.
 *
 * @example
 * ```ts
 * const market = createFailoverProvider([
 *   withRetry(withTimeout(createYahooProvider(), 5_000)),
 *   createAlphaVantageProvider({ apiKey }),
 * ]);
 * market.getStatus(); // [{ name: 'yahoo', state: 'closed', ... }, ...]
 * ```
 * @throws FoliokitError `INVALID_CONFIGURATION` for an empty list or bad options.
 */
export function createFailoverProvider(
  providers: readonly MarketDataProvider[],
  options: FailoverOptions = {},
): FailoverProvider {
  const { cooldownMs = 30_000, failureThreshold = 1, clock = systemClock, name = 'failover' } = options;
  if (!Array.isArray(providers) || providers.length === 0) {
    throw new FoliokitError('INVALID_CONFIGURATION', 'createFailoverProvider needs at least one provider', {
      field: 'providers',
    });
  }
  providers.forEach((p, i) => {
    if (typeof p?.getQuotes !== 'function' || typeof p.getDailyHistory !== 'function') {
      throw new FoliokitError('INVALID_CONFIGURATION', `providers[${i}] is not a MarketDataProvider`, {
        field: `providers.${i}`,
      });
    }
  });
  checkNumberOption(cooldownMs, 'cooldownMs', 0);
  checkNumberOption(failureThreshold, 'failureThreshold', 1);

  const circuits: Circuit[] = providers.map((provider) => ({
    provider,
    openUntil: null,
    probing: false,
    lastSuccessAt: null,
    lastError: null,
    consecutiveFailures: 0,
    totalFailures: 0,
    totalCalls: 0,
  }));

  const stateOf = (c: Circuit): CircuitState => {
    if (c.openUntil === null) return 'closed';
    return clock.now() >= c.openUntil ? 'half-open' : 'open';
  };

  /** Claims a circuit for one call: false when it is open, or half-open with a trial in flight. */
  const claim = (c: Circuit): boolean => {
    const state = stateOf(c);
    if (state === 'closed') return true;
    if (state === 'open' || c.probing) return false;
    c.probing = true;
    return true;
  };

  const succeeded = (c: Circuit): void => {
    c.probing = false;
    c.openUntil = null;
    c.consecutiveFailures = 0;
    c.lastSuccessAt = clock.now();
  };

  const failed = (c: Circuit, error: FoliokitError): void => {
    const now = clock.now();
    const wasProbing = c.probing;
    c.probing = false;
    c.consecutiveFailures++;
    c.totalFailures++;
    c.lastError = { code: error.code, message: error.message, at: now };
    if (wasProbing || c.consecutiveFailures >= failureThreshold) {
      const retryAfterMs = error.details.retryAfterMs;
      const pause =
        typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs)
          ? Math.max(cooldownMs, retryAfterMs)
          : cooldownMs;
      c.openUntil = now + pause;
    }
  };

  /** Runs `fn` on `c`'s provider, keeping its circuit. Errors come out as FoliokitErrors. */
  const attempt = async <T>(c: Circuit, fn: (p: MarketDataProvider) => Promise<T>): Promise<T> => {
    c.totalCalls++;
    try {
      const result = await fn(c.provider);
      succeeded(c);
      return result;
    } catch (caught) {
      const error = toProviderError(caught, c.provider.name);
      if (NOT_FAILURES.includes(error.code)) succeeded(c);
      else failed(c, error);
      throw error;
    }
  };

  const allOpen = (): FoliokitError => {
    const now = clock.now();
    const waits = circuits.map((c) => (c.openUntil === null ? 0 : Math.max(0, c.openUntil - now)));
    return new FoliokitError('PROVIDER_UNAVAILABLE', `${name}: every provider is cooling down after failures`, {
      provider: name,
      retryAfterMs: Math.min(...waits),
      providers: circuits.map((c) => c.provider.name),
    });
  };

  const exhausted = (errors: Array<{ provider: string; error: FoliokitError }>): FoliokitError => {
    if (errors.length === 1) return (errors[0] as { error: FoliokitError }).error;
    const last = errors.at(-1)?.error;
    return new FoliokitError(
      'PROVIDER_UNAVAILABLE',
      `${name}: every provider failed (${errors.map((e) => `${e.provider}: ${e.error.code}`).join(', ')})`,
      {
        provider: name,
        attempts: errors.map((e) => ({ provider: e.provider, code: e.error.code, message: e.error.message })),
      },
      { cause: last },
    );
  };

  const failover: FailoverProvider = {
    name,

    async getQuotes(symbols: readonly string[], callOptions?: CallOptions): Promise<QuoteBatch> {
      let remaining = uniqueSymbols(symbols);
      const result: QuoteBatch = { quotes: {}, unknown: [] };
      if (remaining.length === 0) return result;
      const errors: Array<{ provider: string; error: FoliokitError }> = [];
      let answered = false;
      let tried = false;
      for (const c of circuits) {
        if (remaining.length === 0) break;
        throwIfAborted(callOptions?.signal);
        if (!claim(c)) continue;
        tried = true;
        const asked = remaining;
        try {
          const batch = await attempt(c, async (p) =>
            validateQuoteBatch(await p.getQuotes(asked, callOptions), asked, p.name),
          );
          answered = true;
          Object.assign(result.quotes, batch.quotes);
          remaining = batch.unknown;
        } catch (error) {
          const e = error as FoliokitError;
          if (e.code === 'VALIDATION_FAILED') throw e;
          errors.push({ provider: c.provider.name, error: e });
        }
      }
      if (!tried) throw allOpen();
      if (!answered) throw exhausted(errors);
      result.unknown = remaining;
      return result;
    },

    async getDailyHistory(symbol: string, range: { from: string; to: string }, callOptions?: CallOptions) {
      checkRange(range);
      const key = normalizeSymbol(symbol, 'symbol', { check: false });
      const errors: Array<{ provider: string; error: FoliokitError }> = [];
      let unknownTo: string | null = null;
      let tried = false;
      for (const c of circuits) {
        throwIfAborted(callOptions?.signal);
        if (!claim(c)) continue;
        tried = true;
        try {
          return await attempt(
            c,
            async (p): Promise<DailyBar[]> =>
              validateBars(await p.getDailyHistory(key, range, callOptions), key, p.name, range),
          );
        } catch (error) {
          const e = error as FoliokitError;
          if (e.code === 'VALIDATION_FAILED') throw e;
          if (e.code === 'UNKNOWN_SYMBOL') unknownTo = unknownTo ?? e.message;
          else errors.push({ provider: c.provider.name, error: e });
        }
      }
      if (!tried) throw allOpen();
      if (errors.length === 0) {
        throw new FoliokitError('UNKNOWN_SYMBOL', `${name}: no provider knows ${key}`, { symbol: key, provider: name });
      }
      throw exhausted(errors);
    },

    getStatus(): ProviderStatus[] {
      return circuits.map((c) => {
        const state = stateOf(c);
        return {
          name: c.provider.name,
          healthy: state === 'closed',
          state,
          lastSuccessAt: c.lastSuccessAt === null ? null : toIso(c.lastSuccessAt),
          lastError: c.lastError === null ? null : { ...c.lastError, at: toIso(c.lastError.at) },
          retryAt: c.openUntil === null ? null : toIso(c.openUntil),
          consecutiveFailures: c.consecutiveFailures,
          totalFailures: c.totalFailures,
          totalCalls: c.totalCalls,
        };
      });
    },
  };

  if (circuits.some((c) => typeof c.provider.searchSymbols === 'function')) {
    failover.searchSymbols = async (query: string, callOptions?: CallOptions): Promise<SymbolMatch[]> => {
      const errors: Array<{ provider: string; error: FoliokitError }> = [];
      let tried = false;
      for (const c of circuits) {
        const search = c.provider.searchSymbols?.bind(c.provider);
        if (!search || !claim(c)) continue;
        tried = true;
        try {
          return await attempt(c, () => search(query, callOptions));
        } catch (error) {
          const e = error as FoliokitError;
          if (e.code === 'VALIDATION_FAILED') throw e;
          errors.push({ provider: c.provider.name, error: e });
        }
      }
      if (!tried) throw allOpen();
      throw exhausted(errors);
    };
  }
  return failover;
}
