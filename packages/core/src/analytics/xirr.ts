/**
 * Money-weighted return: XIRR, the annual rate that makes the net present value of dated cash flows zero.
 *
 * Pure functions on JS numbers (IEEE-754 doubles). The solver brackets before it refines, so it never
 * wanders off like a bare Newton iteration, and it says "unavailable" when no rate exists.
 */
import { daysInclusive } from '../time.js';

/**
 * A dated cash flow, seen from the investor's pocket: negative = money the investor puts in (a deposit,
 * a purchase), positive = money the investor gets back (a withdrawal, and the end value as a final flow).
 */
export interface DatedFlow {
  day: string;
  amount: number;
}

/** The result of {@link xirr}. */
export interface XirrResult {
  /** The annual rate (0.1 = 10 %), or null (see `reason`). */
  rate: number | null;
  /** Why `rate` is null. */
  reason?: string;
  /** Brent iterations spent refining the reported root. */
  iterations: number;
  /** How many roots the scan found on (−99.99 %, 10⁸ %); more than one makes the rate ambiguous (see `note`). */
  roots: number;
  /** Set when several rates solve the equation: which one was reported. */
  note?: string;
  method: 'xirr';
}

/** Lowest and highest ln(1 + r) searched: r ∈ (−0.9999, 1e6). */
const X_LO = Math.log(1e-4);
const X_HI = Math.log1p(1e6);
/** Scan step in ln(1 + r): about 2 % in (1 + r), so roots closer together than that can be missed. */
const SCAN_STEP = 0.02;
const X_TOLERANCE = 1e-13;
const MAX_ITERATIONS = 200;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Years from the first flow, ACT/365. */
function yearsFromFirst(flows: DatedFlow[]): number[] {
  const first = flows.map((f) => f.day).sort()[0] ?? '';
  return flows.map((f) => (daysInclusive(first, f.day) - 1) / 365);
}

/**
 * Net present value of the flows at an annual `rate`: `NPV(r) = Σ a_i (1 + r)^(−t_i)`, with t_i the years
 * (ACT/365) from the earliest flow.
 */
export function npv(flows: DatedFlow[], rate: number): number {
  const years = yearsFromFirst(flows);
  let sum = 0;
  flows.forEach((f, i) => {
    sum += f.amount * (1 + rate) ** -(years[i] as number);
  });
  return sum;
}

/**
 * NPV as a function of x = ln(1 + r), scaled by a positive factor e^(−m) (m = the largest exponent) so that
 * it neither overflows near r = −99.99 % nor underflows at huge rates. Same sign and same roots as NPV.
 */
function scaledNpv(amounts: number[], years: number[], tMax: number): (x: number) => number {
  return (x) => {
    const m = x < 0 ? -x * tMax : 0;
    let sum = 0;
    for (let i = 0; i < amounts.length; i++) sum += (amounts[i] as number) * Math.exp(-x * (years[i] as number) - m);
    return sum;
  };
}

/** Every interval [x_k, x_{k+1}] of the scan grid where f changes sign (or a grid point where f is 0). */
function bracketRoots(f: (x: number) => number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const kFirst = Math.ceil(X_LO / SCAN_STEP);
  const kLast = Math.floor(X_HI / SCAN_STEP);
  let xPrev = kFirst * SCAN_STEP;
  let fPrev = f(xPrev);
  if (fPrev === 0) out.push([xPrev, xPrev]);
  for (let k = kFirst + 1; k <= kLast; k++) {
    const x = k * SCAN_STEP;
    const fx = f(x);
    if (fx === 0) out.push([x, x]);
    else if (fPrev !== 0 && Math.sign(fx) !== Math.sign(fPrev)) out.push([xPrev, x]);
    xPrev = x;
    fPrev = fx;
  }
  return out;
}

/**
 * Brent's method on a bracket [a, b] with f(a)·f(b) ≤ 0: inverse quadratic interpolation or secant steps,
 * falling back to bisection whenever a step would leave the bracket or shrink it too slowly.
 */
