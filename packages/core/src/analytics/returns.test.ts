import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { annualize, chainedReturns, type FlowDay, modifiedDietz, simpleReturn, ttwror } from './returns.js';

const day = (d: string, value: number, inflow = 0, outflow = 0): FlowDay => ({ day: d, value, inflow, outflow });

describe('ttwror', () => {
  it('counts inflows at the start of the day and outflows at the end (hand-checked)', () => {
    const result = ttwror([
      // r1 = (1100 + 0) / (0 + 1000) − 1 = 0.10
      day('2026-01-01', 1100, 1000),
      // inflow at the START: r2 = (1800 + 0) / (1100 + 900) − 1 = 1800 / 2000 − 1 = −0.10
      // (counted at the end it would be (1800 − 900) / 1100 − 1 = −0.1818…)
      day('2026-01-02', 1800, 900),
      // outflow at the END: r3 = (1480 + 500) / (1800 + 0) − 1 = 1980 / 1800 − 1 = 0.10
      day('2026-01-03', 1480, 0, 500),
    ]);
    expect(result.daily.map((d) => d.r)).toEqual([
      expect.closeTo(0.1, 12),
      expect.closeTo(-0.1, 12),
      expect.closeTo(0.1, 12),
    ]);
    // cumulative = 1.1 × 0.9 × 1.1 − 1 = 1.089 − 1 = 0.089
    expect(result.cumulative).toBeCloseTo(0.089, 12);
    expect(result.gaps).toEqual([]);
    expect(result.chainedDays).toBe(3);
    expect(result.method).toBe('ttwror');
  });

  it('chains from options.startValue for a sub-range', () => {
    // V0 = 2000; r1 = 2100 / 2000 − 1 = 0.05; r2 = (2000 + 210) / 2100 − 1 = 0.05238…; cumulative = 2210 / 2000 − 1 = 0.105
    const result = ttwror([day('2026-03-02', 2100), day('2026-03-03', 2000, 0, 210)], { startValue: 2000 });
    expect(result.cumulative).toBeCloseTo(0.105, 12);
  });

  it('trap: a full sale is not −100 % (the proceeds stay in the value as cash)', () => {
    const result = ttwror([
      day('2026-01-01', 1000, 1000), // r = 1000 / 1000 − 1 = 0
      day('2026-01-02', 1050), // sold everything for 1050 cash: r = 1050 / 1000 − 1 = 0.05
      day('2026-01-03', 1050), // all cash: r = 0
    ]);
    expect(result.cumulative).toBeCloseTo(0.05, 12);
    expect(result.gaps).toEqual([]);
  });

  it('trap: income after a full sale and withdrawal is skipped with a reason, not −100 % or +∞', () => {
    const result = ttwror([
      day('2026-01-01', 1000, 1000), // r = 0
      day('2026-01-02', 0, 0, 1050), // sold and withdrew all: r = (0 + 1050) / 1000 − 1 = 0.05
      day('2026-01-03', 10), // dividend of 10 on a portfolio worth 0: (10 + 0) / (0 + 0) → not chainable
      day('2026-01-04', 10), // r = 10 / 10 − 1 = 0
    ]);
    expect(result.daily.map((d) => d.r)).toEqual([0, expect.closeTo(0.05, 12), null, 0]);
    expect(result.gaps).toEqual([{ day: '2026-01-03', reason: expect.stringContaining('not chainable') }]);
    expect(result.cumulative).toBeCloseTo(0.05, 12);
    expect(result.chainedDays).toBe(3);
  });

  it('trap: flows on a zero-value day', () => {
    const result = ttwror([
      day('2026-01-01', 0), // nothing invested: skipped, "no capital invested"
      day('2026-01-02', 0, 500, 500), // deposited and withdrawn the same day: (0 + 500) / (0 + 500) − 1 = 0
      day('2026-01-03', 0, 0, 100), // withdrawal from nothing: (0 + 100) / (0 + 0) → not chainable
      day('2026-01-04', 1100, 1000), // 1100 / 1000 − 1 = 0.1
    ]);
    expect(result.daily.map((d) => d.r)).toEqual([null, 0, null, expect.closeTo(0.1, 12)]);
    expect(result.gaps.map((g) => [g.day, g.reason])).toEqual([
      ['2026-01-01', 'no capital invested'],
      ['2026-01-03', expect.stringContaining('not chainable')],
    ]);
    expect(result.cumulative).toBeCloseTo(0.1, 12);
  });

  it('is null with a reason when no day had capital, never 0 % or −100 %', () => {
    const result = ttwror([day('2026-01-01', 0), day('2026-01-02', 0)]);
    expect(result.cumulative).toBeNull();
    expect(result.reason).toBe('no day had capital invested at its start');
    expect(ttwror([]).reason).toBe('no days');
  });

  it('skips negative capital (margin deeper than assets) instead of chaining a sign flip', () => {
    // day 1: (−50 + 1050) / (0 + 1000) − 1 = 0, ending at −50 (borrowed);
    // day 2: V1 + In2 = −50 + 0 < 0 → skipped; day 3: r3 = 60 / (50 + 0) − 1 = 0.2
    const result = ttwror([day('2026-01-01', -50, 1000, 1050), day('2026-01-02', 50), day('2026-01-03', 60)]);
    expect(result.daily.map((d) => d.r)).toEqual([0, null, expect.closeTo(0.2, 12)]);
    expect(result.gaps[0]?.reason).toContain('negative capital');
    expect(result.cumulative).toBeCloseTo(0.2, 12);
  });

  it('gives −100 % only for a real total loss (capital > 0, nothing left, nothing withdrawn)', () => {
    expect(ttwror([day('2026-01-01', 0, 1000)]).cumulative).toBe(-1);
  });

  it('rejects unusable input with a reason', () => {
    expect(ttwror([day('2026-01-02', 1, 1), day('2026-01-01', 1)]).reason).toContain('strictly ascending');
    expect(ttwror([day('2026-01-01', 1, -1)]).reason).toContain('≥ 0');
    expect(ttwror([day('2026-01-01', Number.NaN, 1)]).reason).toContain('non-finite');
    expect(ttwror([day('2026-1-1', 1, 1)]).reason).toContain('invalid day');
  });

  it('chainedReturns drops the skipped days', () => {
    expect(
      chainedReturns([
        { day: 'a', r: 0.1 },
        { day: 'b', r: null },
        { day: 'c', r: -0.2 },
      ]),
    ).toEqual([0.1, -0.2]);
  });

  // Simulates a portfolio whose whole capital earns r_t each day: V_t + Out_t = (V_{t−1} + In_t)(1 + r_t).
  const simulation = fc
    .array(
      fc.record({
        r: fc.double({ min: -0.5, max: 0.5, noNaN: true }),
        inflow: fc.double({ min: 0, max: 1e6, noNaN: true }),
        outShare: fc.double({ min: 0, max: 0.9, noNaN: true }),
      }),
      { minLength: 2, maxLength: 40 },
    )
    .map((steps) => {
      let prev = 1000;
      return steps.map((s, i) => {
        const grown = (prev + s.inflow) * (1 + s.r);
        const outflow = grown * s.outShare;
        prev = grown - outflow;
        return { day: dayAt(i), value: prev, inflow: s.inflow, outflow, r: s.r };
      });
    });

  it('property: recovers the simulated daily returns', () => {
    fc.assert(
      fc.property(simulation, (sim) => {
        const result = ttwror(sim, { startValue: 1000 });
        const expected = sim.reduce((g, s) => g * (1 + s.r), 1) - 1;
        expect(Math.abs((result.cumulative as number) - expected)).toBeLessThan(1e-9 * Math.max(1, Math.abs(expected)));
      }),
    );
  });

  it('property: unchanged by a deposit that is invested with the rest and withdrawn the next day at its value', () => {
    fc.assert(
      fc.property(simulation, fc.nat(), fc.double({ min: 1, max: 1e6, noNaN: true }), (sim, at, deposit) => {
        const k = at % (sim.length - 1);
        const changed = sim.map((s) => ({ ...s }));
        const dayK = changed[k] as (typeof changed)[number];
        const dayNext = changed[k + 1] as (typeof changed)[number];
        // Day k: the deposit D arrives at the start and earns the day's return with the rest:
        // V'_k = (V_{k−1} + In_k + D)(1 + r_k) − Out_k.
        const prevValue = k === 0 ? 1000 : (sim[k - 1] as FlowDay).value;
        dayK.inflow += deposit;
        dayK.value = (prevValue + dayK.inflow) * (1 + dayK.r) - dayK.outflow;
        // Day k + 1: everything earns r_{k+1}; the deposit, grown to D(1 + r_k)(1 + r_{k+1}), is withdrawn at the end,
        // which brings the value back to the original V_{k+1}.
        dayNext.outflow += (dayK.value + dayNext.inflow) * (1 + dayNext.r) - dayNext.outflow - dayNext.value;
        const before = ttwror(sim, { startValue: 1000 }).cumulative as number;
        const after = ttwror(changed, { startValue: 1000 }).cumulative as number;
        expect(Math.abs(after - before)).toBeLessThan(1e-9 * Math.max(1, Math.abs(before)));
      }),
    );
  });

  it('property: scaling every amount leaves the return unchanged', () => {
    fc.assert(
      fc.property(simulation, fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (sim, k) => {
        const scaled = sim.map((s) => ({ ...s, value: s.value * k, inflow: s.inflow * k, outflow: s.outflow * k }));
        const a = ttwror(sim, { startValue: 1000 }).cumulative as number;
        const b = ttwror(scaled, { startValue: 1000 * k }).cumulative as number;
        expect(Math.abs(a - b)).toBeLessThan(1e-9 * Math.max(1, Math.abs(a)));
      }),
    );
  });
});

