/**
 * A seeded pseudo-random generator for reproducible simulations (Monte Carlo VaR): xoshiro128**
 * (Blackman and Vigna), seeded through splitmix32 so that nearby seeds give unrelated streams, and
 * standard normals by the Box–Muller transform.
 *
 * Not for cryptography. Uniforms carry 32 random bits (a resolution of 2^-32); normals are doubles.
 * The same seed gives the same sequence on every platform (only 32-bit integer operations).
 */

/** A seeded random source. */
export interface Rng {
  /** A uniform number in [0, 1), in steps of 2^-32. */
  next(): number;
  /** A standard normal number (mean 0, variance 1). */
  normal(): number;
}

/** The largest seed accepted: seeds are unsigned 32-bit integers. */
export const MAX_SEED = 0xffff_ffff;

/**
 * Creates a generator from an integer seed in [0, 2^32 − 1] (other numbers are reduced modulo 2^32
 * after truncation).
 *
 * @example
 * const rng = createRng(42);
 * rng.next();   // the same value for every run with seed 42
 * rng.normal(); // N(0, 1)
 */
export function createRng(seed: number): Rng {
  let sm = Math.trunc(seed) >>> 0;
  const splitmix = (): number => {
    sm = (sm + 0x9e3779b9) >>> 0;
    let z = sm;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let s0 = splitmix();
  let s1 = splitmix();
  let s2 = splitmix();
  let s3 = splitmix();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // the all-zero state is a fixed point

  const nextUint = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
  const next = (): number => nextUint() / 4_294_967_296;

  let spare: number | null = null;
  const normal = (): number => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    // 1 − next() lies in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - next()));
    const angle = 2 * Math.PI * next();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
  return { next, normal };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
