/** The one rule for a symbol's form: how the engine, the price book and the providers normalise it. */
import { FoliokitError } from '../errors.js';

/** 1 to 32 characters: one optional leading `^` (an index: `^GSPC`), a letter or digit, then any of the set. */
const SYMBOL_RE = /^(?=.{1,32}$)\^?[A-Z0-9][A-Z0-9.\-^=:_/]*$/;
/** Printable ASCII: a symbol outside it is refused before any change of case (`ß` would become `SS`). */
const ASCII_RE = /^[\x20-\x7E]*$/;

/** Options of {@link normalizeSymbol}. */
export interface NormalizeSymbolOptions {
  /**
   * Check the form: printable ASCII only (checked before changing case), then 1 to 32 letters,
   * digits or `. - ^ = : _ /`, starting with a letter or digit, or with one `^` and then a letter or
   * digit (an index: `^GSPC`). `false` only trims and upper-cases ASCII letters (a provider matching
   * a caller's symbol against its own data, where a malformed symbol is simply unknown); other
   * characters are kept as they are.
   * @default true
   */
  check?: boolean;
}

/**
 * Normalises a symbol: trims it and upper-cases its ASCII letters (`' aapl '` → `'AAPL'`), then
 * checks its form. Case is changed only for `a` to `z`, so no character turns into others
 * (`'ß'.toUpperCase()` is `'SS'`).
 *
 * @example
 * ```ts
 * normalizeSymbol(' brk.b '); // 'BRK.B'
 * normalizeSymbol('^gspc'); // '^GSPC'
 * normalizeSymbol('my file', 'symbol', { check: false }); // 'MY FILE'
 * ```
 * @throws FoliokitError `VALIDATION_FAILED` naming `field` when `input` is not a string, or (when
 *   checked) not of the form above.
 */
export function normalizeSymbol(input: unknown, field = 'symbol', options: NormalizeSymbolOptions = {}): string {
  if (typeof input !== 'string') {
    throw new FoliokitError('VALIDATION_FAILED', `${field} must be a string`, { field });
  }
  const trimmed = input.trim();
  if (options.check === false) return upperAscii(trimmed);
  const symbol = ASCII_RE.test(trimmed) ? upperAscii(trimmed) : '';
  if (!SYMBOL_RE.test(symbol)) {
    throw new FoliokitError(
      'VALIDATION_FAILED',
      `${field} must be 1 to 32 ASCII letters, digits or . - ^ = : _ /, starting with a letter, a digit ` +
        `or one ^ before one (got ${JSON.stringify(input.slice(0, 40))})`,
      { field },
    );
  }
  return symbol;
}

/** Upper-cases `a` to `z` and nothing else. */
function upperAscii(text: string): string {
  return text.replace(/[a-z]+/g, (letters) => letters.toUpperCase());
}
