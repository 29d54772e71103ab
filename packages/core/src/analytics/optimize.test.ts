import { afterEach, describe, expect, it } from 'vitest';
import { Dec } from '../money/decimal.js';
import type { DailyBar } from '../ports/index.js';
import { codeOf, createTestEngine, type TestEngine } from '../testing/index.js';
import {
  asTargets,
  maxSharpeWeights,
  minVarianceWeights,
  type OptimizeResult,
  optimizeWeights,
  projectCappedSimplex,
  roundWeights,
} from './optimize.js';

// The test engine's clock starts at 2026-01-05 (a Monday); the default lookback is 365 days.
const TODAY = '2026-01-05';

/** A deterministic pseudo-random stream in [0, 1) (a 32-bit LCG), so every run sees the same prices. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Calendar days from `from` to `to` inclusive; weekdays only unless `weekends`. */
function calendar(from: string, to: string, weekends = false): string[] {
  const out: string[] = [];
  for (let ms = Date.parse(`${from}T00:00:00Z`); ms <= Date.parse(`${to}T00:00:00Z`); ms += 86_400_000) {
    const wd = new Date(ms).getUTCDay();
    if (weekends || (wd !== 0 && wd !== 6)) out.push(new Date(ms).toISOString().slice(0, 10));
  }
  return out;
}

/**
 * Price series driven by factor returns: each symbol's daily return is `drift + Σ loading × noise`,
 * with one shared noise stream per factor, so the symbols are correlated.
 */
function makeHistory(
  days: readonly string[],
  specs: Record<string, { drift: number; loadings: number[] }>,
  seed = 7,
): Record<string, DailyBar[]> {
  const rand = lcg(seed);
  const factors = Math.max(...Object.values(specs).map((s) => s.loadings.length));
  const price: Record<string, number> = Object.fromEntries(Object.keys(specs).map((s) => [s, 100]));
  const out: Record<string, DailyBar[]> = Object.fromEntries(Object.keys(specs).map((s) => [s, []]));
  days.forEach((day, t) => {
    const noise = Array.from({ length: factors }, () => rand() - 0.5);
    for (const [symbol, spec] of Object.entries(specs)) {
      if (t > 0) {
        const r = spec.drift + spec.loadings.reduce((sum, l, k) => sum + l * (noise[k] as number), 0);
        price[symbol] = (price[symbol] as number) * (1 + r);
      }
      out[symbol]?.push({ day, close: (price[symbol] as number).toFixed(6) });
    }
  });
  return out;
}

/** Independent statistics for the checks: returns, means and the sample covariance, annualised. */
function stats(history: Record<string, DailyBar[]>, symbols: string[], perYear: number) {
  const returns = symbols.map((s) => {
    const closes = (history[s] as DailyBar[]).map((b) => Number(b.close));
    return closes.slice(1).map((c, t) => c / (closes[t] as number) - 1);
  });
  const n = (returns[0] as number[]).length;
  const avg = returns.map((r) => r.reduce((a, b) => a + b, 0) / n);
  const cov = returns.map((ri, i) =>
    returns.map((rj, j) => {
      let s = 0;
      for (let t = 0; t < n; t++)
        s += ((ri[t] as number) - (avg[i] as number)) * ((rj[t] as number) - (avg[j] as number));
      return (s / (n - 1)) * perYear;
    }),
  );
  return { mu: avg.map((m) => m * perYear), cov };
}

const variance = (cov: number[][], w: number[]) =>
  w.reduce((s, wi, i) => s + wi * w.reduce((t, wj, j) => t + (cov[i]?.[j] as number) * wj, 0), 0);
const sharpeOf = (mu: number[], cov: number[][], w: number[], rf: number) =>
  (w.reduce((s, wi, i) => s + wi * (mu[i] as number), 0) - rf) / Math.sqrt(variance(cov, w));

/** Every weight vector of three assets on a grid of `step` (long-only, summing to 1, each ≤ cap). */
function grid3(step: number, cap = 1): number[][] {
  const k = Math.round(1 / step);
  const out: number[][] = [];
  for (let i = 0; i <= k; i++)
    for (let j = 0; i + j <= k; j++) {
      const w = [i / k, j / k, (k - i - j) / k];
      if (w.every((x) => x <= cap + 1e-12)) out.push(w);
    }
  return out;
}

