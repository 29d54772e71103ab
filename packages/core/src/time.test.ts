import { describe, expect, it } from 'vitest';
import { createManualClock } from './testing/clock.js';
import { dayOf, daysInclusive, isCanonicalInstant, nextDay, parseDay, parseInstant, toIso } from './time.js';

const failure = (fn: () => unknown): unknown => {
  try {
    fn();
    return 'no error';
  } catch (error) {
    return error;
  }
};

describe('time', () => {
  it('parses instants with a zone and days, and refuses the rest', () => {
    expect(toIso(parseInstant('2026-01-02T03:04:05+02:00', 'at'))).toBe('2026-01-02T01:04:05.000Z');
    expect(toIso(parseInstant(new Date('2026-01-02T00:00:00Z'), 'at'))).toBe('2026-01-02T00:00:00.000Z');
    expect(() => parseInstant('2026-01-02T03:04:05', 'at')).toThrow(/time zone/);
    expect(() => parseInstant(12345, 'at')).toThrow();
    expect(() => parseInstant(new Date('nope'), 'at')).toThrow();
    expect(parseDay('2024-02-29', 'day')).toBe('2024-02-29');
    expect(() => parseDay('2023-02-29', 'day')).toThrow();
    expect(() => parseDay('2023-2-1', 'day')).toThrow();
  });

  it('refuses impossible dates and times instead of rolling them over, naming the field', () => {
    const bad = [
      '2025-02-30T00:00:00Z',
      '2025-06-31T00:00:00Z',
      '2025-06-31',
      '2025-06-30T24:00:00Z',
      '2025-06-30T24:00Z',
      '2025-06-30T23:60:00Z',
      '2025-06-30T23:59:60Z',
      '2025-06-30T12:00:00+24:00',
      '2025-06-30T12:00:00-01:60',
      '2100-02-29T00:00:00Z',
      '2025-00-10T00:00:00Z',
      '2025-01-00T00:00:00Z',
      '0000-01-01T00:00:00Z',
      '0000-12-31',
      '0001-01-01T00:00:00+00:01',
      '9999-12-31T23:59:59-00:01',
    ];
    for (const input of bad) {
      expect([input, failure(() => parseInstant(input, 'from'))]).toEqual([
        input,
        expect.objectContaining({ code: 'VALIDATION_FAILED', details: { field: 'from' } }),
      ]);
    }
    for (const date of [new Date('0000-06-01T00:00:00Z'), new Date(8.64e15)]) {
      expect(failure(() => parseInstant(date, 'at'))).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { field: 'at' },
      });
    }
    for (const day of ['2025-02-29', '2025-04-31', '0000-01-01', '2025-13-01']) {
      expect(failure(() => parseDay(day, 'day'))).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { field: 'day' },
      });
    }
  });

  it('accepts the real edges: leap days, the first and last instants of years 0001 and 9999', () => {
    expect(toIso(parseInstant('2000-02-29T23:59:59.999Z', 'at'))).toBe('2000-02-29T23:59:59.999Z');
    expect(toIso(parseInstant('0001-01-01T00:00:00Z', 'at'))).toBe('0001-01-01T00:00:00.000Z');
    expect(toIso(parseInstant('0001-01-01T00:59:00+00:59', 'at'))).toBe('0001-01-01T00:00:00.000Z');
    expect(toIso(parseInstant('9999-12-31T23:59:59.999Z', 'at'))).toBe('9999-12-31T23:59:59.999Z');
    expect(toIso(parseInstant('2025-06-30T23:00:00-23:59', 'at'))).toBe('2025-07-01T22:59:00.000Z');
    expect(parseDay('0001-01-01', 'day')).toBe('0001-01-01');
  });

  it('knows an instant written as the engine writes it', () => {
    expect(isCanonicalInstant('2025-01-01T00:00:00.000Z')).toBe(true);
    for (const other of ['2025-01-01T00:00:00Z', '2025-01-01T01:00:00.000+01:00', '2025-02-30T00:00:00.000Z', 'x', 5]) {
      expect([other, isCanonicalInstant(other)]).toEqual([other, false]);
    }
  });

  it('does calendar arithmetic in UTC', () => {
    expect(dayOf('2026-03-29T23:59:59.999Z')).toBe('2026-03-29');
    expect(nextDay('2024-12-31')).toBe('2025-01-01');
    expect(daysInclusive('2024-01-01', '2024-12-31')).toBe(366);
  });

  it('the manual clock fires timers in order as it advances, never early', async () => {
    const clock = createManualClock('2026-01-01T00:00:00Z');
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b'), 2000);
    clock.setTimeout(() => {
      fired.push('a');
      clock.setTimeout(() => fired.push('a2'), 500);
    }, 1000);
    const cancelled = clock.setTimeout(() => fired.push('never'), 1500);
    clock.clearTimeout(cancelled);
    await clock.advance(999);
    expect(fired).toEqual([]);
    await clock.advance(1001);
    expect(fired).toEqual(['a', 'a2', 'b']);
    expect(clock.pending()).toBe(0);
    expect(toIso(clock.now())).toBe('2026-01-01T00:00:02.000Z');
  });
});
