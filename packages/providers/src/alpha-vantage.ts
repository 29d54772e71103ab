/**
 * Alpha Vantage (https://www.alphavantage.co): `GLOBAL_QUOTE` for quotes, `TIME_SERIES_DAILY` for
 * history. The free key allows very few calls (25 a day in 2025): wrap this provider with
 * `withCache`, `withRateLimit` and a failover rather than calling it in a loop.
 */
import {
  type CallOptions,
  type Clock,
  type DailyBar,
  dayOf,
  FoliokitError,
  isDay,
  type MarketDataProvider,
  normalizeSymbol,
  type Quote,
  type QuoteBatch,
  systemClock,
  toIso,
  validateBars,
} from '@foliokit/core';
import { buildUrl, checkBaseUrl, getJson, type HttpClient, redact } from './fetch-json.js';
import { checkNumberOption, checkRange } from './inputs.js';
import { quotesOneByOne } from './quotes-one-by-one.js';
import { readPrice, readVolume } from './read-decimal.js';
import { throwIfAborted } from './signals.js';
import { weekdaysBetween } from './weekdays.js';

/** Options of {@link createAlphaVantageProvider}. */
export interface AlphaVantageProviderOptions {
  /** Your Alpha Vantage API key. Never logged nor put in an error message. */
  apiKey: string;
  /** The API's origin (a test server, a proxy). @default 'https://www.alphavantage.co' */
  baseUrl?: string;
  /** The fetch implementation. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  /** The clock for request deadlines and for dating quotes. @default systemClock */
  clock?: Clock;
  /** Deadline of one HTTP request, body included, in ms. @default 15000 */
  timeoutMs?: number;
  /** `GLOBAL_QUOTE` requests in flight at once for a batch (Alpha Vantage has no batch quote). @default 1 */
  concurrency?: number;
  /**
   * `TIME_SERIES_DAILY` size: `'compact'` is the last 100 trading days, `'full'` 20+ years (a
   * premium feature on some keys); `'auto'` asks for compact when its 100 trading days surely reach
   * `from`: when `from` is within the last 100 weekdays up to today (about 140 days).
   * @default 'auto'
   */
  outputsize?: 'auto' | 'compact' | 'full';
  /** The provider's name, used as the quotes' `source`. @default 'alpha-vantage' */
  name?: string;
  /** Extra request headers. @default {} */
  headers?: Record<string, string>;
}

/** The trading days of the compact series: its latest 100 bars. */
const COMPACT_TRADING_DAYS = 100;

/**
 * True when the compact series (the latest 100 trading days up to `today`) reaches back to `from`.
 * On a Monday-to-Friday market every trading day is a weekday, so 100 trading days reach at least
 * as far back as 100 weekdays (holidays only push them further): the answer errs towards `full`.
 */
function compactCovers(from: string, today: string): boolean {
  return weekdaysBetween(from, today) <= COMPACT_TRADING_DAYS;
}

/**
 * Creates an Alpha Vantage provider.
 *
 * Answers are mapped to our errors: `{"Error Message": ...}` about a symbol is `UNKNOWN_SYMBOL`
 * (about the key, `PROVIDER_ERROR`); the throttling answers, which come as HTTP 200 with a
 * `Note` or `Information` field, are `PROVIDER_RATE_LIMITED` (with `details.retryAfterMs: 60000`
 * for the per-minute limit); `Information` about a premium-only feature is `PROVIDER_ERROR`; the
 * notice that the `demo` key serves its examples only is `INVALID_CONFIGURATION` (`details.field:
 * 'apiKey'`: a misconfiguration, never retried).
 * An empty `{"Global Quote": {}}` means the symbol is unknown. A quote's `at` is the close
 * (21:00Z) of its "latest trading day", or now when that is later.
 *
 * @example
 * ```ts
 * const av = createAlphaVantageProvider({ apiKey: process.env.ALPHAVANTAGE_KEY! });
 * ```
 * @throws FoliokitError `INVALID_CONFIGURATION` for a missing key or a bad option.
 */
