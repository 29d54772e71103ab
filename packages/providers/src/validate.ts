/**
 * The one gate every quote and bar passes before it leaves a provider or a wrapper: prices are
 * positive plain decimal strings, instants and days are well formed, bars ascend by day. A NaN,
 * negative, zero or infinite price never reaches the engine.
 */
import { type DailyBar, Dec, FoliokitError, fmt, type Quote, type QuoteBatch } from '@foliokit/core';
import { normalizeSymbol } from './util.js';

/** A plain decimal: no sign, no exponent, at most 18 integer digits and 18 decimal places. */
const PLAIN_DECIMAL_RE = /^(?:0|[1-9]\d{0,17})(?:\.\d{1,18})?$/;
const NONZERO_RE = /[1-9]/;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_Z_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

/** True for a strictly positive plain decimal string (`"150.25"`; not `"0"`, `"-1"`, `"1e3"`, `"NaN"`). */
export function isPositiveDecimalString(value: unknown): value is string {
  return typeof value === 'string' && PLAIN_DECIMAL_RE.test(value) && NONZERO_RE.test(value);
}

/** True for a non-negative plain decimal string (volumes). */
export function isNonNegativeDecimalString(value: unknown): value is string {
  return typeof value === 'string' && PLAIN_DECIMAL_RE.test(value);
}

/**
 * Reads a price that came from a data source (a JSON number or a string) into a positive plain
 * decimal string, rounded half-even to `decimals` places when given.
 *
 * @returns the decimal string, or `null` when the value is not a finite positive number
 *   (`"None"`, `"NaN"`, `""`, `0`, `-3`, `Infinity`, `"1e309"`, ...).
 */
export function readPrice(value: unknown, decimals?: number): string | null {
  const parsed = readDecimal(value);
  if (parsed === null) return null;
  const rounded = decimals === undefined ? parsed : parsed.toDecimalPlaces(decimals, Dec.ROUND_HALF_EVEN);
  if (rounded.lte(0) || rounded.gt(MAX_PRICE) || rounded.decimalPlaces() > 18) return null;
  const text = fmt(rounded);
  return isPositiveDecimalString(text) ? text : null;
}

const MAX_PRICE = new Dec('1e18');
const INPUT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?$/;

/** Reads a finite decimal from a JSON number or a numeric string, without going through a float for strings. */
function readDecimal(value: unknown): Dec | null {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    text = String(value);
  } else if (typeof value === 'string') {
    text = value.trim();
  } else {
    return null;
  }
  if (text.length > 64 || !INPUT_RE.test(text)) return null;
  const exponent = /[eE]([+-]?\d+)$/.exec(text);
  if (exponent && Math.abs(Number(exponent[1])) > 40) return null;
  const parsed = new Dec(text);
  return parsed.isFinite() ? parsed : null;
}

/** Reads a volume (a non-negative number) into a plain decimal string, or `null`. */
export function readVolume(value: unknown): string | null {
  const parsed = readDecimal(value);
  if (parsed === null || parsed.isNegative() || parsed.gt(MAX_PRICE) || parsed.decimalPlaces() > 18) return null;
  const text = fmt(parsed.isZero() ? new Dec(0) : parsed);
  return isNonNegativeDecimalString(text) ? text : null;
}

