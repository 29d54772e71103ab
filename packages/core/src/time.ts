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

/** Day functions by zone name (building a formatter costs far more than using it); null: unknown zone. */
const zoneDays = new Map<string, ((ms: number) => string) | null>();
/** Zone names may come from upstream answers: remember no more than this many. */
const MAX_REMEMBERED_ZONES = 64;

/**
 * The calendar day (`YYYY-MM-DD`) of an epoch-ms instant in an IANA time zone, each instant at the
 * offset in force on its own date; `null` when the runtime does not know the zone. UTC needs no
 * formatter ({@link dayOf}).
 *
 * @example
 * ```ts
 * dayInZone('America/New_York')?.(Date.parse('2020-07-01T04:00:00Z')); // '2020-07-01'
 * ```
 */
export function dayInZone(zone: string): ((ms: number) => string) | null {
  if (zone === 'UTC' || zone === 'Etc/UTC') return dayOf;
  let day = zoneDays.get(zone);
  if (day === undefined) {
    try {
      const formatter = new Intl.DateTimeFormat('en-CA', {
        timeZone: zone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
      });
      day = (ms) => {
        const parts = formatter.formatToParts(ms);
        const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
        return `${part('year')}-${part('month')}-${part('day')}`;
      };
    } catch {
      day = null;
    }
    if (zoneDays.size < MAX_REMEMBERED_ZONES) zoneDays.set(zone, day);
  }
  return day;
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;
const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The first instant the engine accepts: 0001-01-01 (there is no year 0000 in PostgreSQL). */
const MIN_INSTANT_MS = Date.parse('0001-01-01T00:00:00.000Z');
/** The last instant the engine accepts: the end of year 9999 (a four-digit year, as every store writes it). */
const MAX_INSTANT_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** Days in a month of the proleptic Gregorian calendar. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Why the written fields of a date or time are impossible (month 13, February 30, hour 24,
 * minute or second 60, an offset of 24 hours), or null when every one exists. `Date.parse` would
 * roll them over silently (`2025-02-30` → March 2).
 */
function impossibleField(fields: readonly (string | undefined)[]): string | null {
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, offsetHour = 0, offsetMinute = 0] = fields.map(
    (f) => Number(f ?? 0),
  );
  if (year < 1) return 'the year must be 0001 or later';
  if (month < 1 || month > 12) return 'the month must be 01 to 12';
  const days = daysInMonth(year, month);
  if (day < 1 || day > days) return `that month has ${days} days`;
  if (hour > 23) return 'the hour must be 00 to 23';
  if (minute > 59 || second > 59) return 'minutes and seconds must be 00 to 59';
  if (offsetHour > 23 || offsetMinute > 59) return 'the offset must be at most 23:59';
  return null;
}

/** Whether a year (0001 or later), month and day name a day on the calendar (no February 30). */
function isCalendarDay(year: number, month: number, day: number): boolean {
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

function invalidInstant(field: string, why: string): FoliokitError {
  return new FoliokitError('VALIDATION_FAILED', `${field} is not a valid instant: ${why}`, { field });
}

/**
 * Parses an instant input (ISO string with zone, a day `YYYY-MM-DD` meaning its 00:00 UTC, or a
 * `Date`) into epoch milliseconds. Every written field must exist on the calendar and the clock
 * (no February 30, no `T24:00`), and the instant must fall in years 0001 to 9999 UTC.
 * @throws FoliokitError `VALIDATION_FAILED` naming `field`
 */
export function parseInstant(input: unknown, field: string): number {
  let ms: number;
  if (input instanceof Date) ms = input.getTime();
  else {
    const text = typeof input === 'string' ? input : '';
    const iso = ISO_RE.exec(text);
    const match = iso ?? DAY_RE.exec(text);
    if (!match) {
      throw new FoliokitError(
        'VALIDATION_FAILED',
        `${field} must be an ISO-8601 instant with a time zone (e.g. 2026-01-31T15:00:00Z)`,
        { field },
      );
    }
    const why = impossibleField(match.slice(1));
    if (why !== null) throw invalidInstant(field, why);
    ms = Date.parse(iso ? text : `${text}T00:00:00Z`);
  }
  if (!Number.isFinite(ms)) throw invalidInstant(field, 'it is not a date');
  if (ms < MIN_INSTANT_MS || ms > MAX_INSTANT_MS) throw invalidInstant(field, 'it must fall in years 0001 to 9999 UTC');
  return ms;
}

/** True when `value` is an instant exactly as the engine writes one (`toIso` of a valid instant). */
export function isCanonicalInstant(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    return toIso(parseInstant(value, 'instant')) === value;
  } catch {
    return false;
  }
}

/** Parses a `YYYY-MM-DD` day and checks it exists on the calendar (years 0001 to 9999). */
export function parseDay(input: unknown, field: string): string {
  const match = typeof input === 'string' ? DAY_RE.exec(input) : null;
  if (!match || !isCalendarDay(Number(match[1]), Number(match[2]), Number(match[3]))) {
    throw new FoliokitError('VALIDATION_FAILED', `${field} must be a calendar day YYYY-MM-DD`, { field });
  }
  return match[0];
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
