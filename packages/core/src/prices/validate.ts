/**
 * The one quote and bar validation, shared by the price book and the providers: prices are positive
 * plain decimal strings, instants are UTC ISO-8601 with `Z`, days are real calendar days, bars
 * ascend by day within the range asked. A NaN, negative, zero or infinite price never gets through.
 */
import { FoliokitError } from '../errors.js';
import type { DailyBar, Quote, QuoteBatch } from '../ports/index.js';
import { parseDay } from '../time.js';
import { normalizeSymbol } from './symbols.js';

/** A plain decimal: no sign, no exponent, at most 18 integer digits and 18 decimal places. */
const PLAIN_DECIMAL_RE = /^(?:0|[1-9]\d{0,17})(?:\.\d{1,18})?$/;
const NONZERO_RE = /[1-9]/;
const ISO_Z_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const CURRENCY_RE = /^[A-Za-z]{3}$/;
const BAR_PRICES = ['open', 'high', 'low', 'adjClose'] as const;

/** True for a strictly positive plain decimal string (`"150.25"`; not `"0"`, `"-1"`, `"1e3"`, `"NaN"`). */
export function isPositiveDecimalString(value: unknown): value is string {
  return typeof value === 'string' && PLAIN_DECIMAL_RE.test(value) && NONZERO_RE.test(value);
}

/** True for a non-negative plain decimal string (volumes). */
export function isNonNegativeDecimalString(value: unknown): value is string {
  return typeof value === 'string' && PLAIN_DECIMAL_RE.test(value);
}

/** True for a `YYYY-MM-DD` string that is a real calendar day. */
export function isDay(value: unknown): value is string {
  try {
    parseDay(value, 'day');
    return true;
  } catch {
    return false;
  }
}

/** True for a UTC ISO-8601 instant with seconds and `Z`. */
function isInstant(value: unknown): value is string {
  return typeof value === 'string' && ISO_Z_RE.test(value) && Number.isFinite(Date.parse(value));
}

/** What is wrong with a quote or a bar: the field at fault and a sentence naming it. */
export interface PriceFault {
  field: string;
  message: string;
}

/**
 * Finds what is wrong with one quote: a symbol (normalising to `symbol` when given), a positive
 * decimal price, a UTC ISO-8601 `at`, a source, and a three-letter currency when present.
 *
 * @returns the first fault, or `null` for a valid quote.
 */
export function findQuoteFault(quote: unknown, symbol?: string): PriceFault | null {
  const q = quote as Partial<Quote> | null;
  if (typeof q !== 'object' || q === null || typeof q.symbol !== 'string' || q.symbol === '') {
    return { field: 'symbol', message: 'a quote has no symbol' };
  }
  const name = q.symbol;
  if (symbol !== undefined && name !== symbol && normalizeSymbol(name, 'symbol', { check: false }) !== symbol) {
    return { field: 'symbol', message: `quote keyed ${symbol} is for ${name}` };
  }
  if (!isPositiveDecimalString(q.price)) {
    return {
      field: 'price',
      message: `invalid price for ${name}: ${JSON.stringify(String(q.price)).slice(0, 40)}`,
    };
  }
  if (!isInstant(q.at)) return { field: 'at', message: `invalid timestamp for ${name}` };
  if (typeof q.source !== 'string' || q.source === '') {
    return { field: 'source', message: `quote for ${name} has no source` };
  }
  if (q.currency !== undefined && (typeof q.currency !== 'string' || !CURRENCY_RE.test(q.currency))) {
    return { field: 'currency', message: `invalid currency for ${name}` };
  }
  return null;
}

/**
 * Finds what is wrong with one daily bar of `symbol`: a real day, a positive decimal close, positive
 * decimal open/high/low/adjClose when present, a non-negative decimal volume when present.
 * Open/high/low need not bracket the close (adjusted data from real sources sometimes does not).
 *
 * @returns the first fault, or `null` for a valid bar.
 */
export function findBarFault(bar: unknown, symbol: string): PriceFault | null {
  const b = bar as Partial<DailyBar> | null;
  if (typeof b !== 'object' || b === null || !isDay(b.day)) {
    return { field: 'day', message: `a bar of ${symbol} has no valid day` };
  }
  if (!isPositiveDecimalString(b.close)) return { field: 'close', message: `invalid close for ${symbol} on ${b.day}` };
  for (const field of BAR_PRICES) {
    const value = b[field];
    if (value !== undefined && !isPositiveDecimalString(value)) {
      return { field, message: `invalid ${field} for ${symbol} on ${b.day}` };
    }
  }
  if (b.volume !== undefined && !isNonNegativeDecimalString(b.volume)) {
    return { field: 'volume', message: `invalid volume for ${symbol} on ${b.day}` };
  }
  return null;
}

function invalid(provider: string, message: string, details: Record<string, unknown>): FoliokitError {
  return new FoliokitError('PROVIDER_INVALID_RESPONSE', `${provider}: ${message}`, { provider, ...details });
}

/**
 * Checks one quote: a symbol, a positive plain decimal price, a UTC ISO-8601 `at` ending in `Z`,
 * a source, and a three-letter currency when present.
 *
 * @returns the same quote.
 * @throws FoliokitError `PROVIDER_INVALID_RESPONSE` naming the provider, the symbol and the field at fault.
 */
export function validateQuote(quote: Quote, provider: string): Quote {
  const fault = findQuoteFault(quote);
  if (fault === null) return quote;
  const symbol = typeof quote?.symbol === 'string' && quote.symbol !== '' ? { symbol: quote.symbol } : {};
  throw invalid(provider, fault.message, { ...symbol, field: fault.field });
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
    throw invalid(provider, 'getQuotes returned no quotes object', { field: 'quotes' });
  }
  const quotes: Record<string, Quote> = {};
  const unknown: string[] = [];
  for (const symbol of requested) {
    const key = normalizeSymbol(symbol, 'symbol', { check: false });
    const quote = Object.hasOwn(batch.quotes, key) ? batch.quotes[key] : undefined;
    if (quote === undefined) {
      unknown.push(key);
      continue;
    }
    const fault = findQuoteFault(quote, key);
    if (fault !== null) throw invalid(provider, fault.message, { symbol: key, field: fault.field });
    quotes[key] = quote;
  }
  return { quotes, unknown };
}

/**
 * Checks the daily bars of `symbol`: real days, strictly ascending, inside `range` when given; a
 * positive plain decimal close; open, high, low and adjClose positive and volume non-negative
 * when present.
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
    const fault = findBarFault(bar, symbol);
    if (fault?.field === 'day') {
      throw invalid(provider, `bar ${i} of ${symbol} has no valid day`, { symbol, index: i, field: 'day' });
    }
    const day = bar.day;
    if (day <= previous) {
      throw invalid(provider, `bars of ${symbol} are not strictly ascending at ${day}`, { symbol, day, field: 'day' });
    }
    if (range && (day < range.from || day > range.to)) {
      throw invalid(provider, `bar ${day} of ${symbol} is outside ${range.from}..${range.to}`, { symbol, day });
    }
    if (fault !== null) throw invalid(provider, fault.message, { symbol, day, field: fault.field });
    previous = day;
  }
  return bars;
}
