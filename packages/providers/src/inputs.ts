/**
 * Checks of what a provider is given: lists of symbols, day ranges, numeric options.
 */
import { FoliokitError, normalizeSymbol, parseDay } from '@foliokit/core';

/** Normalises (trims, upper-cases) and de-duplicates symbols, keeping first occurrences in order and dropping blanks. */
export function uniqueSymbols(symbols: readonly string[]): string[] {
  const keys = symbols.map((symbol) => normalizeSymbol(symbol, 'symbol', { check: false }));
  return [...new Set(keys)].filter((s) => s.length > 0);
}

/** Checks a `{ from, to }` range of `YYYY-MM-DD` days. Returns false when `from > to` (an empty range). */
export function checkRange(range: { from: string; to: string }): boolean {
  parseDay(range?.from, 'range.from');
  parseDay(range?.to, 'range.to');
  return range.from <= range.to;
}

/** Throws `INVALID_CONFIGURATION` unless `value` is a finite number within `[min, max]`. */
export function checkNumberOption(value: number, field: string, min: number, max = Number.POSITIVE_INFINITY): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    throw new FoliokitError('INVALID_CONFIGURATION', `${field} must be a number between ${min} and ${max}`, { field });
  }
  return value;
}
