import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
let lastMs = -1;

// Random bytes drawn from the CSPRNG in blocks: one system call per ~340 ids instead of one each.
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let poolOffset = 0;
function nextRandomByte(): number {
  if (poolOffset >= POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  return pool[poolOffset++] as number;
}
let seq = 0;

/**
 * A new id: a prefix, the creation time, a per-process sequence and 60 random bits, so that ids
 * made later in a process sort after earlier ones: `tx_0mwvwivtf0001k3x9q2mzp7`.
 */
export function newId(prefix: string, nowMs: number): string {
  let ms = Math.max(0, Math.floor(nowMs));
  if (ms <= lastMs) {
    ms = lastMs;
    seq++;
    if (seq >= 36 ** 4) {
      ms = ++lastMs;
      seq = 0;
    }
  } else {
    lastMs = ms;
    seq = 0;
  }
  let rand = '';
  for (let i = 0; i < 12; i++) rand += ALPHABET[nextRandomByte() % 36];
  return `${prefix}_${ms.toString(36).padStart(9, '0')}${seq.toString(36).padStart(4, '0')}${rand}`;
}
