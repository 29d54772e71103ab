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

const PLAIN = /^(-?)(\d+)(?:\.(\d+))?$/;

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

function parseScaledText(text: string, scale: number): bigint | null {
  const m = PLAIN.exec(text);
  if (!m) return null;
  const frac = m[3] ?? '';
  if (frac.length > scale) {
    // Trailing zeros beyond the scale are harmless.
    const trimmed = frac.replace(/0+$/, '');
    if (trimmed.length > scale) return null;
    return parseScaledText(`${m[1]}${m[2]}${trimmed === '' ? '' : `.${trimmed}`}`, scale);
  }
  const v = BigInt(m[2] + frac) * (POW10[scale - frac.length] as bigint);
  return m[1] === '-' ? -v : v;
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
