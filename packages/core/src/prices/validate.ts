/**
 * The one quote and bar validation, shared by the price book and the providers: prices are positive
 * plain decimal strings, instants are UTC ISO-8601 with `Z`, days are real calendar days, bars
 * ascend by day within the range asked. A NaN, negative, zero or infinite price never gets through.
 */
import { FoliokitError } from '../errors.js';
import type { DailyBar, Quote, QuoteBatch } from '../ports/index.js';
import { normalizeSymbol } from './symbols.js';

const ISO_Z_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const CURRENCY_RE = /^[A-Za-z]{3}$/;

/** {@link scanPlainDecimal}'s answers. */
const NOT_PLAIN = 0;
const PLAIN_ZERO = 1;
const PLAIN_NONZERO = 2;

/**
 * Reads a plain decimal in one pass over its characters (bars are checked by the hundred thousand):
 * no sign, no exponent, `0` or a non-zero digit then at most 17 more integer digits, and optionally a
 * point followed by 1 to 18 digits — what `/^(?:0|[1-9]\d{0,17})(?:\.\d{1,18})?$/` accepts.
 *
 * @returns {@link NOT_PLAIN}, {@link PLAIN_ZERO} (every digit is 0) or {@link PLAIN_NONZERO}.
 */
function scanPlainDecimal(text: string): number {
  const length = text.length;
  if (length === 0) return NOT_PLAIN;
  let c = text.charCodeAt(0);
  let nonzero = false;
  let i = 1;
  if (c >= 49 && c <= 57) {
    nonzero = true;
    while (i < length) {
      c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      i++;
    }
    if (i > 18) return NOT_PLAIN;
  } else if (c !== 48) {
    return NOT_PLAIN;
  }
  if (i === length) return nonzero ? PLAIN_NONZERO : PLAIN_ZERO;
  if (text.charCodeAt(i) !== 46) return NOT_PLAIN;
  const start = ++i;
  if (length - start < 1 || length - start > 18) return NOT_PLAIN;
  for (; i < length; i++) {
    c = text.charCodeAt(i);
    if (c < 48 || c > 57) return NOT_PLAIN;
    if (c !== 48) nonzero = true;
  }
  return nonzero ? PLAIN_NONZERO : PLAIN_ZERO;
}

/** True for a strictly positive plain decimal string (`"150.25"`; not `"0"`, `"-1"`, `"1e3"`, `"NaN"`). */
export function isPositiveDecimalString(value: unknown): value is string {
  return typeof value === 'string' && scanPlainDecimal(value) === PLAIN_NONZERO;
}

/** True for a non-negative plain decimal string (volumes). */
export function isNonNegativeDecimalString(value: unknown): value is string {
  return typeof value === 'string' && scanPlainDecimal(value) !== NOT_PLAIN;
}

/** The value of the two ASCII digits at `i` and `i + 1` of `text`, or −1 when either is not a digit. */
function twoDigits(text: string, i: number): number {
  const a = text.charCodeAt(i) - 48;
  const b = text.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * True for a `YYYY-MM-DD` string that is a real calendar day (years 0001 to 9999; February 29 only
 * in a Gregorian leap year): the days `parseDay` accepts, read without a regex or an allocation.
 */
export function isDay(value: unknown): value is string {
  if (typeof value !== 'string' || value.length !== 10) return false;
  if (value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45) return false;
  const century = twoDigits(value, 0);
  const yy = twoDigits(value, 2);
  const month = twoDigits(value, 5);
  const day = twoDigits(value, 8);
  if (century < 0 || yy < 0 || month < 1 || month > 12 || day < 1) return false;
  const year = century * 100 + yy;
  if (year < 1) return false;
  if (day <= 28) return true;
  if (month === 2) return day === 29 && ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0);
  return day <= (month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31);
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
  // Unrolled (the fields in this order): this runs once per bar loaded.
  if (b.open !== undefined && !isPositiveDecimalString(b.open)) return priceFault('open', symbol, b.day);
  if (b.high !== undefined && !isPositiveDecimalString(b.high)) return priceFault('high', symbol, b.day);
  if (b.low !== undefined && !isPositiveDecimalString(b.low)) return priceFault('low', symbol, b.day);
  if (b.adjClose !== undefined && !isPositiveDecimalString(b.adjClose)) return priceFault('adjClose', symbol, b.day);
  if (b.volume !== undefined && !isNonNegativeDecimalString(b.volume)) {
    return { field: 'volume', message: `invalid volume for ${symbol} on ${b.day}` };
  }
  return null;
}

function priceFault(field: string, symbol: string, day: string): PriceFault {
  return { field, message: `invalid ${field} for ${symbol} on ${day}` };
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
