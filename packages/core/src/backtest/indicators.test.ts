import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FoliokitError } from '../errors.js';
import { Dec, dec, divide, fmt } from '../money/decimal.js';
import { atr, bollinger, ema, macd, rsi, SMA_SCALE, sma } from './indicators.js';

/** Pushes every value and collects the answers. */
function run<In, Out>(indicator: { push(input: In): Out | null }, inputs: In[]): (Out | null)[] {
  return inputs.map((x) => indicator.push(x));
}

/** Asserts `fn` throws VALIDATION_FAILED naming `field`. */
function expectInvalid(fn: () => unknown, field: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(FoliokitError);
  expect((caught as FoliokitError).code).toBe('VALIDATION_FAILED');
  expect((caught as FoliokitError).details.field).toBe(field);
}

/** Decimal strings with up to 4 places between 0.0001 and 10,000 (prices). */
const priceText = fc.integer({ min: 1, max: 100_000_000 }).map((n) => fmt(dec(n).div(10_000)));
/** Float prices between 1 and 1000. */
const priceNumber = fc.double({ min: 1, max: 1000, noNaN: true, noDefaultInfinity: true });

describe('sma (exact)', () => {
  it('is the mean of the last period values, null while warming up', () => {
    // period 3 over 1..5: windows [1,2,3] → 6/3 = 2, [2,3,4] → 9/3 = 3, [3,4,5] → 12/3 = 4.
    const values = run(sma(3), [1, 2, 3, 4, 5]).map((v) => (v === null ? null : fmt(v)));
    expect(values).toEqual([null, null, '2', '3', '4']);
  });

  it('sma of 0.1, 0.2, 0.3 is exactly 0.2 (floats give 0.20000000000000004)', () => {
    expect((0.1 + 0.2 + 0.3) / 3).not.toBe(0.2);
    const fromNumbers = sma(3);
    run(fromNumbers, [0.1, 0.2, 0.3]);
    expect(fromNumbers.value).toBeInstanceOf(Dec);
    expect(fmt(fromNumbers.value as Dec)).toBe('0.2');
    expect((fromNumbers.value as Dec).eq(new Dec('0.2'))).toBe(true);
    const fromStrings = sma(3);
    run(fromStrings, ['0.1', '0.2', '0.3']);
    expect(fmt(fromStrings.value as Dec)).toBe('0.2');
  });

  it('rounds a non-terminating mean half-even to SMA_SCALE places', () => {
    // (1 + 1 + 2) / 3 = 4/3 = 1.333… ; (2 + 2 + 1) / 3 = 5/3 = 1.666…7 after rounding.
    expect(fmt(run(sma(3), [1, 1, 2])[2] as Dec)).toBe(`1.${'3'.repeat(SMA_SCALE)}`);
    expect(fmt(run(sma(3), [2, 2, 1])[2] as Dec)).toBe(`1.${'6'.repeat(SMA_SCALE - 1)}7`);
  });

  it('two SMAs of equal windows compare equal: neither above nor below', () => {
    // fast: period 3 over [1,1,2] = 4/3; slow: period 6 over [1,1,2,1,1,2] = 8/6 = 4/3.
    const fast = sma(3);
    const slow = sma(6);
    for (const x of [1, 1, 2, 1, 1, 2]) {
      fast.push(x);
      slow.push(x);
    }
    const f = fast.value as Dec;
    const s = slow.value as Dec;
    expect(f.eq(s)).toBe(true);
    expect(f.gt(s)).toBe(false);
    expect(f.lt(s)).toBe(false);
    expect(fast.compare(slow)).toBe(0);
    expect(slow.compare(fast)).toBe(0);
    // 0.1, 0.2, 0.3 (mean 0.2) against a window of just 0.2: equal, where floats would say above.
    const a = sma(3);
    const b = sma(1);
    run(a, [0.1, 0.2, 0.3]);
    b.push(0.2);
    expect(a.compare(b)).toBe(0);
    expect((a.value as Dec).gt(b.value as Dec)).toBe(false);
  });

  it('compare answers above and below, and null while either warms up', () => {
    const fast = sma(2);
    const slow = sma(3);
    fast.push(1);
    slow.push(1);
    fast.push(2);
    expect(fast.compare(slow)).toBeNull(); // slow has 2 of 3 values
    slow.push(2);
    fast.push(3);
    slow.push(3);
    // fast = (2+3)/2 = 2.5, slow = (1+2+3)/3 = 2
    expect(fast.compare(slow)).toBe(1);
    expect(slow.compare(fast)).toBe(-1);
  });

  it('add updates without building the value; value is then built on demand', () => {
    const s = sma(2);
    s.add('1.5');
    expect(s.ready).toBe(false);
    expect(s.value).toBeNull();
    s.add('2.5');
    expect(s.ready).toBe(true);
    expect(fmt(s.value as Dec)).toBe('2'); // (1.5 + 2.5) / 2
    s.add(new Dec('4.5'));
    expect(fmt(s.value as Dec)).toBe('3.5'); // (2.5 + 4.5) / 2
  });

  it('equals the brute-force mean of each window, exactly (random series)', () => {
    fc.assert(
      fc.property(
        fc.array(priceText, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 12 }),
        (xs, period) => {
          const s = sma(period);
          xs.forEach((x, i) => {
            const got = s.push(x);
            if (i + 1 < period) {
              expect(got).toBeNull();
              return;
            }
            let sum = new Dec(0);
            for (const y of xs.slice(i + 1 - period, i + 1)) sum = sum.plus(y);
            const want = divide(fmt(sum), String(period), SMA_SCALE);
            expect(fmt(got as Dec)).toBe(fmt(want));
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('compare agrees with the exact rational comparison of the two means (random series)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.integer({ min: 1, max: 50 }).map((n) => n / 10),
          { minLength: 1, maxLength: 40 },
        ),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 12 }),
        (xs, p, q) => {
          const a = sma(p);
          const b = sma(q);
          xs.forEach((x, i) => {
            a.push(x);
            b.push(x);
            if (i + 1 < Math.max(p, q)) {
              expect(a.compare(b)).toBeNull();
              return;
            }
            const sa = xs.slice(i + 1 - p, i + 1).reduce((t, y) => t.plus(y), new Dec(0));
            const sb = xs.slice(i + 1 - q, i + 1).reduce((t, y) => t.plus(y), new Dec(0));
            // sa / p vs sb / q  ⇔  sa · q vs sb · p
            const want = sa.times(q).cmp(sb.times(p));
            expect(a.compare(b)).toBe(want);
            expect((a.value as Dec).cmp(b.value as Dec)).toBe(want);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses values parseDecimal refuses, naming value', () => {
    const s = sma(2);
    for (const bad of [
      'abc',
      '',
      '0x10',
      Number.NaN,
      Number.POSITIVE_INFINITY,
      '1e19',
      2 ** 60,
      '0.1234567890123456789',
    ]) {
      expectInvalid(() => s.push(bad), 'value');
    }
    // Accepted edge forms go through parseDecimal too.
    s.push(' 1e-7 ');
    s.push('+.5');
    expect(fmt(s.value as Dec)).toBe('0.25000005');
  });
});

describe('ema', () => {
  it('is seeded with the SMA of the first period values, then α·x + (1−α)·prev', () => {
    // period 3: α = 2/(3+1) = 0.5. Seed = (2+4+6)/3 = 4; then 0.5·8 + 0.5·4 = 6; 0.5·10 + 0.5·6 = 8.
    expect(run(ema(3), [2, 4, 6, 8, 10])).toEqual([null, null, 4, 6, 8]);
    // period 4: α = 0.4. Seed = (1+2+3+4)/4 = 2.5; then 0.4·10 + 0.6·2.5 = 5.5; 0.4·0 + 0.6·5.5 = 3.3.
    const out = run(ema(4), ['1', '2', '3', '4', '10', '0']);
    expect(out.slice(0, 4)).toEqual([null, null, null, 2.5]);
    expect(out[4]).toBeCloseTo(5.5, 12);
    expect(out[5]).toBeCloseTo(3.3, 12);
  });

  it('matches the closed form (1−α)^m·seed + Σ α(1−α)^(t−j)·x_j (random series)', () => {
    fc.assert(
      fc.property(
        fc.array(priceNumber, { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 1, max: 15 }),
        (xs, period) => {
          const e = ema(period);
          const alpha = 2 / (period + 1);
          const seed = xs.slice(0, period).reduce((t, y) => t + y, 0) / period;
          xs.forEach((x, t) => {
            const got = e.push(x);
            if (t + 1 < period) {
              expect(got).toBeNull();
              return;
            }
            // Terms after the seed: j = period .. t.
            let want = (1 - alpha) ** (t - period + 1) * seed;
            for (let j = period; j <= t; j++) want += alpha * (1 - alpha) ** (t - j) * (xs[j] as number);
            expect(Math.abs((got as number) - want)).toBeLessThan(1e-9 * Math.max(1, Math.abs(want)));
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('rsi (Wilder)', () => {
  it('follows Wilder by hand', () => {
    // period 3 over 10, 11, 12, 11, 13, 12 — changes +1, +1, −1, +2, −1.
    // First 3 changes: avgGain = (1+1+0)/3 = 2/3, avgLoss = (0+0+1)/3 = 1/3 → RSI = 100·(2/3)/1 = 66.67.
    // +2: avgGain = (2/3·2 + 2)/3 = 10/9, avgLoss = (1/3·2 + 0)/3 = 2/9 → 100·(10/9)/(12/9) = 83.33.
    // −1: avgGain = (10/9·2 + 0)/3 = 20/27, avgLoss = (2/9·2 + 1)/3 = 13/27 → 100·20/33 = 60.61.
    const out = run(rsi(3), [10, 11, 12, 11, 13, 12]);
    expect(out.slice(0, 3)).toEqual([null, null, null]);
    expect(out[3]).toBeCloseTo(200 / 3, 10);
    expect(out[4]).toBeCloseTo(250 / 3, 10);
    expect(out[5]).toBeCloseTo(2000 / 33, 10);
  });

  it('is 100 with no loss and 50 with no change at all', () => {
    expect(run(rsi(2), [1, 2, 3, 4]).slice(2)).toEqual([100, 100]);
    expect(run(rsi(2), [5, 5, 5, 5]).slice(2)).toEqual([50, 50]);
    expect(run(rsi(2), [5, 4, 3]).slice(2)).toEqual([0]);
  });

  it('defaults to period 14 (null for the first 14 values)', () => {
    const out = run(
      rsi(),
      Array.from({ length: 16 }, (_, i) => 100 + (i % 3)),
    );
    expect(out.slice(0, 14).every((v) => v === null)).toBe(true);
    expect(out[14]).not.toBeNull();
  });
});

describe('macd', () => {
  it('follows EMA(fast) − EMA(slow), its signal EMA and the histogram by hand', () => {
    // fast 2 (α = 2/3), slow 3 (α = 1/2), signal 2 (α = 2/3); values 1, 3, 2, 6, 4, 8.
    // EMA2: seed (1+3)/2 = 2 at #2; #3 2 + 2/3·(2−2) = 2; #4 2 + 2/3·4 = 14/3;
    //       #5 14/3 + 2/3·(4 − 14/3) = 38/9; #6 38/9 + 2/3·(8 − 38/9) = 182/27.
    // EMA3: seed (1+3+2)/3 = 2 at #3; #4 2 + (6−2)/2 = 4; #5 4 + 0 = 4; #6 4 + (8−4)/2 = 6.
    // MACD: #3 0, #4 2/3, #5 2/9, #6 20/27.
    // Signal: seed (0 + 2/3)/2 = 1/3 at #4; #5 1/3 + 2/3·(2/9 − 1/3) = 7/27; #6 7/27 + 2/3·(20/27 − 7/27) = 47/81.
    // Histogram: #4 1/3, #5 2/9 − 7/27 = −1/27, #6 20/27 − 47/81 = 13/81.
    const out = run(macd(2, 3, 2), [1, 3, 2, 6, 4, 8]);
    expect(out.slice(0, 3)).toEqual([null, null, null]);
    const want = [
      [2 / 3, 1 / 3, 1 / 3],
      [2 / 9, 7 / 27, -1 / 27],
      [20 / 27, 47 / 81, 13 / 81],
    ];
    want.forEach(([m, s, h], i) => {
      const got = out[i + 3];
      expect(got?.macd).toBeCloseTo(m as number, 12);
      expect(got?.signal).toBeCloseTo(s as number, 12);
      expect(got?.histogram).toBeCloseTo(h as number, 12);
    });
  });

  it('is the difference of two ema() and an ema() of that (random series)', () => {
    fc.assert(
      fc.property(fc.array(priceNumber, { minLength: 1, maxLength: 60 }), (xs) => {
        const m = macd(3, 7, 4);
        const fast = ema(3);
        const slow = ema(7);
        const signal = ema(4);
        for (const x of xs) {
          const got = m.push(x);
          const f = fast.push(x);
          const s = slow.push(x);
          const sig = f !== null && s !== null ? signal.push(f - s) : null;
          if (sig === null || f === null || s === null) {
            expect(got).toBeNull();
            continue;
          }
          expect(got).toEqual({ macd: f - s, signal: sig, histogram: f - s - sig });
        }
      }),
      { numRuns: 200 },
    );
  });

  it('defaults to 12, 26, 9: null for the first 33 values', () => {
    const out = run(
      macd(),
      Array.from({ length: 35 }, (_, i) => 100 + i),
    );
    expect(out.slice(0, 33).every((v) => v === null)).toBe(true);
    expect(out[33]).not.toBeNull();
  });
});

describe('bollinger', () => {
  it('uses the population standard deviation (divide by period)', () => {
    // period 8 over 2, 4, 4, 4, 5, 5, 7, 9: mean 40/8 = 5; squared deviations 9+1+1+1+0+0+4+16 = 32;
    // population variance 32/8 = 4, σ = 2 → bands 5 ± 2·2 = 9 and 1. (The sample σ, √(32/7) ≈ 2.14, is not used.)
    const out = run(bollinger(8, 2), [2, 4, 4, 4, 5, 5, 7, 9]);
    expect(out.slice(0, 7).every((v) => v === null)).toBe(true);
    expect(out[7]?.middle).toBeCloseTo(5, 12);
    expect(out[7]?.upper).toBeCloseTo(9, 12);
    expect(out[7]?.lower).toBeCloseTo(1, 12);
  });

  it('slides the window by hand', () => {
    // period 3, k 1 over 1, 2, 3, 7: [1,2,3] mean 2, variance (1+0+1)/3 = 2/3;
    // [2,3,7] mean 4, variance (4+1+9)/3 = 14/3.
    const out = run(bollinger(3, 1), ['1', '2', '3', '7']);
    expect(out[2]?.middle).toBeCloseTo(2, 12);
    expect(out[2]?.upper).toBeCloseTo(2 + Math.sqrt(2 / 3), 12);
    expect(out[3]?.middle).toBeCloseTo(4, 12);
    expect(out[3]?.lower).toBeCloseTo(4 - Math.sqrt(14 / 3), 12);
    // k = 0: the bands collapse onto the middle.
    const flat = run(bollinger(2, 0), [1, 3]);
    expect(flat[1]).toEqual({ middle: 2, upper: 2, lower: 2 });
  });

  it('matches a two-pass recomputation of each window (random series)', () => {
    fc.assert(
      fc.property(
        fc.array(priceNumber, { minLength: 1, maxLength: 120 }),
        fc.integer({ min: 1, max: 20 }),
        fc.double({ min: 0, max: 4, noNaN: true }),
        (xs, period, k) => {
          const b = bollinger(period, k);
          xs.forEach((x, i) => {
            const got = b.push(x);
            if (i + 1 < period) {
              expect(got).toBeNull();
              return;
            }
            const window = xs.slice(i + 1 - period, i + 1);
            const mean = window.reduce((t, y) => t + y, 0) / period;
            const variance = window.reduce((t, y) => t + (y - mean) ** 2, 0) / period;
            const width = k * Math.sqrt(variance);
            const tol = 1e-9 * 1000;
            expect(Math.abs((got?.middle as number) - mean)).toBeLessThan(tol);
            // Compare variances: σ itself is ill-conditioned when the window is (nearly) constant.
            const gotWidth = (got?.upper as number) - (got?.middle as number);
            expect(Math.abs(gotWidth ** 2 - width ** 2)).toBeLessThan(1e-9 * (1 + k * k) * 1000 * 1000);
            expect((got?.middle as number) - (got?.lower as number)).toBeCloseTo(gotWidth, 9);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('does not drift over a long series with a large offset', () => {
    const b = bollinger(20, 2);
    const xs: number[] = [];
    let last = null;
    for (let i = 0; i < 100_000; i++) {
      const x = 1_000_000 + ((i * 7919) % 101) / 100;
      xs.push(x);
      last = b.push(x);
    }
    const window = xs.slice(-20);
    const mean = window.reduce((t, y) => t + y, 0) / 20;
    const sd = Math.sqrt(window.reduce((t, y) => t + (y - mean) ** 2, 0) / 20);
    expect(last?.middle).toBeCloseTo(mean, 6);
    expect(last?.upper).toBeCloseTo(mean + 2 * sd, 6);
  });
});

describe('atr (Wilder)', () => {
  it('follows true range and Wilder smoothing by hand', () => {
    // period 3.
    // #1 H10 L8 C9: no previous close → TR = 10 − 8 = 2.
    // #2 H11 L9 C10: max(2, |11−9| = 2, |9−9| = 0) = 2.
    // #3 H12 L10.5 C11: max(1.5, |12−10| = 2, |10.5−10| = 0.5) = 2 → ATR = (2+2+2)/3 = 2.
    // #4 H11.5 L9 C9.5: max(2.5, |11.5−11| = 0.5, |9−11| = 2) = 2.5 → ATR = (2·2 + 2.5)/3 = 13/6.
    // #5 H13 L12 C12.5 (gap up): max(1, |13−9.5| = 3.5, |12−9.5| = 2.5) = 3.5 → (13/6·2 + 3.5)/3 = 47/18.
    const out = run(atr(3), [
      { high: 10, low: 8, close: 9 },
      { high: '11', low: '9', close: '10' },
      { high: 12, low: 10.5, close: 11 },
      { high: 11.5, low: 9, close: 9.5 },
      { high: new Dec(13), low: 12, close: 12.5 },
    ]);
    expect(out.slice(0, 2)).toEqual([null, null]);
    expect(out[2]).toBeCloseTo(2, 12);
    expect(out[3]).toBeCloseTo(13 / 6, 12);
    expect(out[4]).toBeCloseTo(47 / 18, 12);
  });

  it('refuses a bar without high/low/close or with high below low', () => {
    const a = atr(2);
    expectInvalid(() => a.push({ low: 1, close: 1 } as never), 'high');
    expectInvalid(() => a.push({ high: 2, low: 'x', close: 1 }), 'low');
    expectInvalid(() => a.push({ high: 2, low: 1, close: Number.NaN }), 'close');
    expectInvalid(() => a.push({ high: 1, low: 2, close: 1.5 }), 'high');
    expect(a.value).toBeNull();
  });
});

describe('parameters', () => {
  const periods: unknown[] = [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '3', 1_000_001];

  it.each([
    ['sma', (p: unknown) => sma(p as number)],
    ['ema', (p: unknown) => ema(p as number)],
    ['rsi', (p: unknown) => rsi(p as number)],
    ['bollinger', (p: unknown) => bollinger(p as number, 2)],
    ['atr', (p: unknown) => atr(p as number)],
  ])('%s refuses a period that is not a whole number ≥ 1, naming period', (_name, make) => {
    for (const p of periods) expectInvalid(() => make(p), 'period');
    expect(() => make(1)).not.toThrow();
  });

  it('macd names the faulty period and wants fast below slow', () => {
    expectInvalid(() => macd(0, 26, 9), 'fast');
    expectInvalid(() => macd(12, -1, 9), 'slow');
    expectInvalid(() => macd(12, 26, 2.5), 'signal');
    expectInvalid(() => macd(26, 26, 9), 'fast');
    expectInvalid(() => macd(30, 26, 9), 'fast');
  });

  it('bollinger refuses a negative or non-finite k, naming k', () => {
    for (const k of [-1, Number.NaN, Number.POSITIVE_INFINITY]) expectInvalid(() => bollinger(20, k), 'k');
  });

  it('float indicators refuse values that are not numbers, naming value', () => {
    const e = ema(2);
    for (const bad of ['abc', '', '0x10', 'Infinity', Number.NaN, null, {}])
      expectInvalid(() => e.push(bad as never), 'value');
    expect(e.value).toBeNull();
  });
});
