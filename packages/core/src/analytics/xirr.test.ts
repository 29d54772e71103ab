import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DatedFlow, npv, xirr } from './xirr.js';

const flow = (day: string, amount: number): DatedFlow => ({ day, amount });

/** An independent check: plain bisection on NPV(r) in r itself, 200 halvings (far below double precision). */
function bisect(flows: DatedFlow[], lo: number, hi: number): number {
  let a = lo;
  let b = hi;
  const fa = npv(flows, a);
  for (let i = 0; i < 200; i++) {
    const m = (a + b) / 2;
    if (Math.sign(npv(flows, m)) === Math.sign(fa)) a = m;
    else b = m;
  }
  return (a + b) / 2;
}

describe('xirr', () => {
  it('−1000 then +1100 one year (365 days) later is 10 %', () => {
    // −1000 + 1100 / (1 + r)^1 = 0 → r = 1100 / 1000 − 1 = 0.1
    const result = xirr([flow('2025-01-01', -1000), flow('2026-01-01', 1100)]);
    expect(result.rate).toBeCloseTo(0.1, 12);
    expect(result.roots).toBe(1);
    expect(result.method).toBe('xirr');
    expect(result.iterations).toBeGreaterThan(0);
  });

  it('two years: the closed form (1210 / 1000)^(365 / 730) − 1 = 0.1', () => {
    // 2025-01-01 → 2027-01-01 is 730 days (neither year is a leap year), t = 2.
    const result = xirr([flow('2025-01-01', -1000), flow('2027-01-01', 1210)]);
    expect(result.rate).toBeCloseTo((1210 / 1000) ** (365 / 730) - 1, 12);
  });

  it('two deposits and an end value: 10 % checked in future value', () => {
    // At r = 0.1, valued at t = 2: −1000 × 1.1² − 1000 × 1.1 + 2310 = −1210 − 1100 + 2310 = 0
    const result = xirr([flow('2025-01-01', -1000), flow('2026-01-01', -1000), flow('2027-01-01', 2310)]);
    expect(result.rate).toBeCloseTo(0.1, 12);
  });

  it('agrees with a high-precision bisection on irregular dates', () => {
    const flows = [
      flow('2019-03-14', -5000),
      flow('2020-07-02', -1200),
      flow('2021-02-28', 800),
      flow('2022-11-30', -2500),
      flow('2024-02-29', 300),
      flow('2025-06-17', 11_000),
    ];
    const result = xirr(flows);
    // One sign change in the cumulative flows → one root; NPV(0) = 3400 > 0 and NPV(1) < 0 bracket it.
    expect(npv(flows, 0)).toBeGreaterThan(0);
    expect(npv(flows, 1)).toBeLessThan(0);
    expect(result.rate).toBeCloseTo(bisect(flows, 0, 1), 12);
    expect(Math.abs(npv(flows, result.rate as number))).toBeLessThan(1e-8);
  });

  it('finds negative rates and rates near the edges', () => {
    // −1000 then +500 a year later: r = 0.5 − 1 = −0.5
    expect(xirr([flow('2025-01-01', -1000), flow('2026-01-01', 500)]).rate).toBeCloseTo(-0.5, 12);
    // −1 then +1e5 a year later: r = 99 999
    const big = xirr([flow('2025-01-01', -1), flow('2026-01-01', 1e5)]).rate as number;
    expect(big / 99_999).toBeCloseTo(1, 10);
    // a 30-year flow at −99 % a year: (1 − 0.99)^30 = 1e-60; stays finite thanks to the scaled NPV
    const deep = xirr([flow('2000-01-01', -1), flow('2029-12-24', 1e-60)]).rate as number;
    expect(deep).toBeCloseTo(-0.99, 6);
  });

  it('no root: null with a reason', () => {
    // +100, −50, +100 at t = 0, 1, 2: with v = 1 / (1 + r), 100 − 50v + 100v² has discriminant 2500 − 40000 < 0
    const result = xirr([flow('2025-01-01', 100), flow('2026-01-01', -50), flow('2027-01-01', 100)]);
    expect(result.rate).toBeNull();
    expect(result.reason).toContain('no rate');
    expect(result.roots).toBe(0);
  });

  it('a root below −99.99 % is outside the search and reported unavailable', () => {
    // −1000 then +0.01: r = 0.00001 − 1 = −0.99999
    expect(xirr([flow('2025-01-01', -1000), flow('2026-01-01', 0.01)]).rate).toBeNull();
  });

  it('a short, deep loss annualises below −99.99 % and is reported unavailable', () => {
    // −1 then +0.05 the next day: 0.05^365 − 1 rounds to −100 %, outside the search
    const result = xirr([flow('2020-01-01', -1), flow('2020-01-02', 0.05)]);
    expect(result.rate).toBeNull();
    expect(result.reason).toContain('no rate');
  });

  it('several sign changes: reports the root nearest 0 and says so', () => {
    // −100 + 230v − 132v² = 0 → v = (230 ± √(52900 − 52800)) / 264 = (230 ± 10) / 264
    // → v = 240/264 (r = 0.1) or v = 220/264 (r = 0.2)
    const result = xirr([flow('2025-01-01', -100), flow('2026-01-01', 230), flow('2027-01-01', -132)]);
    expect(result.roots).toBe(2);
    expect(result.rate).toBeCloseTo(0.1, 12);
    expect(result.note).toContain('2 rates');
  });

  it('validates: both signs, more than one day, real numbers', () => {
    expect(xirr([flow('2025-01-01', -1), flow('2026-01-01', -1)]).reason).toContain('needs both signs');
    expect(xirr([]).reason).toContain('needs both signs');
    // zero amounts are dropped before the check
    expect(xirr([flow('2025-01-01', -1), flow('2026-01-01', 0)]).reason).toContain('needs both signs');
    expect(xirr([flow('2025-01-01', -1), flow('2025-01-01', 2)]).reason).toContain('one day');
    expect(xirr([flow('2025-01-01', -1), flow('2026-01-01', Number.POSITIVE_INFINITY)]).reason).toContain('non-finite');
    expect(xirr([flow('2025-13-01', -1), flow('2026-01-01', 2)]).reason).toContain('invalid day');
  });

  it('does not depend on the order of the flows', () => {
    const a = xirr([flow('2025-01-01', -1000), flow('2025-07-01', -500), flow('2026-03-01', 1700)]);
    const b = xirr([flow('2026-03-01', 1700), flow('2025-01-01', -1000), flow('2025-07-01', -500)]);
    expect(b.rate).toBeCloseTo(a.rate as number, 12);
  });

  // Deposits (negative) on random days in the first years, and a positive end value (0.5× to 5× the deposits)
  // at least 60 days after the last deposit, so the annual rate stays inside the searched range
  // (0.5^(365/60) − 1 ≈ −98.5 %, 5^(365/60) − 1 ≈ 1.8e4).
  const investment = fc
    .tuple(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 2000 }), fc.double({ min: 1, max: 1e6, noNaN: true })), {
        minLength: 1,
        maxLength: 20,
      }),
      fc.integer({ min: 60, max: 1500 }),
      fc.double({ min: 0.5, max: 5, noNaN: true }),
    )
    .map(([deposits, tail, multiple]) => {
      const last = Math.max(...deposits.map(([d]) => d)) + tail;
      const total = deposits.reduce((sum, [, a]) => sum + a, 0);
      return [...deposits.map(([d, a]) => flow(dayAt(d), -a)), flow(dayAt(last), total * multiple)] as DatedFlow[];
    });

  it("property: the rate gives |NPV| ≈ 0 (relative to the flows' present values)", () => {
    fc.assert(
      fc.property(investment, (flows) => {
        const result = xirr(flows);
        expect(result.rate).not.toBeNull();
        const rate = result.rate as number;
        const first = flows.map((f) => f.day).sort()[0] as string;
        const scale = flows.reduce(
          (sum, f) =>
            sum + Math.abs(f.amount) * (1 + rate) ** -((Date.parse(f.day) - Date.parse(first)) / 86_400_000 / 365),
          0,
        );
        expect(Math.abs(npv(flows, rate))).toBeLessThan(1e-9 * scale);
      }),
    );
  });

  it('property: scaling every amount leaves the rate unchanged', () => {
    fc.assert(
      fc.property(investment, fc.double({ min: 1e-4, max: 1e4, noNaN: true }), (flows, k) => {
        const a = xirr(flows).rate as number;
        const b = xirr(flows.map((f) => ({ ...f, amount: f.amount * k }))).rate as number;
        expect(Math.abs(a - b)).toBeLessThan(1e-9 * Math.max(1, Math.abs(a)));
      }),
    );
  });
});

function dayAt(i: number): string {
  return new Date(Date.UTC(2020, 0, 1 + i)).toISOString().slice(0, 10);
}
