/**
 * A counter-based pseudo-random generator: every draw is a pure function of its key, so the value
 * at step n is computed directly, without replaying steps 0..n-1. Not for cryptography.
 */

/** The murmur3 32-bit finaliser: a good avalanche in five operations. */
export function fmix32(input: number): number {
  let h = input | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over the UTF-16 code units of `text`, finalised. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** A 32-bit hash of a key (`base`, `stream`, `a`, `b`); `a` and `b` are integers (may be negative). */
export function hash4(base: number, stream: number, a: number, b: number): number {
  let h = fmix32(base ^ Math.imul(stream + 1, 0x9e3779b9));
  h = fmix32(h ^ Math.imul(a | 0, 0x85ebca77));
  // Days and steps stay far below 2^31, but keep the high part of `a` too.
  h = fmix32(h ^ Math.imul(Math.floor(a / 4294967296) | 0, 0x27d4eb2f));
  h = fmix32(h ^ Math.imul(b | 0, 0x165667b1));
  return h;
}

/** A uniform draw in the open interval (0, 1). */
export function uniform(base: number, stream: number, a: number, b: number): number {
  return (hash4(base, stream, a, b) + 0.5) / 4294967296;
}

/** A standard normal draw (Box–Muller on two independent uniforms of the key). */
export function normal(base: number, stream: number, a: number, b: number): number {
  const u1 = uniform(base, stream, a, b);
  const u2 = uniform(base ^ 0x5bd1e995, stream, a, b);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** A uniform draw in (0, 1) from a 32-bit hash. */
export function toUniform(hash: number): number {
  return (hash + 0.5) / 4294967296;
}
