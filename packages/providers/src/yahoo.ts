/**
 * Yahoo Finance's chart endpoint (`/v8/finance/chart/{symbol}`): no key, unofficial, and
 * increasingly quick to answer 429 — always wrap it with retry, a circuit (failover) and a cache.
 */
import {
  type CallOptions,
  type Clock,
  type DailyBar,
  Dec,
  FoliokitError,
  fmt,
  type MarketDataProvider,
  normalizeSymbol,
  type Quote,
  type QuoteBatch,
  systemClock,
  toIso,
  validateBars,
} from '@foliokit/core';
import { buildUrl, checkBaseUrl, getJson, type HttpClient } from './fetch-json.js';
import { checkNumberOption, checkRange } from './inputs.js';
import { quotesOneByOne } from './quotes-one-by-one.js';
import { readPrice, readVolume } from './read-decimal.js';
import { throwIfAborted } from './signals.js';
import { zoneDay } from './zone-day.js';

/** Options of {@link createYahooProvider}. */
export interface YahooProviderOptions {
  /** The API's origin (a test server, a proxy). @default 'https://query1.finance.yahoo.com' */
  baseUrl?: string;
  /** The fetch implementation. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  /** The clock for request deadlines. @default systemClock */
  clock?: Clock;
  /** Deadline of one HTTP request, body included, in ms. @default 15000 */
  timeoutMs?: number;
  /** Chart requests in flight at once for a batch of quotes (one request per symbol). @default 4 */
  concurrency?: number;
  /**
   * Decimal places kept from Yahoo's float prices (their arrays carry float noise such as
   * `185.63999938964844`). 4 fits US equities (sub-penny below $1); raise it for crypto.
   * @default 4
   */
  decimals?: number;
  /** The provider's name, used as the quotes' `source`. @default 'yahoo' */
  name?: string;
  /** Extra request headers. @default { 'user-agent': 'Mozilla/5.0 (compatible; foliokit)' } */
  headers?: Record<string, string>;
}

/** Yahoo quotes some markets in minor units: pence, cents, agorot. Converted to the major unit. */
const MINOR_UNITS: Record<string, string> = {
  GBp: 'GBP',
  GBX: 'GBP',
  ZAc: 'ZAR',
  ZAC: 'ZAR',
  ILA: 'ILS',
};

interface ChartResult {
  meta: Record<string, unknown>;
  timestamp?: unknown;
  indicators?: unknown;
}

/**
 * Creates a Yahoo Finance provider on the chart endpoint.
 *
 * Quotes: one `range=1d` chart request per symbol (the batch `v7/finance/quote` endpoint now needs
 * a cookie and crumb), priced from `meta.regularMarketPrice` at `meta.regularMarketTime`. History:
 * `interval=1d` between `period1` and `period2`; each bar's day is taken in the exchange's time
 * zone at that bar's date (`meta.exchangeTimezoneName`, so a summer bar fetched in winter keeps its
 * day; `meta.gmtoffset`, the offset at fetch time, only when the zone name is missing or unknown);
 * rows with a null close are skipped; other nulls leave the field out. Prices
 * in minor units (GBp, ZAc, ILA) are converted to the major unit. A 404 with
 * `{"chart":{"error":{"code":"Not Found"}}}` means the symbol is unknown.
 *
 * @example
 * ```ts
 * const yahoo = withRetry(withTimeout(createYahooProvider(), 5_000));
 * ```
 */