export function createAlphaVantageProvider(options: AlphaVantageProviderOptions): MarketDataProvider {
  const {
    apiKey,
    baseUrl = 'https://www.alphavantage.co',
    fetch = globalThis.fetch,
    clock = systemClock,
    timeoutMs = 15_000,
    concurrency = 1,
    outputsize = 'auto',
    name = 'alpha-vantage',
    headers = {},
  } = options ?? ({} as AlphaVantageProviderOptions);
  if (typeof apiKey !== 'string' || apiKey.trim() === '') {
    throw new FoliokitError('INVALID_CONFIGURATION', 'apiKey is required', {
      field: 'apiKey',
    });
  }
  const base = checkBaseUrl(baseUrl);
  checkNumberOption(timeoutMs, 'timeoutMs', 1, 600_000);
  checkNumberOption(concurrency, 'concurrency', 1, 64);
  if (!['auto', 'compact', 'full'].includes(outputsize)) {
    throw new FoliokitError('INVALID_CONFIGURATION', "outputsize must be 'auto', 'compact' or 'full'", {
      field: 'outputsize',
    });
  }
  const client: HttpClient = {
    provider: name,
    fetch,
    clock,
    timeoutMs,
    headers: { accept: 'application/json', ...headers },
    secrets: [apiKey],
  };

  const call = async (params: Record<string, string>, signal?: AbortSignal): Promise<Record<string, unknown>> => {
    const url = buildUrl(base, 'query', { ...params, apikey: apiKey });
    const { body } = await getJson(client, url, { signal });
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw invalid(`${params.function} answered with no object`);
    }
    return body as Record<string, unknown>;
  };

  const invalid = (message: string, details: Record<string, unknown> = {}): FoliokitError =>
    new FoliokitError('PROVIDER_INVALID_RESPONSE', `${name}: ${message}`, {
      provider: name,
      ...details,
    });

  /** Throws for throttling and key errors; returns true when the body reports an unknown symbol. */
  const checkNotices = (body: Record<string, unknown>, symbol: string): boolean => {
    const notice = [body.Note, body.Information].find((v): v is string => typeof v === 'string');
    if (notice !== undefined) {
      const text = redact(notice, [apiKey]).slice(0, 300);
      if (/\bdemo\b/i.test(text) && /api ?key/i.test(text)) {
        // The demo key serves a few documented examples only: no retry makes it work.
        throw new FoliokitError('INVALID_CONFIGURATION', `${name}: the demo API key was used: ${text}`, {
          provider: name,
          symbol,
          field: 'apiKey',
        });
      }
      if (/premium/i.test(text) && !/rate limit|call frequency|requests per|calls per/i.test(text)) {
        throw new FoliokitError('PROVIDER_ERROR', `${name}: refused: ${text}`, {
          provider: name,
          symbol,
        });
      }
      const perMinute = /per minute|call frequency/i.test(text);
      throw new FoliokitError('PROVIDER_RATE_LIMITED', `${name}: throttled: ${text}`, {
        provider: name,
        symbol,
        ...(perMinute ? { retryAfterMs: 60_000 } : {}),
      });
    }
    const error = body['Error Message'];
    if (typeof error === 'string') {
      const text = redact(error, [apiKey]).slice(0, 300);
      if (/api ?key/i.test(text)) {
        throw new FoliokitError('PROVIDER_ERROR', `${name}: the API key was refused`, { provider: name });
      }
      return true;
    }
    return false;
  };

  const quoteOf = async (symbol: string, signal?: AbortSignal): Promise<Quote | null> => {
    const body = await call({ function: 'GLOBAL_QUOTE', symbol }, signal);
    if (checkNotices(body, symbol)) return null;
    const global = body['Global Quote'];
    if (typeof global !== 'object' || global === null || Array.isArray(global)) {
      throw invalid(`GLOBAL_QUOTE for ${symbol} has no "Global Quote"`, {
        symbol,
        field: 'Global Quote',
      });
    }
    const fields = global as Record<string, unknown>;
    if (Object.keys(fields).length === 0) return null;
    const answered = fields['01. symbol'];
    if (typeof answered !== 'string' || normalizeSymbol(answered, 'symbol', { check: false }) !== symbol) {
      throw invalid(`GLOBAL_QUOTE for ${symbol} is for another symbol`, {
        symbol,
        field: '01. symbol',
      });
    }
    const price = readPrice(fields['05. price']);
    if (price === null) {
      throw invalid(`invalid price for ${symbol}: ${JSON.stringify(String(fields['05. price'])).slice(0, 40)}`, {
        symbol,
        field: '05. price',
      });
    }
    const day = fields['07. latest trading day'];
    if (!isDay(day))
      throw invalid(`invalid latest trading day for ${symbol}`, {
        symbol,
        field: '07. latest trading day',
      });
    const at = Math.min(clock.now(), Date.parse(`${day}T21:00:00Z`));
    return { symbol, price, at: toIso(at), currency: 'USD', source: name };
  };

  return {
    name,

    getQuotes(symbols: readonly string[], callOptions?: CallOptions): Promise<QuoteBatch> {
      return quotesOneByOne(symbols, concurrency, quoteOf, name, callOptions?.signal);
    },

    async getDailyHistory(symbol: string, range: { from: string; to: string }, callOptions?: CallOptions) {
      throwIfAborted(callOptions?.signal);
      const nonEmpty = checkRange(range);
      const key = normalizeSymbol(symbol, 'symbol', { check: false });
      const size =
        outputsize === 'auto' ? (compactCovers(range.from, dayOf(clock.now())) ? 'compact' : 'full') : outputsize;
      const body = await call({ function: 'TIME_SERIES_DAILY', symbol: key, outputsize: size }, callOptions?.signal);
      if (checkNotices(body, key)) {
        throw new FoliokitError('UNKNOWN_SYMBOL', `${name}: unknown symbol ${key}`, { symbol: key, provider: name });
      }
      const series = body['Time Series (Daily)'];
      if (typeof series !== 'object' || series === null || Array.isArray(series)) {
        throw invalid(`TIME_SERIES_DAILY for ${key} has no "Time Series (Daily)"`, { symbol: key });
      }
      if (!nonEmpty) return [];
      const bars: DailyBar[] = [];
      for (const [day, raw] of Object.entries(series as Record<string, unknown>)) {
        if (!isDay(day))
          throw invalid(`invalid day ${JSON.stringify(String(day).slice(0, 20))} for ${key}`, { symbol: key });
        if (day < range.from || day > range.to) continue;
        bars.push(readBar(day, raw, key));
      }
      bars.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
      return validateBars(bars, key, name, range);
    },
  };

  function readBar(day: string, raw: unknown, symbol: string): DailyBar {
    if (typeof raw !== 'object' || raw === null)
      throw invalid(`bar ${day} of ${symbol} is not an object`, {
        symbol,
        day,
      });
    const fields = raw as Record<string, unknown>;
    const price = (field: string): string => {
      const value = readPrice(fields[field]);
      if (value === null)
        throw invalid(`invalid ${field} for ${symbol} on ${day}`, {
          symbol,
          day,
          field,
        });
      return value;
    };
    const bar: DailyBar = {
      day,
      open: price('1. open'),
      high: price('2. high'),
      low: price('3. low'),
      close: price('4. close'),
    };
    if (fields['5. volume'] !== undefined) {
      const volume = readVolume(fields['5. volume']);
      if (volume === null)
        throw invalid(`invalid volume for ${symbol} on ${day}`, {
          symbol,
          day,
          field: '5. volume',
        });
      bar.volume = volume;
    }
    return bar;
  }
}
