import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../src/index.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-03-10T15:00:00Z');
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Mon, 10 Mar 2025 15:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Mon, 10 Mar 2025 14:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('99999999', now)).toBe(86_400_000);
  });
  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});