export function createYahooProvider(options: YahooProviderOptions = {}): MarketDataProvider {
  const {
    baseUrl = 'https://query1.finance.yahoo.com',
    fetch = globalThis.fetch,
    clock = systemClock,
    timeoutMs = 15_000,
    concurrency = 4,
    decimals = 4,
    name = 'yahoo',
    headers = {},
  } = options;
  const base = checkBaseUrl(baseUrl);
  checkNumberOption(timeoutMs, 'timeoutMs', 1, 600_000);
  checkNumberOption(concurrency, 'concurrency', 1, 64);
  checkNumberOption(decimals, 'decimals', 0, 18);
  const client: HttpClient = {
    provider: name,
    fetch,
    clock,
    timeoutMs,
    headers: {
      accept: 'application/json',
      'user-agent': 'Mozilla/5.0 (compatible; foliokit)',
      ...headers,
    },
    secrets: [],
  };

  const invalid = (message: string, details: Record<string, unknown> = {}): FoliokitError =>
    new FoliokitError('PROVIDER_INVALID_RESPONSE', `${name}: ${message}`, {
      provider: name,
      ...details,
    });

  /** The chart result for `symbol`, or null when Yahoo does not know it. */
  const chart = async (
    symbol: string,
    params: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<ChartResult | null> => {
    const url = buildUrl(base, `v8/finance/chart/${encodeURIComponent(symbol)}`, params);
    const { status, body } = await getJson(client, url, {
      signal,
      accept: [404],
    });
    const root = (body as { chart?: unknown } | null)?.chart;
    if (typeof root !== 'object' || root === null) {
      if (status === 404) return null;
      throw invalid(`the chart of ${symbol} has no "chart" object`, { symbol });
    }
    const { result, error } = root as { result?: unknown; error?: unknown };
    if (error !== null && error !== undefined) {
      const code = (error as { code?: unknown }).code;
      const description = String((error as { description?: unknown }).description ?? '').slice(0, 200);
      if (status === 404 || code === 'Not Found' || /no data found|delisted/i.test(description)) return null;
      throw new FoliokitError('PROVIDER_ERROR', `${name}: ${String(code).slice(0, 60)}: ${description}`, {
        provider: name,
        symbol,
        status,
      });
    }
    if (status === 404) return null;
    if (!Array.isArray(result)) throw invalid(`the chart of ${symbol} has no result`, { symbol });
    const first = result[0] as ChartResult | undefined;
    if (first === undefined) return null;
    if (typeof first !== 'object' || first === null || typeof first.meta !== 'object' || first.meta === null) {
      throw invalid(`the chart of ${symbol} has no meta`, {
        symbol,
        field: 'meta',
      });
    }
    const answered = first.meta.symbol;
    if (typeof answered !== 'string' || normalizeSymbol(answered, 'symbol', { check: false }) !== symbol) {
      throw invalid(`the chart of ${symbol} is for another symbol`, {
        symbol,
        field: 'meta.symbol',
      });
    }
    return first;
  };

  /** The currency of a chart and the divisor that turns its prices into that currency's major unit. */
  const currencyOf = (meta: Record<string, unknown>): { currency: string | undefined; divisor: number } => {
    const raw = meta.currency;
    if (typeof raw !== 'string') return { currency: undefined, divisor: 1 };
    const major = MINOR_UNITS[raw];
    if (major !== undefined) return { currency: major, divisor: 100 };
    return /^[A-Z]{3}$/.test(raw) ? { currency: raw, divisor: 1 } : { currency: undefined, divisor: 1 };
  };

  /** A Yahoo float as a decimal string in the major unit, rounded to `decimals`; null when not positive and finite. */
  const price = (value: unknown, divisor: number): string | null => {
    if (divisor === 1) return readPrice(value, decimals);
    const text = readPrice(value, 18);
    return text === null ? null : readPrice(fmt(new Dec(text).div(divisor)), decimals);
  };

  const quoteOf = async (symbol: string, signal?: AbortSignal): Promise<Quote | null> => {
    const result = await chart(symbol, { range: '1d', interval: '1d' }, signal);
    if (result === null) return null;
    const { meta } = result;
    const { currency, divisor } = currencyOf(meta);
    const value = price(meta.regularMarketPrice, divisor);
    if (value === null) {
      throw invalid(`invalid price for ${symbol}: ${JSON.stringify(meta.regularMarketPrice ?? null).slice(0, 40)}`, {
        symbol,
        field: 'meta.regularMarketPrice',
      });
    }
    const time = meta.regularMarketTime;
    if (typeof time !== 'number' || !Number.isFinite(time) || time <= 0 || time > 1e11) {
      throw invalid(`invalid time for ${symbol}`, {
        symbol,
        field: 'meta.regularMarketTime',
      });
    }
    const quote: Quote = {
      symbol,
      price: value,
      at: toIso(time * 1000),
      source: name,
    };
    if (currency !== undefined) quote.currency = currency;
    return quote;
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
      const period1 = Math.floor(Date.parse(`${range.from}T00:00:00Z`) / 1000);
      const period2 = Math.floor(Date.parse(`${range.to}T00:00:00Z`) / 1000) + 86_400;
      const result = await chart(
        key,
        {
          interval: '1d',
          period1: String(period1),
          period2: String(Math.max(period1, period2)),
          events: 'div,splits',
        },
        callOptions?.signal,
      );
      if (result === null) {
        throw new FoliokitError('UNKNOWN_SYMBOL', `${name}: unknown symbol ${key}`, { symbol: key, provider: name });
      }
      if (!nonEmpty) return [];
      return validateBars(readBars(result, key, range), key, name, range);
    },
  };

  function readBars(chartResult: ChartResult, sym: string, range: { from: string; to: string }): DailyBar[] {
    const { meta } = chartResult;
    const timestamps = chartResult.timestamp;
    if (timestamps === undefined || timestamps === null) return [];
    if (!Array.isArray(timestamps))
      throw invalid(`the chart of ${sym} has no timestamp array`, {
        symbol: sym,
      });
    const indicators = chartResult.indicators as
      | {
          quote?: Array<Record<string, unknown>>;
          adjclose?: Array<{ adjclose?: unknown }>;
        }
      | undefined;
    const q = indicators?.quote?.[0];
    if (typeof q !== 'object' || q === null)
      throw invalid(`the chart of ${sym} has no quote indicators`, {
        symbol: sym,
      });
    const column = (field: string): unknown[] | undefined => {
      const values = q[field];
      if (values === undefined || values === null) return undefined;
      if (!Array.isArray(values) || values.length !== timestamps.length) {
        throw invalid(`the ${field} column of ${sym} does not match its timestamps`, { symbol: sym, field });
      }
      return values;
    };
    const closes = column('close');
    if (closes === undefined)
      throw invalid(`the chart of ${sym} has no close column`, {
        symbol: sym,
        field: 'close',
      });
    const opens = column('open');
    const highs = column('high');
    const lows = column('low');
    const volumes = column('volume');
    const adjRaw = indicators?.adjclose?.[0]?.adjclose;
    const adj = Array.isArray(adjRaw) && adjRaw.length === timestamps.length ? adjRaw : undefined;
    const offset = typeof meta.gmtoffset === 'number' && Number.isFinite(meta.gmtoffset) ? meta.gmtoffset : 0;
    // `gmtoffset` is the offset at fetch time; the zone gives each bar the offset of its own date.
    const dayAt = zoneDay(meta.exchangeTimezoneName, offset);
    const { divisor } = currencyOf(meta);
    const byDay = new Map<string, DailyBar>();
    for (let i = 0; i < timestamps.length; i++) {
      const ts = timestamps[i];
      if (typeof ts !== 'number' || !Number.isFinite(ts) || ts <= 0 || ts > 1e11) {
        throw invalid(`invalid timestamp at index ${i} for ${sym}`, {
          symbol: sym,
          index: i,
          field: 'timestamp',
        });
      }
      const rawClose = closes[i];
      if (rawClose === null || rawClose === undefined) continue;
      const day = dayAt(ts * 1000);
      if (day < range.from || day > range.to) continue;
      const read = (value: unknown, field: string): string | undefined => {
        if (value === null || value === undefined) return undefined;
        const text = price(value, divisor);
        if (text === null) {
          throw invalid(`invalid ${field} for ${sym} on ${day}: ${JSON.stringify(value).slice(0, 40)}`, {
            symbol: sym,
            day,
            field,
          });
        }
        return text;
      };
      const bar: DailyBar = { day, close: read(rawClose, 'close') as string };
      const open = read(opens?.[i], 'open');
      const high = read(highs?.[i], 'high');
      const low = read(lows?.[i], 'low');
      const adjClose = read(adj?.[i], 'adjClose');
      if (open !== undefined) bar.open = open;
      if (high !== undefined) bar.high = high;
      if (low !== undefined) bar.low = low;
      if (adjClose !== undefined) bar.adjClose = adjClose;
      const rawVolume = volumes?.[i];
      if (rawVolume !== null && rawVolume !== undefined) {
        const volume = readVolume(rawVolume);
        if (volume === null)
          throw invalid(`invalid volume for ${sym} on ${day}`, {
            symbol: sym,
            day,
            field: 'volume',
          });
        bar.volume = volume;
      }
      // Yahoo sometimes repeats the live bar; the later row wins.
      byDay.set(day, bar);
    }
    return [...byDay.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  }
}
