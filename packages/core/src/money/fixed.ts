/**
 * Exact fixed-point decimals on `bigint`, for hot loops that add up many products (backfill's walk
 * over ten years of days). The results are the same exact values decimal.js gives, printed the
 * same way as `fmt`, with a fraction of the garbage: a value is a `bigint` scaled by `10^scale`.
 *
 * This is not a second decimal library for the ledger: it only reads decimal strings the engine
 * already validated (or the provider's closes, which it validates like `parseDecimal`), adds and
 * multiplies exactly, and prints. Anything it cannot read exactly it refuses (`null`), and the
 * caller falls back to `Dec`.
 */

const POW10: bigint[] = [];
for (let i = 0, p = 1n; i <= 80; i++, p *= 10n) POW10.push(p);

/** 10^n as a bigint (n ≤ 80). */
export function pow10(n: number): bigint {
  return POW10[n] as bigint;
}

/**
 * Reads a plain decimal string (`"-12.5"`, no exponent) as a bigint scaled by `10^scale`; null
 * when it is not plain or has more than `scale` decimals (it would not be exact).
 */
export function parseScaled(text: string, scale: number): bigint | null {
  // The same text is often read twice in a row (a bar's close by two indicators, then valued).
  if (text === lastText && scale === lastScale) return lastValue;
  const value = parseScaledText(text, scale);
  lastText = text;
  lastScale = scale;
  lastValue = value;
  return value;
}

/** The last {@link parseScaled} call (a pure function: its answer can be reused). */
let lastText = '';
let lastScale = -1;
let lastValue: bigint | null = null;

/** Digits a double holds exactly in any case (10^15 < 2^53). */
const SAFE_DIGITS = 15;

/**
 * What `/^(-?)(\d+)(?:\.(\d+))?$/` accepts (an optional minus, one or more ASCII digits, optionally
 * a point and one or more digits), read in one pass. Up to 15 digits are summed in a double (exact)
 * and made a bigint once; longer texts go through `BigInt` of the digits.
 */
function parseScaledText(text: string, scale: number): bigint | null {
  const length = text.length;
  let i = 0;
  const negative = length > 0 && text.charCodeAt(0) === 45;
  if (negative) i = 1;
  const intStart = i;
  let digits = 0;
  let small = 0;
  let c = 0;
  while (i < length) {
    c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    small = small * 10 + (c - 48);
    digits++;
    i++;
  }
  if (i === intStart) return null;
  const intEnd = i;
  let fracLength = 0;
  let fracEnd = i;
  if (i < length) {
    if (c !== 46) return null;
    i++;
    const fracStart = i;
    // The fraction without its trailing zeros (harmless beyond the scale).
    let significant = 0;
    while (i < length) {
      c = text.charCodeAt(i);
      if (c < 48 || c > 57) return null;
      i++;
      if (c !== 48) significant = i - fracStart;
    }
    if (i === fracStart) return null;
    fracLength = i - fracStart <= scale ? i - fracStart : significant;
    if (fracLength > scale) return null;
    fracEnd = fracStart + fracLength;
    for (let j = fracStart; j < fracEnd; j++) small = small * 10 + (text.charCodeAt(j) - 48);
    digits += fracLength;
  }
  let v: bigint;
  if (digits <= SAFE_DIGITS) {
    v = BigInt(small);
  } else {
    const whole = text.slice(intStart, intEnd);
    v = BigInt(fracLength === 0 ? whole : whole + text.slice(intEnd + 1, fracEnd));
  }
  if (fracLength < scale) v *= POW10[scale - fracLength] as bigint;
  return negative ? -v : v;
}

/** 10^0 … 10^15 as doubles (exact). */
const POW10_NUMBER: number[] = [];
for (let i = 0, p = 1; i <= 15; i++, p *= 10) POW10_NUMBER.push(p);

/** The last {@link parseScaledNumber} call (a bar's close is read by two indicators in a row). */
let lastNumberText = '';
let lastNumberScale = -1;
let lastNumber = Number.NaN;

/**
 * Reads a plain decimal string (what {@link parseScaled} reads) as a whole number scaled by
 * `10^scale` in a double, when that is exact: at most `scale` decimals (trailing zeros count), at
 * most 15 digits in all, and a result of at most 2^53 − 1 in magnitude. NaN otherwise (the caller
 * then reads the text with {@link parseScaled}). `scale` is 0 to 15.
 */
export function parseScaledNumber(text: string, scale: number): number {
  if (text === lastNumberText && scale === lastNumberScale) return lastNumber;
  const length = text.length;
  let i = length > 0 && text.charCodeAt(0) === 45 ? 1 : 0;
  const start = i;
  let n = 0;
  let c = 0;
  while (i < length) {
    c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
    i++;
  }
  const intDigits = i - start;
  if (intDigits === 0) return Number.NaN;
  let places = 0;
  if (i < length) {
    if (c !== 46) return Number.NaN;
    const fracStart = ++i;
    while (i < length) {
      c = text.charCodeAt(i);
      if (c < 48 || c > 57) return Number.NaN;
      n = n * 10 + (c - 48);
      i++;
    }
    places = i - fracStart;
    if (places === 0 || places > scale) return Number.NaN;
  }
  if (intDigits + places > SAFE_DIGITS) return Number.NaN;
  // n < 10^15 is exact, and so is the product when it is at most 2^53 − 1 (a whole number).
  const x = n * (POW10_NUMBER[scale - places] as number);
  if (x > Number.MAX_SAFE_INTEGER) return Number.NaN;
  lastNumberText = text;
  lastNumberScale = scale;
  lastNumber = start === 1 ? -x : x;
  return lastNumber;
}

/** Prints a scaled bigint like `fmt` prints a decimal: plain, no trailing zeros, `"0"` for zero. */
export function formatScaled(value: bigint, scale: number): string {
  if (value === 0n) return '0';
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString();
  let int: string;
  let frac: string;
  if (digits.length > scale) {
    int = digits.slice(0, digits.length - scale);
    frac = digits.slice(digits.length - scale);
  } else {
    int = '0';
    frac = digits.padStart(scale, '0');
  }
  let end = frac.length;
  while (end > 0 && frac.charCodeAt(end - 1) === 48) end--;
  const text = end === 0 ? int : `${int}.${frac.slice(0, end)}`;
  return negative ? `-${text}` : text;
}
