/** The one rule for a symbol's form: how the engine, the price book and the providers normalise it. */
import { FoliokitError } from '../errors.js';

const SYMBOL_RE = /^[A-Z0-9][A-Z0-9.\-^=:_/]{0,31}$/;

/** Options of {@link normalizeSymbol}. */
export interface NormalizeSymbolOptions {
  /**
   * Check the form: 1 to 32 letters, digits or `. - ^ = : _ /`, starting with a letter or digit.
   * `false` only trims and upper-cases (a provider matching a caller's symbol against its own data,
   * where a malformed symbol is simply unknown).
   * @default true
   */
  check?: boolean;
}

/**
 * Normalises a symbol: trims it and upper-cases it (`' aapl '` → `'AAPL'`), then checks its form.
 *
 * @example
 * ```ts
 * normalizeSymbol(' brk.b '); // 'BRK.B'
 * normalizeSymbol('my file', 'symbol', { check: false }); // 'MY FILE'
 * ```
 * @throws FoliokitError `VALIDATION_FAILED` naming `field` when `input` is not a string, or (when
 *   checked) not of the form above.
 */
export function normalizeSymbol(input: unknown, field = 'symbol', options: NormalizeSymbolOptions = {}): string {
  if (typeof input !== 'string') {
    throw new FoliokitError('VALIDATION_FAILED', `${field} must be a string`, { field });
  }
  const symbol = input.trim().toUpperCase();
  if (options.check !== false && !SYMBOL_RE.test(symbol)) {
    throw new FoliokitError(
      'VALIDATION_FAILED',
      `${field} must be 1 to 32 letters, digits or . - ^ = : _ / (got ${JSON.stringify(input.slice(0, 40))})`,
      { field },
    );
  }
  return symbol;
}
