/**
 * Reads the numbers a data source sends (JSON numbers or numeric strings) into the plain decimal
 * strings quotes and bars carry, without going through a float for strings.
 */
import { Dec, fmt, isNonNegativeDecimalString, isPositiveDecimalString } from '@foliokit/core';

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