/** True for a `YYYY-MM-DD` string that is a real calendar day. */
export function isDay(value: unknown): value is string {
  if (typeof value !== 'string' || !DAY_RE.test(value)) return false;
  const ms = Date.parse(`${value}T00:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === value;
}

function invalid(provider: string, message: string, details: Record<string, unknown>): FoliokitError {
  return new FoliokitError('PROVIDER_INVALID_RESPONSE', `${provider}: ${message}`, { provider, ...details });
}

/**
 * Checks one quote: a normalised symbol, a positive decimal price, a UTC ISO-8601 `at`, a source.
 *
 * @throws FoliokitError `PROVIDER_INVALID_RESPONSE` naming the symbol and the field at fault.
 */
export function validateQuote(quote: Quote, provider: string): Quote {
  const symbol = typeof quote?.symbol === 'string' ? quote.symbol : '?';
  if (typeof quote !== 'object' || quote === null || typeof quote.symbol !== 'string' || quote.symbol === '') {
    throw invalid(provider, 'a quote has no symbol', { field: 'symbol' });
  }
  if (!isPositiveDecimalString(quote.price)) {
    throw invalid(provider, `invalid price for ${symbol}: ${JSON.stringify(String(quote.price)).slice(0, 40)}`, {
      symbol,
      field: 'price',
    });
  }
  if (typeof quote.at !== 'string' || !ISO_Z_RE.test(quote.at) || !Number.isFinite(Date.parse(quote.at))) {
    throw invalid(provider, `invalid timestamp for ${symbol}`, {
      symbol,
      field: 'at',
    });
  }
  if (typeof quote.source !== 'string' || quote.source === '') {
    throw invalid(provider, `quote for ${symbol} has no source`, {
      symbol,
      field: 'source',
    });
  }
  if (quote.currency !== undefined && (typeof quote.currency !== 'string' || !/^[A-Za-z]{3}$/.test(quote.currency))) {
    throw invalid(provider, `invalid currency for ${symbol}`, {
      symbol,
      field: 'currency',
    });
  }
  return quote;
}

/**
 * Checks a batch against the symbols asked for: every quote valid and keyed by its symbol, quotes
 * nobody asked for dropped, and every asked symbol either quoted or listed in `unknown` (a symbol
 * the provider silently left out is reported unknown).
 *
 * @returns a clean batch keyed by normalised symbol.
 * @throws FoliokitError `PROVIDER_INVALID_RESPONSE` when a quote is invalid.
 */
export function validateQuoteBatch(batch: QuoteBatch, requested: readonly string[], provider: string): QuoteBatch {
  if (typeof batch !== 'object' || batch === null || typeof batch.quotes !== 'object' || batch.quotes === null) {
    throw invalid(provider, 'getQuotes returned no quotes object', {
      field: 'quotes',
    });
  }
  const quotes: Record<string, Quote> = {};
  const unknown: string[] = [];
  for (const symbol of requested) {
    const key = normalizeSymbol(symbol);
    const quote = Object.hasOwn(batch.quotes, key) ? batch.quotes[key] : undefined;
    if (quote === undefined) {
      unknown.push(key);
      continue;
    }
    validateQuote(quote, provider);
    if (normalizeSymbol(quote.symbol) !== key) {
      throw invalid(provider, `quote keyed ${key} is for ${quote.symbol}`, {
        symbol: key,
        field: 'symbol',
      });
    }
    quotes[key] = quote;
  }
  return { quotes, unknown };
}

/**
 * Checks daily bars: real days inside `range` (when given), strictly ascending, positive decimal
 * prices, a non-negative volume. Open/high/low are not required to bracket the close (adjusted
 * data from real sources sometimes does not), but each must be positive when present.
 *
 * @returns the same array.
 * @throws FoliokitError `PROVIDER_INVALID_RESPONSE` naming the symbol, the day and the field.
 */
export function validateBars(
  bars: DailyBar[],
  symbol: string,
  provider: string,
  range?: { from: string; to: string },
): DailyBar[] {
  if (!Array.isArray(bars)) throw invalid(provider, `history of ${symbol} is not an array`, { symbol });
  let previous = '';
  for (let i = 0; i < bars.length; i++) {
    const bar = bars[i] as DailyBar;
    if (typeof bar !== 'object' || bar === null || !isDay(bar.day)) {
      throw invalid(provider, `bar ${i} of ${symbol} has no valid day`, {
        symbol,
        index: i,
        field: 'day',
      });
    }
    const day = bar.day;
    if (day <= previous) {
      throw invalid(provider, `bars of ${symbol} are not strictly ascending at ${day}`, { symbol, day, field: 'day' });
    }
    if (range && (day < range.from || day > range.to)) {
      throw invalid(provider, `bar ${day} of ${symbol} is outside ${range.from}..${range.to}`, { symbol, day });
    }
    previous = day;
    if (!isPositiveDecimalString(bar.close)) {
      throw invalid(provider, `invalid close for ${symbol} on ${day}`, {
        symbol,
        day,
        field: 'close',
      });
    }
    for (const field of ['open', 'high', 'low', 'adjClose'] as const) {
      const value = bar[field];
      if (value !== undefined && !isPositiveDecimalString(value)) {
        throw invalid(provider, `invalid ${field} for ${symbol} on ${day}`, {
          symbol,
          day,
          field,
        });
      }
    }
    if (bar.volume !== undefined && !isNonNegativeDecimalString(bar.volume)) {
      throw invalid(provider, `invalid volume for ${symbol} on ${day}`, {
        symbol,
        day,
        field: 'volume',
      });
    }
  }
  return bars;
}
