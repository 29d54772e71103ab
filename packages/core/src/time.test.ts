import { describe, expect, it } from 'vitest';
import { createManualClock } from './testing/clock.js';
import { dayOf, daysInclusive, nextDay, parseDay, parseInstant, toIso } from './time.js';

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
