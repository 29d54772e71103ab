import { describe, expect, it } from 'vitest';
import { weekdaysBetween } from '../src/weekdays.js';

/** The same count, one day at a time. */
function slowCount(from: string, to: string): number {
  let count = 0;
  for (let ms = Date.parse(`${from}T00:00:00Z`); ms <= Date.parse(`${to}T00:00:00Z`); ms += 86_400_000) {
    const weekday = new Date(ms).getUTCDay();
    if (weekday !== 0 && weekday !== 6) count++;
  }
  return count;
}

const dayAt = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

describe('weekdaysBetween', () => {
  it('counts Monday to Friday days, both ends included', () => {
    expect(weekdaysBetween('2025-03-07', '2025-03-10')).toBe(2);
    expect(weekdaysBetween('2025-03-08', '2025-03-09')).toBe(0);
    expect(weekdaysBetween('2025-03-10', '2025-03-10')).toBe(1);
    expect(weekdaysBetween('2025-03-11', '2025-03-10')).toBe(0);
  });

  it('agrees with a day-by-day count on every start and length over several weeks', () => {
    const origin = Date.parse('1969-12-22T00:00:00Z');
    for (let start = 0; start < 21; start++) {
      for (let length = 0; length < 160; length++) {
        const from = dayAt(origin + start * 86_400_000);
        const to = dayAt(origin + (start + length) * 86_400_000);
        expect([from, to, weekdaysBetween(from, to)]).toEqual([from, to, slowCount(from, to)]);
      }
    }
    expect(weekdaysBetween('2000-01-01', '2030-12-31')).toBe(slowCount('2000-01-01', '2030-12-31'));
  });
});
