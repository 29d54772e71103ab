import { describe, expect, it } from 'vitest';
import { newId } from './ids.js';

describe('newId', () => {
  it('makes unique ids that sort in creation order, also within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => newId('tx', 1_780_000_000_000));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    const later = newId('tx', 1_780_000_000_001);
    expect(later > (ids[ids.length - 1] as string)).toBe(true);
    expect(later).toMatch(/^tx_[0-9a-z]{25}$/);
  });
});
