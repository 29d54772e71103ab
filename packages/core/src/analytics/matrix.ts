/**
 * Small dense linear algebra for the risk and optimisation code: covariance, correlation, a
 * Cholesky factor that copes with nearly singular matrices, and matrix–vector helpers.
 *
 * Precision: plain IEEE-754 doubles (about 15–16 significant digits). These are statistics, never
 * ledger amounts; callers turn results into decimal strings at the edge. Matrices are arrays of
 * rows (`m[i][j]` is row `i`, column `j`) and are never mutated by these functions.
 */

/** A dense matrix as an array of rows. */
export type Matrix = number[][];

/** A matrix whose rows may be read but not changed. */
export type ReadonlyMatrix = readonly (readonly number[])[];

/** The arithmetic mean of `values` (NaN for an empty list). */
export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/**
 * Sample covariance matrix (divisor `n − 1`) of several aligned series.
 *
 * @param series one array per variable (`series[i][t]` is variable `i` at observation `t`); all of
 *   the same length `n ≥ 2`.
 * @returns a symmetric `k × k` matrix (`k = series.length`); `[]` when `k = 0`.
 * @throws RangeError when the series differ in length or have fewer than two observations.
 *
 * @example covariance([[1, 2, 3], [2, 4, 6]]) // [[1, 2], [2, 4]]
 */
export function covariance(series: ReadonlyMatrix): Matrix {
  const k = series.length;
  if (k === 0) return [];
  const n = (series[0] as readonly number[]).length;
  if (n < 2) throw new RangeError('covariance needs at least two observations');
  const centered = series.map((s) => {
    if (s.length !== n) throw new RangeError('covariance needs series of equal length');
    const m = mean(s);
    return s.map((v) => v - m);
  });
  const out: Matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < k; i++) {
    const a = centered[i] as number[];
    for (let j = 0; j <= i; j++) {
      const b = centered[j] as number[];
      let sum = 0;
      for (let t = 0; t < n; t++) sum += (a[t] as number) * (b[t] as number);
      const c = sum / (n - 1);
      (out[i] as number[])[j] = c;
      (out[j] as number[])[i] = c;
    }
  }
  return out;
}

/**
 * The correlation matrix of a covariance matrix: `ρᵢⱼ = Σᵢⱼ / √(Σᵢᵢ Σⱼⱼ)`, clamped to [−1, 1].
 * An entry involving a variable of zero variance is undefined and is `null` (never a made-up 0),
 * except the diagonal of such a variable, which is also `null`.
 */
export function correlation(cov: ReadonlyMatrix): (number | null)[][] {
  const sd = cov.map((row, i) => Math.sqrt(Math.max(0, row[i] as number)));
  return cov.map((row, i) =>
    row.map((c, j) => {
      const d = (sd[i] as number) * (sd[j] as number);
      if (!(d > 0)) return null;
      if (i === j) return 1;
      return Math.min(1, Math.max(-1, c / d));
    }),
  );
}

/** `m · v`. */
export function matVec(m: ReadonlyMatrix, v: readonly number[]): number[] {
  return m.map((row) => dot(row, v));
}

