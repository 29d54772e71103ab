/**
 * The calendar day of an instant at a place: by its IANA time zone, so each instant gets the
 * offset in force on its own date (summer or winter), not the one in force when it was fetched.
 */
import { dayInZone, dayOf } from '@foliokit/core';

/**
 * Returns a function giving the calendar day (`YYYY-MM-DD`) of an epoch-ms instant in `zone`
 * (an IANA name such as `America/New_York`). When `zone` is not a string or names no zone the
 * runtime knows, days are taken at the fixed `fallbackOffsetSeconds` east of UTC instead.
 *
 * @example
 * ```ts
 * zoneDay('America/New_York', -18_000)(Date.parse('2020-07-01T04:00:00Z')); // '2020-07-01'
 * ```
 */
export function zoneDay(zone: unknown, fallbackOffsetSeconds: number): (ms: number) => string {
  const day = typeof zone === 'string' && zone !== '' ? dayInZone(zone) : null;
  return day ?? ((ms) => dayOf(ms + fallbackOffsetSeconds * 1000));
}
