import { describe, expect, it } from 'vitest';
import {
  cholesky,
  correlation,
  covariance,
  dot,
  type Matrix,
  matVec,
  multiply,
  quadraticForm,
  transpose,
} from './matrix.js';
import { createRng } from './random.js';

function expectClose(actual: Matrix, expected: Matrix, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => {
    row.forEach((v, j) => {
      expect(Math.abs(v - ((expected[i] as number[])[j] as number))).toBeLessThanOrEqual(tolerance);
    });
  });
}

function reconstruct(l: Matrix): Matrix {
  return multiply(l, transpose(l));
}

describe('covariance', () => {
  it('is the sample covariance (divisor n − 1), hand-computed', () => {
    // x = 1,2,3 (mean 2, deviations −1,0,1); y = 2x: var x = 2/2 = 1, cov = 2, var y = 4.
    expect(
      covariance([
        [1, 2, 3],
        [2, 4, 6],
      ]),
    ).toEqual([
      [1, 2],
      [2, 4],
    ]);
    // Deviations ±1.5, ±0.5 of opposite signs: var = (2.25+0.25+0.25+2.25)/3 = 5/3, cov = −5/3.
    const c = covariance([
      [1, 2, 3, 4],
      [4, 3, 2, 1],
    ]);
    expectClose(
      c,
      [
        [5 / 3, -5 / 3],
        [-5 / 3, 5 / 3],
      ],
      1e-15,
    );
  });

  it('is empty for no series and refuses ragged or too short series', () => {
    expect(covariance([])).toEqual([]);
    expect(() => covariance([[1]])).toThrow(RangeError);
    expect(() =>
      covariance([
        [1, 2],
        [1, 2, 3],
      ]),
    ).toThrow(RangeError);
  });
});

describe('correlation', () => {
  it('divides by the standard deviations and is null where a variance is zero', () => {
    const c = correlation([
      [4, -6, 0],
      [-6, 9, 0],
      [0, 0, 0],
    ]);
    expect(c).toEqual([
      [1, -1, null],
      [-1, 1, null],
      [null, null, null],
    ]);
    expect(
      correlation([
        [1, 0.5],
        [0.5, 4],
      ])[0]?.[1],
    ).toBeCloseTo(0.25, 15);
  });
});

describe('vector helpers', () => {
  it('compute m·v, vᵀ·m·v, a·b and transposes', () => {
    const m = [
      [1, 2],
      [3, 4],
    ];
    expect(matVec(m, [1, 1])).toEqual([3, 7]);
    expect(dot([1, 2, 3], [4, 5, 6])).toBe(32);
    expect(quadraticForm(m, [1, 2])).toBe(1 + 2 * 2 + 3 * 2 + 4 * 4);
    expect(multiply(m, m)).toEqual([
      [7, 10],
      [15, 22],
    ]);
    expect(transpose([[1, 2, 3]])).toEqual([[1], [2], [3]]);
  });
});

describe('cholesky', () => {
  it('factorises a positive-definite matrix exactly (textbook example)', () => {
    const sigma = [
      [4, 12, -16],
      [12, 37, -43],
      [-16, -43, 98],
    ];
    const result = cholesky(sigma);
    expect(result.jitter).toBe(0);
    expect(result.factor).toEqual([
      [2, 0, 0],
      [6, 1, 0],
      [-8, 5, 3],
    ]);
    expect(reconstruct(result.factor as Matrix)).toEqual(sigma);
  });

  it('reconstructs a random 30 × 30 covariance matrix: L·Lᵀ = Σ', () => {
    const rng = createRng(11);
    const series = Array.from({ length: 30 }, () => Array.from({ length: 250 }, () => rng.normal() * 0.01));
    const sigma = covariance(series);
    const { factor, jitter } = cholesky(sigma);
    expect(jitter).toBe(0);
    expectClose(reconstruct(factor as Matrix), sigma, 1e-18);
    for (const [i, row] of (factor as Matrix).entries())
      for (let j = i + 1; j < row.length; j++) expect(row[j]).toBe(0);
  });

  it('adds a small, reported jitter to a singular (semi-definite) matrix', () => {
    // Two perfectly correlated assets, and an asset whose price never moved.
    for (const sigma of [
      [
        [1, 1],
        [1, 1],
      ],
      [
        [0, 0],
        [0, 1],
      ],
    ]) {
      const { factor, jitter, reason } = cholesky(sigma);
      expect(reason).toBeUndefined();
      expect(jitter).toBeGreaterThan(0);
      expect(jitter).toBeLessThanOrEqual(1e-6);
      expectClose(reconstruct(factor as Matrix), sigma, 2e-6);
    }
  });

  it('refuses an indefinite, asymmetric, ragged, non-finite or all-zero matrix with a reason', () => {
    const cases: Array<[Matrix, RegExp]> = [
      [
        [
          [1, 2],
          [2, 1],
        ],
        /not positive semi-definite/,
      ],
      [
        [
          [1, 0.5],
          [0.4, 1],
        ],
        /not symmetric/,
      ],
      [[[1, 0], [0]], /not square/],
      [
        [
          [1, Number.NaN],
          [Number.NaN, 1],
        ],
        /non-finite/,
      ],
      [
        [
          [0, 0],
          [0, 0],
        ],
        /zero diagonal/,
      ],
    ];
    for (const [sigma, reason] of cases) {
      const result = cholesky(sigma);
      expect(result.factor).toBeNull();
      expect(result.reason).toMatch(reason);
    }
  });

  it('factorises the empty matrix', () => {
    expect(cholesky([])).toEqual({ factor: [], jitter: 0 });
  });
});
