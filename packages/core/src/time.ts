/**
 * Time. Every instant the engine reads comes from an injected {@link Clock}, so tests can drive
 * schedules, backfills and "now" without sleeping. Instants are UTC ISO-8601 strings ending in `Z`;
 * calendar days are `YYYY-MM-DD`.
 */
import { FoliokitError } from './errors.js';

/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/** The clock port. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds of this clock's time. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer made by {@link Clock.setTimeout}. */
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: `Date.now()` and the global timers (unref'd, so they never keep a process alive). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    (t as { unref?: () => void }).unref?.();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** An instant as a UTC ISO-8601 string: `2026-11-25T09:00:00.000Z`. */
export function toIso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The UTC calendar day of an instant: `2026-11-25`. */
export function dayOf(msOrIso: number | string): string {
  const ms = typeof msOrIso === 'number' ? msOrIso : Date.parse(msOrIso);
  return new Date(ms).toISOString().slice(0, 10);
}

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Parses an instant input (ISO string with zone, or a `Date`) into epoch milliseconds. */
export function parseInstant(input: unknown, field: string): number {
  let ms: number;
  if (input instanceof Date) ms = input.getTime();
  else if (typeof input === 'string' && ISO_RE.test(input)) ms = Date.parse(input);
  else if (typeof input === 'string' && DAY_RE.test(input)) ms = Date.parse(`${input}T00:00:00Z`);
  else {
    throw new FoliokitError(
      'VALIDATION_FAILED',
      `${field} must be an ISO-8601 instant with a time zone (e.g. 2026-01-31T15:00:00Z)`,
      { field },
    );
  }
  if (!Number.isFinite(ms)) {
    throw new FoliokitError('VALIDATION_FAILED', `${field} is not a valid instant`, { field });
  }
  return ms;
}

/** Parses a `YYYY-MM-DD` day and checks it exists on the calendar. */
export function parseDay(input: unknown, field: string): string {
  const ms = typeof input === 'string' && DAY_RE.test(input) ? Date.parse(`${input}T00:00:00Z`) : Number.NaN;
  // A month 13 parses to NaN, and dayOf(NaN) would throw a RangeError.
  if (!Number.isFinite(ms) || dayOf(ms) !== input) {
    throw new FoliokitError('VALIDATION_FAILED', `${field} must be a calendar day YYYY-MM-DD`, { field });
  }
  return input;
}

/** The day after `day`. */
export function nextDay(day: string): string {
  return dayOf(Date.parse(`${day}T00:00:00Z`) + 86_400_000);
}

/** The last instant of a day: `2026-11-25T23:59:59.999Z`. */
export function endOfDay(day: string): string {
  return `${day}T23:59:59.999Z`;
}

/** Whole days from `from` to `to`, inclusive of both (`daysBetween('2026-01-01','2026-01-01') === 1`). */
export function daysInclusive(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;
}