/** `a · b` for two vectors of the same length. */
export function dot(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

/** The quadratic form `vᵀ · m · v` (a portfolio variance when `m` is a covariance matrix). */
export function quadraticForm(m: ReadonlyMatrix, v: readonly number[]): number {
  return dot(v, matVec(m, v));
}

/** `a · b` for an `n × k` and a `k × p` matrix. */
export function multiply(a: ReadonlyMatrix, b: ReadonlyMatrix): Matrix {
  const p = b.length === 0 ? 0 : (b[0] as readonly number[]).length;
  return a.map((row) => {
    const out = new Array<number>(p).fill(0);
    for (let k = 0; k < row.length; k++) {
      const x = row[k] as number;
      const bk = b[k] as readonly number[];
      for (let j = 0; j < p; j++) out[j] = (out[j] as number) + x * (bk[j] as number);
    }
    return out;
  });
}

/** The transpose of `m`. */
export function transpose(m: ReadonlyMatrix): Matrix {
  const cols = m.length === 0 ? 0 : (m[0] as readonly number[]).length;
  return Array.from({ length: cols }, (_, j) => m.map((row) => row[j] as number));
}

/** What {@link cholesky} returns. */
export interface CholeskyResult {
  /** Lower-triangular `L` with `L · Lᵀ = m + jitter · I`; `null` when the matrix was refused. */
  factor: Matrix | null;
  /** The amount added to the diagonal to make the factorisation succeed (0 when none was needed). */
  jitter: number;
  /** Why the matrix was refused, when `factor` is null. */
  reason?: string;
}

/** Options of {@link cholesky}. */
export interface CholeskyOptions {
  /**
   * The largest jitter tried, relative to the mean of the diagonal. Jitter starts at 1e-12 of that
   * mean and grows tenfold per attempt up to this bound.
   * @default 1e-6
   */
  maxRelativeJitter?: number;
}

/**
 * The Cholesky factor of a symmetric matrix.
 *
 * A positive-definite matrix is factorised as is (`jitter` 0). A positive *semi*-definite one —
 * a covariance matrix of perfectly correlated assets, of an asset whose price never moved, or of
 * fewer observations than assets — fails the plain factorisation; then a small multiple of the
 * identity is added to the diagonal (starting at 1e-12 × mean diagonal, ×10 per attempt, up to
 * `maxRelativeJitter` × mean diagonal) and the smallest jitter that works is reported. A matrix that
 * still fails (materially indefinite), is not square or symmetric, or holds a non-finite number is
 * refused: `factor` is null with a reason. Nothing is thrown.
 */
export function cholesky(m: ReadonlyMatrix, options: CholeskyOptions = {}): CholeskyResult {
  const n = m.length;
  const invalid = checkSymmetric(m);
  if (invalid) return { factor: null, jitter: 0, reason: invalid };
  if (n === 0) return { factor: [], jitter: 0 };
  const plain = factorise(m, 0);
  if (plain) return { factor: plain, jitter: 0 };
  const scale = mean(m.map((row, i) => Math.abs(row[i] as number)));
  if (!(scale > 0)) {
    return { factor: null, jitter: 0, reason: 'the matrix has a zero diagonal: every variable is constant' };
  }
  const maxJitter = (options.maxRelativeJitter ?? 1e-6) * scale;
  for (let jitter = 1e-12 * scale; jitter <= maxJitter * (1 + 1e-9); jitter *= 10) {
    const factor = factorise(m, jitter);
    if (factor) return { factor, jitter };
  }
  return {
    factor: null,
    jitter: 0,
    reason: `the matrix is not positive semi-definite (no factor with a diagonal jitter up to ${maxJitter.toExponential(2)})`,
  };
}

const PIVOT_TOLERANCE = 1e-13;

/** Why `m` cannot be a covariance matrix (not square, not symmetric, non-finite), or null. */
function checkSymmetric(m: ReadonlyMatrix): string | null {
  const n = m.length;
  for (let i = 0; i < n; i++) {
    const row = m[i] as readonly number[];
    if (row.length !== n) return 'the matrix is not square';
    for (let j = 0; j < n; j++) {
      const a = row[j] as number;
      if (!Number.isFinite(a)) return 'the matrix holds a non-finite number';
      const b = (m[j] as readonly number[])[i] as number;
      if (Math.abs(a - b) > 1e-12 * Math.max(1, Math.abs(a), Math.abs(b))) return 'the matrix is not symmetric';
    }
  }
  return null;
}

/**
 * Cholesky–Banachiewicz on `m + jitter · I`; null when a pivot is not clearly positive (at most
 * 1e-13 of its diagonal entry: round-off of a singular matrix, which would give a noisy factor).
 */
function factorise(m: ReadonlyMatrix, jitter: number): Matrix | null {
  const n = m.length;
  const l: Matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    const li = l[i] as number[];
    for (let j = 0; j <= i; j++) {
      const lj = l[j] as number[];
      const entry = (m[i] as readonly number[])[j] as number;
      let sum = i === j ? entry + jitter : entry;
      for (let k = 0; k < j; k++) sum -= (li[k] as number) * (lj[k] as number);
      if (i === j) {
        if (!(sum > PIVOT_TOLERANCE * (entry + jitter))) return null;
        li[i] = Math.sqrt(sum);
      } else {
        li[j] = sum / (lj[j] as number);
      }
    }
  }
  return l;
}