/** Each weight within `tolerance` of the reference. */
function expectNear(w: number[], reference: number[], tolerance: number): void {
  for (let i = 0; i < w.length; i++)
    expect(Math.abs((w[i] as number) - (reference[i] as number))).toBeLessThan(tolerance);
}

/** The closed-form two-asset minimum-variance weight of asset 1, clipped to [0, 1]. */
function twoAssetMinVariance(cov: number[][]): number {
  const s11 = cov[0]?.[0] as number;
  const s22 = cov[1]?.[1] as number;
  const s12 = cov[0]?.[1] as number;
  return Math.min(1, Math.max(0, (s22 - s12) / (s11 + s22 - 2 * s12)));
}

/** The weights of a result as numbers, after checking they are ≥ 0 and sum to exactly 1 as decimals. */
function checkedWeights(result: OptimizeResult): number[] {
  expect(result.weights).not.toBeNull();
  const weights = result.weights ?? [];
  for (const w of weights) {
    expect(w.weight).toMatch(/^\d\.\d{6}$/);
    expect(new Dec(w.weight).gte(0)).toBe(true);
  }
  expect(weights.reduce((s, w) => s.plus(w.weight), new Dec(0)).toString()).toBe('1');
  return weights.map((w) => Number(w.weight));
}

const THREE = {
  AAA: { drift: 0.0006, loadings: [0.02, 0.004, 0] },
  BBB: { drift: 0.0003, loadings: [0.006, 0.012, 0.004] },
  CCC: { drift: 0.0009, loadings: [0.01, 0, 0.025] },
};

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('projectCappedSimplex', () => {
  it('projects onto the simplex exactly (hand-checked) and respects the cap', () => {
    // (0.5, 0.3, −0.2): τ = −0.1 → (0.6, 0.4, 0).
    const p = projectCappedSimplex([0.5, 0.3, -0.2]);
    expect(p[0]).toBeCloseTo(0.6, 14);
    expect(p[1]).toBeCloseTo(0.4, 14);
    expect(p[2]).toBe(0);
    // With cap 0.5: (0.5, 0.5, 0) — the first is capped, the second takes the rest.
    const c = projectCappedSimplex([2, 0.3, -0.2], 0.5);
    expect(c[0]).toBeCloseTo(0.5, 14);
    expect(c[1]).toBeCloseTo(0.5, 14);
    expect(c[2]).toBe(0);
    // cap × n = 1: the only feasible point.
    expect(projectCappedSimplex([5, -3, 0, 1], 0.25)).toEqual([0.25, 0.25, 0.25, 0.25]);
  });
});

describe('roundWeights', () => {
  it('rounds to millionths summing to exactly one million, within the cap', () => {
    expect(roundWeights([1 / 3, 1 / 3, 1 / 3])).toEqual([333334, 333333, 333333]);
    expect(roundWeights([1 / 3, 1 / 3, 1 / 3], 1 / 3).reduce((a, b) => a + b)).toBe(1_000_000);
    expect(roundWeights([0.4, 0.4, 0.2], 0.4)).toEqual([400000, 400000, 200000]);
  });
});

describe('minVarianceWeights', () => {
  it('matches the two-asset closed form, inside [0, 1] and clipped', () => {
    const inside = [
      [0.04, 0.006],
      [0.006, 0.09],
    ];
    // w1 = (0.09 − 0.006) / (0.04 + 0.09 − 0.012) = 0.084 / 0.118.
    expect(minVarianceWeights(inside)[0]).toBeCloseTo(0.084 / 0.118, 9);
    // σ12 > σ1²: the formula gives w1 > 1, so the long-only answer is all in asset 1.
    const clipped = [
      [0.01, 0.02],
      [0.02, 0.09],
    ];
    expect((0.09 - 0.02) / (0.01 + 0.09 - 0.04)).toBeGreaterThan(1);
    const w = minVarianceWeights(clipped);
    expect(w[0]).toBeCloseTo(twoAssetMinVariance(clipped), 9);
    expect(w[0]).toBeCloseTo(1, 9);
  });

  it('beats or equals every point of a brute-force grid on three assets, with and without a cap', () => {
    const cov = [
      [0.05, 0.012, -0.004],
      [0.012, 0.03, 0.009],
      [-0.004, 0.009, 0.08],
    ];
    for (const cap of [1, 0.4]) {
      const w = minVarianceWeights(cov, cap);
      const best = grid3(0.002, cap).reduce((b, g) => (variance(cov, g) < variance(cov, b) ? g : b));
      expect(variance(cov, w)).toBeLessThanOrEqual(variance(cov, best) + 1e-12);
      expectNear(w, best, 0.005);
      expect(Math.max(...w)).toBeLessThanOrEqual(cap + 1e-12);
    }
  });
});