function brent(f: (x: number) => number, lo: number, hi: number): { x: number; iterations: number } {
  let a = lo;
  let b = hi;
  let fa = f(a);
  let fb = f(b);
  if (fa === 0) return { x: a, iterations: 0 };
  if (fb === 0) return { x: b, iterations: 0 };
  if (Math.abs(fa) < Math.abs(fb)) [a, b, fa, fb] = [b, a, fb, fa];
  let c = a;
  let fc = fa;
  let d = c;
  let bisected = true;
  for (let iterations = 1; iterations <= MAX_ITERATIONS; iterations++) {
    let s: number;
    if (fa !== fc && fb !== fc) {
      s =
        (a * fb * fc) / ((fa - fb) * (fa - fc)) +
        (b * fa * fc) / ((fb - fa) * (fb - fc)) +
        (c * fa * fb) / ((fc - fa) * (fc - fb));
    } else {
      s = b - (fb * (b - a)) / (fb - fa);
    }
    const lowEdge = (3 * a + b) / 4;
    const outside: boolean = !(s > Math.min(lowEdge, b) && s < Math.max(lowEdge, b));
    const slow: boolean = bisected ? Math.abs(s - b) >= Math.abs(b - c) / 2 : Math.abs(s - b) >= Math.abs(c - d) / 2;
    const tiny: boolean = bisected ? Math.abs(b - c) < X_TOLERANCE : Math.abs(c - d) < X_TOLERANCE;
    bisected = outside || slow || tiny || !Number.isFinite(s);
    if (bisected) s = (a + b) / 2;
    const fs = f(s);
    d = c;
    c = b;
    fc = fb;
    if (Math.sign(fa) !== Math.sign(fs)) {
      b = s;
      fb = fs;
    } else {
      a = s;
      fa = fs;
    }
    if (Math.abs(fa) < Math.abs(fb)) [a, b, fa, fb] = [b, a, fb, fa];
    if (fb === 0 || Math.abs(b - a) < X_TOLERANCE) return { x: b, iterations };
  }
  return { x: b, iterations: MAX_ITERATIONS };
}

/** Why the flows cannot have a rate (bad input, one sign only, one day only), or null. */
function invalidFlows(flows: DatedFlow[]): string | null {
  for (const f of flows) {
    if (!DAY_RE.test(f.day) || Number.isNaN(Date.parse(`${f.day}T00:00:00Z`))) return `invalid day '${f.day}'`;
    if (!Number.isFinite(f.amount)) return `non-finite amount on ${f.day}`;
  }
  if (!flows.some((f) => f.amount < 0) || !flows.some((f) => f.amount > 0)) {
    return 'needs both signs: at least one negative (money in) and one positive (money out or end value) flow';
  }
  if (flows.every((f) => f.day === flows[0]?.day)) return 'all flows on one day: no time for a rate to act';
  return null;
}

/**
 * XIRR: the annual rate r solving `Σ a_i (1 + r)^(−t_i) = 0`, t_i in years (ACT/365) from the first flow.
 * Sign convention: negative = money the investor puts in, positive = money back (include the end value as a
 * positive flow on the last day).
 *
 * Method: zero amounts are dropped; the flows need both signs. The NPV is scanned on a grid uniform in
 * ln(1 + r) over r ∈ (−0.9999, 1e6) (step 0.02) for sign changes, and each bracket is refined with Brent's
 * method to |Δ ln(1 + r)| < 1e-13. Several roots (possible when the flows change sign more than once) →
 * the one nearest 0 is reported, with `roots` and a `note`. No sign change → `rate: null` with a reason
 * (roots closer together than the grid step can cancel out and be missed; that is stated, not hidden).
 *
 * @example xirr([{ day: '2025-01-01', amount: -1000 }, { day: '2026-01-01', amount: 1100 }]).rate // 0.1
 */
export function xirr(flows: DatedFlow[]): XirrResult {
  const nonZero = flows.filter((f) => f.amount !== 0);
  const invalid = invalidFlows(nonZero);
  if (invalid) return { rate: null, reason: invalid, iterations: 0, roots: 0, method: 'xirr' };
  const years = yearsFromFirst(nonZero);
  const f = scaledNpv(
    nonZero.map((x) => x.amount),
    years,
    Math.max(...years),
  );
  const brackets = bracketRoots(f);
  if (brackets.length === 0) {
    return {
      rate: null,
      reason: 'no rate in (−99.99 %, 10⁸ %) makes the net present value zero',
      iterations: 0,
      roots: 0,
      method: 'xirr',
    };
  }
  const solved = brackets.map(([lo, hi]) => {
    const root = brent(f, lo, hi);
    return { rate: Math.expm1(root.x), iterations: root.iterations };
  });
  const best = solved.reduce((p, q) => (Math.abs(q.rate) < Math.abs(p.rate) ? q : p));
  const result: XirrResult = { rate: best.rate, iterations: best.iterations, roots: solved.length, method: 'xirr' };
  if (solved.length > 1) {
    result.note = `${solved.length} rates solve the equation (${solved.map((s) => s.rate.toPrecision(6)).join(', ')}); reported the one nearest 0`;
  }
  return result;
}
