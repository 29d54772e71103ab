import { describe, expect, it } from 'vitest';
import { decOut, isoOut } from './rows.js';

describe('row mapping', () => {
  it('reads every instant form a driver returns as ISO with Z', () => {
    expect(isoOut('2026-01-02T03:04:05.123Z')).toBe('2026-01-02T03:04:05.123Z');
    expect(isoOut(new Date('2026-01-02T03:04:05.123Z'))).toBe('2026-01-02T03:04:05.123Z');
    expect(isoOut('2026-01-02 03:04:05.123456+00')).toBe('2026-01-02T03:04:05.123Z');
    expect(isoOut('2026-01-02 05:04:05+02')).toBe('2026-01-02T03:04:05.000Z');
    expect(isoOut('2026-01-01 21:34:05.5-05:30')).toBe('2026-01-02T03:04:05.500Z');
    expect(() => isoOut('garbage')).toThrow(/Not an instant/);
  });

  it('reads decimals canonically', () => {
    expect(decOut('1.500')).toBe('1.5');
    expect(decOut('10')).toBe('10');
    expect(decOut('100.000')).toBe('100');
    expect(decOut('-0.000')).toBe('0');
    expect(decOut('0.0001')).toBe('0.0001');
  });
});