describe('maxSharpeWeights', () => {
  it('matches a brute-force grid on three assets, with and without a cap and a risk-free rate', () => {
    const mu = [0.08, 0.05, 0.12];
    const cov = [
      [0.05, 0.012, -0.004],
      [0.012, 0.03, 0.009],
      [-0.004, 0.009, 0.08],
    ];
    for (const [rf, cap] of [
      [0, 1],
      [0.03, 1],
      [0.02, 0.45],
    ] as const) {
      const { weights } = maxSharpeWeights(mu, cov, rf, cap);
      const w = weights as number[];
      const best = grid3(0.002, cap).reduce((b, g) => (sharpeOf(mu, cov, g, rf) > sharpeOf(mu, cov, b, rf) ? g : b));
      expect(sharpeOf(mu, cov, w, rf)).toBeGreaterThanOrEqual(sharpeOf(mu, cov, best, rf) - 1e-9);
      expectNear(w, best, 0.005);
      expect(Math.max(...w)).toBeLessThanOrEqual(cap + 1e-12);
    }
  });

  it('gives null with a reason when no asset, or no mix within the cap, beats the risk-free rate', () => {
    const cov = [
      [0.04, 0],
      [0, 0.09],
    ];
    expect(maxSharpeWeights([0.01, 0.02], cov, 0.03)).toEqual({
      weights: null,
      reason: 'no asset beats the risk-free rate',
    });
    // One asset beats rf, but at most half can go into it: 0.5 × 0.04 + 0.5 × (−0.1) < 0.
    expect(maxSharpeWeights([0.07, -0.07], cov, 0.03, 0.5).weights).toBeNull();
  });
});

describe('zero covariance (prices that never vary around their trend)', () => {
  it('min-variance keeps equal weights; max-Sharpe is unbounded and says so', () => {
    const zero = [
      [0, 0],
      [0, 0],
    ];
    expect(minVarianceWeights(zero)).toEqual([0.5, 0.5]);
    expect(maxSharpeWeights([0.05, 0.02], zero)).toEqual({
      weights: null,
      reason: 'a zero-volatility mix beats the risk-free rate: Sharpe is unbounded',
    });
  });
});

describe('optimality conditions on twelve correlated assets', () => {
  const n = 12;
  const rand = lcg(3);
  const loadings = Array.from({ length: n }, () => Array.from({ length: 4 }, () => rand() * 0.2));
  // Σ = B Bᵀ + D (a factor model: symmetric positive definite), μ spread around 6 %.
  const cov = loadings.map((bi, i) =>
    loadings.map(
      (bj, j) => bi.reduce((s, x, k) => s + x * (bj[k] as number), 0) + (i === j ? 0.01 + 0.02 * rand() : 0),
    ),
  );
  const mu = Array.from({ length: n }, () => 0.02 + 0.08 * rand());
  const cap = 0.2;

  /** KKT of max f over the capped simplex: f's gradient is equal on free weights, lower at 0, higher at the cap. */
  function expectKkt(w: number[], gradient: number[], tolerance: number): void {
    const free = w
      .map((x, i) => (x > 1e-7 && x < cap - 1e-7 ? (gradient[i] as number) : null))
      .filter((g) => g !== null);
    expect(free.length).toBeGreaterThan(0);
    const level = (free as number[]).reduce((s, g) => s + g, 0) / free.length;
    w.forEach((x, i) => {
      const g = gradient[i] as number;
      if (x <= 1e-7) expect(g).toBeLessThanOrEqual(level + tolerance);
      else if (x >= cap - 1e-7) expect(g).toBeGreaterThanOrEqual(level - tolerance);
      else expect(Math.abs(g - level)).toBeLessThanOrEqual(tolerance);
    });
  }

  it('min-variance satisfies them for −wᵀΣw', () => {
    const w = minVarianceWeights(cov, cap);
    expectKkt(
      w,
      cov.map((row) => -2 * row.reduce((s, c, j) => s + c * (w[j] as number), 0)),
      1e-8,
    );
  });

  it('max-Sharpe satisfies them for the Sharpe ratio', () => {
    const w = maxSharpeWeights(mu, cov, 0.01, cap).weights as number[];
    const excess = w.reduce((s, x, i) => s + x * ((mu[i] as number) - 0.01), 0);
    const sd = Math.sqrt(variance(cov, w));
    const gradient = cov.map((row, i) => {
      const sw = row.reduce((s, c, j) => s + c * (w[j] as number), 0);
      return ((mu[i] as number) - 0.01) / sd - (excess * sw) / sd ** 3;
    });
    expectKkt(w, gradient, 1e-6);
  });
});

