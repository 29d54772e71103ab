import { describe, expect, it } from 'vitest';
import { createRng } from './random.js';

const N = 100_000;

describe('createRng', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const seqA = Array.from({ length: 20 }, () => a.next());
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(seqA);
    expect(Array.from({ length: 20 }, () => c.next())).not.toEqual(seqA);
    expect(createRng(7).normal()).toBe(createRng(7).normal());
  });

  it('works for seed 0 and the largest seed', () => {
    for (const seed of [0, 0xffff_ffff]) {
      const rng = createRng(seed);
      const values = new Set(Array.from({ length: 100 }, () => rng.next()));
      expect(values.size).toBe(100);
    }
  });

  it('draws uniforms in [0, 1) with mean 1/2 and variance 1/12', () => {
    // Fixed seed: deterministic. Bounds are 5 standard errors (σ/√n ≈ 0.0009 for the mean).
    const rng = createRng(1);
    let sum = 0;
    let sumSq = 0;
    let outside = 0;
    for (let i = 0; i < N; i++) {
      const u = rng.next();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
      sumSq += u * u;
    }
    expect(outside).toBe(0);
    const mean = sum / N;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(sumSq / N - mean * mean - 1 / 12)).toBeLessThan(0.002);
  });

  it('draws standard normals: mean 0, variance 1, 5 % beyond 1.645', () => {
    const rng = createRng(2);
    let sum = 0;
    let sumSq = 0;
    let tail = 0;
    for (let i = 0; i < N; i++) {
      const x = rng.normal();
      sum += x;
      sumSq += x * x;
      if (x > 1.6448536269514722) tail++;
    }
    expect(Math.abs(sum / N)).toBeLessThan(0.016);
    expect(Math.abs(sumSq / N - 1)).toBeLessThan(0.03);
    // Binomial standard error √(0.05·0.95/n) ≈ 0.0007.
    expect(Math.abs(tail / N - 0.05)).toBeLessThan(0.0035);
  });
});