function dayAt(i: number): string {
  return new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10);
}

describe('annualize', () => {
  it('compounds over 365-day years', () => {
    // 1.21^(365 / 730) − 1 = 1.1 − 1 = 0.1
    expect(annualize(0.21, 730)).toBeCloseTo(0.1, 12);
    // 1.1^(365 / 365) − 1 = 0.1
    expect(annualize(0.1, 365)).toBeCloseTo(0.1, 12);
    // half a year: 1.05^2 − 1 = 0.1025
    expect(annualize(0.05, 182.5)).toBeCloseTo(0.1025, 12);
  });

  it('is null when it cannot be computed', () => {
    expect(annualize(0.1, 0)).toBeNull();
    expect(annualize(-1, 365)).toBeNull();
    expect(annualize(-1.5, 365)).toBeNull();
    expect(annualize(Number.NaN, 365)).toBeNull();
  });
});

describe('modifiedDietz', () => {
  it('weights start-of-day inflows and end-of-day outflows by the days they are invested (hand-checked)', () => {
    const points = modifiedDietz(
      [
        day('2026-01-01', 1010), // no flow
        day('2026-01-02', 1530, 500), // 500 in at the start of day 2
        day('2026-01-03', 1350, 0, 200), // 200 out at the end of day 3
      ],
      { startValue: 1000 },
    );
    // daily r: 1010 / 1000 − 1 = 0.01; 1530 / (1010 + 500) − 1; (1350 + 200) / 1530 − 1
    expect(points.map((p) => p.r)).toEqual([
      expect.closeTo(0.01, 12),
      expect.closeTo(1530 / 1510 - 1, 12),
      expect.closeTo(1550 / 1530 - 1, 12),
    ]);
    // Day 1 (T = 1): (1010 − 1000 − 0) / 1000 = 0.01
    // Day 2 (T = 2): inflow at s = 1, w = (2 − 1) / 2 = 1/2; (1530 − 1000 − 500) / (1000 + 250) = 30 / 1250 = 0.024
    // Day 3 (T = 3): inflow w = (3 − 1) / 3 = 2/3, outflow at s = 2, w = (3 − 2 − 1) / 3 = 0;
    //   ΣF = 500 − 200 = 300; (1350 − 1000 − 300) / (1000 + 500 × 2/3 − 200 × 0) = 50 / 1333.33… = 0.0375
    expect(points.map((p) => p.cumulative)).toEqual([
      expect.closeTo(0.01, 12),
      expect.closeTo(0.024, 12),
      expect.closeTo(0.0375, 12),
    ]);
    expect(points.every((p) => p.method === 'modified-dietz' && p.reason === undefined)).toBe(true);
  });

  it('counts calendar days missing from the list in the weights', () => {
    // 2026-01-02 is missing: the inflow on 2026-01-03 is at s = 2 of T = 3, w = 1/3.
    const points = modifiedDietz([day('2026-01-01', 1000), day('2026-01-03', 1330, 300)], { startValue: 1000 });
    // (1330 − 1000 − 300) / (1000 + 100) = 30 / 1100
    expect(points[1]?.cumulative).toBeCloseTo(30 / 1100, 12);
  });

  it('gives null with a reason when the average capital is ≤ 0', () => {
    // Day 1 holds nothing; day 2 receives income of 10 on zero capital.
    const points = modifiedDietz([day('2026-01-01', 0), day('2026-01-02', 10)]);
    expect(points.map((p) => p.cumulative)).toEqual([null, null]);
    expect(points[1]?.r).toBeNull();
    expect(points[1]?.reason).toContain('average invested capital ≤ 0');
  });

  it('returns the invalid-input reason on every point', () => {
    const points = modifiedDietz([day('2026-01-01', 1, -5)]);
    expect(points[0]?.reason).toContain('≥ 0');
  });
});

describe('simpleReturn', () => {
  it('is end value over net deposits minus 1', () => {
    // 1200 / 1000 − 1 = 0.2
    expect(simpleReturn(1200, 1000)).toEqual({ value: expect.closeTo(0.2, 12), method: 'simple' });
  });

  it('is null with a reason when net deposits are ≤ 0', () => {
    expect(simpleReturn(500, 0)).toEqual({ value: null, reason: expect.stringContaining('≤ 0'), method: 'simple' });
    expect(simpleReturn(500, -100).value).toBeNull();
  });
});