describe('optimizeWeights', () => {
  it('min-variance on two assets equals the closed form of their sample covariance (trading days: × 252)', async () => {
    const days = calendar('2025-01-06', TODAY);
    const history = makeHistory(days, { AAA: THREE.AAA, BBB: THREE.BBB });
    t = createTestEngine({ history });
    const result = await optimizeWeights(t.engine, { symbols: ['aaa', ' bbb '], objective: 'min-variance' });
    const w = checkedWeights(result);
    expect(result.weights?.map((x) => x.symbol)).toEqual(['AAA', 'BBB']);
    expect(result.periodsPerYear).toBe(252);
    expect(result.gaps).toEqual([]);
    const inWindow = Object.fromEntries(
      Object.entries(history).map(([s, bars]) => [s, bars.filter((b) => b.day >= '2025-01-05')]),
    );
    expect(result.days).toBe(inWindow.AAA?.length);
    const { mu, cov } = stats(inWindow, ['AAA', 'BBB'], 252);
    const w1 = twoAssetMinVariance(cov);
    expect(Math.abs((w[0] as number) - w1)).toBeLessThanOrEqual(1e-6);
    expect(result.volatility).toBeCloseTo(Math.sqrt(variance(cov, w)), 12);
    expect(result.expectedReturn).toBeCloseTo(
      (mu[0] as number) * (w[0] as number) + (mu[1] as number) * (w[1] as number),
      12,
    );
    expect(result.sharpe).toBeCloseTo((result.expectedReturn as number) / (result.volatility as number), 12);
    expect(result.method).toContain('w ≥ 0, Σw = 1');
    expect(result.method).toContain('× 252');
    expect(asTargets(result)).toEqual(result.weights);
  });

  it('max-Sharpe on three assets matches a grid search over the same statistics, and is deterministic', async () => {
    const days = calendar('2025-01-06', TODAY);
    const history = makeHistory(days, THREE, 11);
    t = createTestEngine({ history });
    const input = { symbols: ['AAA', 'BBB', 'CCC'], objective: 'max-sharpe' as const, riskFreeRate: 0.02 };
    const result = await optimizeWeights(t.engine, input);
    const w = checkedWeights(result);
    const { mu, cov } = stats(history, ['AAA', 'BBB', 'CCC'], 252);
    const best = grid3(0.002).reduce((b, g) => (sharpeOf(mu, cov, g, 0.02) > sharpeOf(mu, cov, b, 0.02) ? g : b));
    expect(sharpeOf(mu, cov, w, 0.02)).toBeGreaterThanOrEqual(sharpeOf(mu, cov, best, 0.02) - 1e-6);
    expectNear(w, best, 0.005);
    expect(result.sharpe).toBeCloseTo(sharpeOf(mu, cov, w, 0.02), 12);
    expect(await optimizeWeights(t.engine, input)).toEqual(result);

    const minVar = await optimizeWeights(t.engine, { ...input, objective: 'min-variance', maxWeight: 0.5 });
    const mv = checkedWeights(minVar);
    const mvBest = grid3(0.002, 0.5).reduce((b, g) => (variance(cov, g) < variance(cov, b) ? g : b));
    expect(variance(cov, mv)).toBeLessThanOrEqual(variance(cov, mvBest) + 1e-9);
    expect(Math.max(...mv)).toBeLessThanOrEqual(0.5);
  });

  it('annualises by 365 when prices carry over weekends, and lists days some symbols miss as gaps', async () => {
    const days = calendar('2025-06-01', TODAY, true);
    const history = makeHistory(days, { AAA: THREE.AAA, BBB: THREE.BBB });
    const missing = '2025-09-10';
    history.BBB = (history.BBB as DailyBar[]).filter((b) => b.day !== missing);
    t = createTestEngine({ history });
    const result = await optimizeWeights(t.engine, { symbols: ['AAA', 'BBB'], objective: 'min-variance' });
    checkedWeights(result);
    expect(result.periodsPerYear).toBe(365);
    expect(result.method).toContain('× 365');
    expect(result.gaps).toEqual([{ day: missing, missing: ['BBB'] }]);
    expect(result.days).toBe(days.length - 1);
  });

  it('gives null with a reason for max-Sharpe when nothing beats the risk-free rate', async () => {
    const days = calendar('2025-01-06', TODAY);
    const falling = { drift: -0.002, loadings: [0.01, 0] };
    const history = makeHistory(days, { AAA: falling, BBB: { drift: -0.001, loadings: [0, 0.01] } });
    t = createTestEngine({ history });
    const result = await optimizeWeights(t.engine, { symbols: ['AAA', 'BBB'], objective: 'max-sharpe' });
    expect(result.weights).toBeNull();
    expect(result.reason).toBe('no asset beats the risk-free rate');
    expect(result.sharpe).toBeNull();
    expect(() => asTargets(result)).toThrow(/no asset beats/);
  });

  it('gives null with a reason when fewer than three days are common to every symbol', async () => {
    t = createTestEngine({
      history: {
        AAA: [
          { day: '2025-12-01', close: '10' },
          { day: '2025-12-02', close: '11' },
        ],
        BBB: [
          { day: '2025-12-01', close: '10' },
          { day: '2025-12-02', close: '12' },
        ],
      },
    });
    const result = await optimizeWeights(t.engine, { symbols: ['AAA', 'BBB'], objective: 'min-variance' });
    expect(result.weights).toBeNull();
    expect(result.reason).toMatch(/only 2 day/);
  });

  it('a symbol without history is UNKNOWN_SYMBOL naming it; stored bars are used when the provider fails', async () => {
    const days = calendar('2025-06-02', TODAY);
    const history = makeHistory(days, { AAA: THREE.AAA, BBB: THREE.BBB });
    t = createTestEngine({ history: { AAA: history.AAA as DailyBar[] } });
    const error = await optimizeWeights(t.engine, { symbols: ['AAA', 'BBB'], objective: 'min-variance' }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'UNKNOWN_SYMBOL', details: { field: 'symbols.1', symbol: 'BBB' } });

    await t.store.upsertDailyBars(
      (history.BBB as DailyBar[]).map((b) => ({
        symbol: 'BBB',
        day: b.day,
        open: null,
        high: null,
        low: null,
        close: b.close,
        adjClose: null,
        volume: null,
        source: 'test',
      })),
    );
    const fromStore = await optimizeWeights(t.engine, { symbols: ['AAA', 'BBB'], objective: 'min-variance' });
    checkedWeights(fromStore);
    expect(fromStore.days).toBe(days.length);

    t.provider.failing = true;
    expect(await codeOf(optimizeWeights(t.engine, { symbols: ['AAA', 'BBB'], objective: 'min-variance' }))).toBe(
      'PROVIDER_UNAVAILABLE',
    );
  });

  it('refuses bad input with VALIDATION_FAILED naming the field', async () => {
    t = createTestEngine();
    const cases: Array<[unknown, string]> = [
      [{ symbols: ['AAA'], objective: 'min-variance' }, 'symbols'],
      [{ symbols: Array.from({ length: 101 }, (_, i) => `S${i}`), objective: 'min-variance' }, 'symbols'],
      [{ symbols: ['AAA', 'aaa'], objective: 'min-variance' }, 'symbols.1'],
      [{ symbols: ['AAA', 'B B'], objective: 'min-variance' }, 'symbols.1'],
      [{ symbols: ['AAA', 'BBB'], objective: 'max-return' }, 'objective'],
      [{ symbols: ['AAA', 'BBB'], objective: 'min-variance', lookbackDays: 2.5 }, 'lookbackDays'],
      [{ symbols: ['AAA', 'BBB'], objective: 'min-variance', riskFreeRate: Number.NaN }, 'riskFreeRate'],
      [{ symbols: ['AAA', 'BBB'], objective: 'min-variance', maxWeight: 0 }, 'maxWeight'],
      [{ symbols: ['AAA', 'BBB', 'CCC'], objective: 'min-variance', maxWeight: 0.3 }, 'maxWeight'],
      [{ symbols: ['AAA', 'BBB'], objective: 'min-variance', extra: 1 }, 'input'],
    ];
    for (const [input, field] of cases) {
      const error = await optimizeWeights(t.engine, input as never).catch((e: unknown) => e);
      expect(error, JSON.stringify(input).slice(0, 80)).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { field },
      });
    }
  });
});
