/**
 * Exact decimal arithmetic for money and quantities.
 *
 * foliokit never puts a ledger value through a binary float. Every price, quantity, cash amount and
 * fee is a {@link Dec} inside the engine and a plain decimal string (`"150.25"`) at the edges.
 * This module is the only place that knows which decimal library is used.
 */
import { Decimal as DecimalJs } from 'decimal.js';
import { FoliokitError } from '../errors.js';

/**
 * Our own Decimal constructor: 120 significant digits (every product of two inputs of 18 integer digits
 * and 18 decimal places stays exact), and plain notation for every
 * magnitude we print.
 */
export const Dec = DecimalJs.clone({
  precision: 120,
  rounding: DecimalJs.ROUND_HALF_EVEN,
  toExpNeg: -120,
  toExpPos: 120,
  minE: -120,
  maxE: 120,
});
export type Dec = InstanceType<typeof Dec>;

/** A decimal as accepted by the public API: a decimal string (`"12.5"`) or a finite number (`12.5`). */
export type DecimalInput = string | number;

/** Decimal places kept for derived values that need a division (average cost, partial cost basis). */
export const DERIVED_SCALE = 12;

/** The largest absolute value accepted anywhere: 10^18 (a quintillion). */
const MAX_ABS = new Dec('1e18');
/** The most decimal places accepted on input. */
const MAX_SCALE = 18;

export const DECIMAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Zero, shared. */
export const ZERO = new Dec(0);

/**
 * Reads a public decimal input. A number is read as the shortest decimal JavaScript prints for it
 * (`0.1` is exactly one tenth); strings may use an exponent (`"1e-7"`). Rejects non-finite numbers,
 * values beyond ±10^18, more than 18 decimal places, and anything that is not a number.
 *
 * @throws FoliokitError `VALIDATION_FAILED` naming `field`.
 */
export function parseDecimal(input: unknown, field: string): Dec {
  let text: string;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) {
      throw invalid(field, `${field} must be a finite number`);
    }
    if (Math.abs(input) > Number.MAX_SAFE_INTEGER) {
      throw invalid(field, `${field} is beyond 2^53 − 1 and not exact as a number; pass it as a decimal string`);
    }
    text = String(input);
  } else if (typeof input === 'string') {
    text = input.trim();
  } else {
    throw invalid(field, `${field} must be a decimal string or a number`);
  }
  if (!DECIMAL_RE.test(text)) {
    throw invalid(field, `${field} must be a decimal number, got ${JSON.stringify(String(input).slice(0, 40))}`);
  }
  // Reject huge exponents before decimal.js tries to build the value (it would overflow to Infinity).
  if (text.includes('e') || text.includes('E')) {
    const exp = /[eE]([+-]?\d+)$/.exec(text);
    if (exp && Math.abs(Number(exp[1])) > 40) {
      throw invalid(field, `${field} is out of range`);
    }
  }
  const value = new Dec(text);
  if (!value.isFinite() || (value.e >= 18 && value.abs().gt(MAX_ABS))) {
    throw invalid(field, `${field} is out of range (at most 10^18 in absolute value)`);
  }
  if (value.decimalPlaces() > MAX_SCALE) {
    throw invalid(field, `${field} has more than ${MAX_SCALE} decimal places`);
  }
  // Normalise -0 to 0.
  return value.isZero() ? ZERO : value;
}

/** Reads a decimal string that came from our own storage (trusted, already validated). */
export function dec(value: string | number | Dec): Dec {
  return new Dec(value);
}

/** Prints a decimal in plain notation without trailing zeros: `"150.25"`, `"0.0000001"`, `"0"`. */
export function fmt(value: Dec): string {
  if (value.isZero()) return '0';
  return value.toFixed();
}

function invalid(field: string, message: string): FoliokitError {
  return new FoliokitError('VALIDATION_FAILED', message, { field });
}

const POW10: bigint[] = [];
function pow10(n: number): bigint {
  let p = POW10[n];
  if (p === undefined) {
    p = 10n ** BigInt(n);
    POW10[n] = p;
  }
  return p;
}

/** A decimal as an integer and a scale: `12.345` → `[12345n, 3]`. */
function toScaled(value: Dec | string): [bigint, number] {
  const text = typeof value === 'string' ? value : value.toFixed();
  const negative = text.startsWith('-');
  const body = negative ? text.slice(1) : text;
  const dot = body.indexOf('.');
  const scale = dot < 0 ? 0 : body.length - dot - 1;
  const digits = dot < 0 ? body : body.slice(0, dot) + body.slice(dot + 1);
  const n = BigInt(digits);
  return [negative ? -n : n, scale];
}

/** Prints `n / 10^scale` canonically (no trailing zeros, `"0"` for zero). */
function scaledToString(n: bigint, scale: number): string {
  if (n === 0n) return '0';
  const negative = n < 0n;
  let digits = (negative ? -n : n).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    let end = digits.length;
    while (end > digits.length - scale && digits.charCodeAt(end - 1) === 48) end--;
    const point = digits.length - scale;
    digits = end === point ? digits.slice(0, point) : `${digits.slice(0, point)}.${digits.slice(point, end)}`;
  }
  return negative ? `-${digits}` : digits;
}

/**
 * `a / b` rounded half-even to `places` decimal places, computed exactly with integers (one
 * rounding, never two). Used for every derived value that needs a division. Strings must be plain
 * decimal strings as {@link fmt} prints them (no exponent).
 *
 * @throws RangeError when `b` is zero.
 */
export function divide(a: Dec | string, b: Dec | string, places: number = DERIVED_SCALE): Dec {
  return new Dec(divideToString(a, b, places));
}

/** {@link divide}, printed: `divideToString('10', '3', 4) === '3.3333'`. */
export function divideToString(a: Dec | string, b: Dec | string, places: number = DERIVED_SCALE): string {
  const [av, as] = toScaled(a);
  const [bv, bs] = toScaled(b);
  if (bv === 0n) throw new RangeError('division by zero');
  // a / b = (av / 10^as) / (bv / 10^bs); scaled by 10^places.
  let num = av * pow10(bs + places);
  let den = bv * pow10(as);
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  let q = num / den;
  const r = num % den;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice > den || (twice === den && q % 2n !== 0n)) q += num < 0n ? -1n : 1n;
  return scaledToString(q, places);
}
