/**
 * The calendar day of an instant at a place: by its IANA time zone, so each instant gets the
 * offset in force on its own date (summer or winter), not the one in force when it was fetched.
 */
import { dayOf } from '@foliokit/core';

/** Formatters by zone name (building one costs far more than using it); null for an unknown zone. */
const formatters = new Map<string, Intl.DateTimeFormat | null>();
/** Zone names come from upstream answers: remember no more than this many. */
const MAX_REMEMBERED = 64;

/** The `YYYY-MM-DD` formatter of `zone`, or null when the runtime does not know the zone. */
function formatterOf(zone: string): Intl.DateTimeFormat | null {
  let formatter = formatters.get(zone);
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat('en-CA', {
        timeZone: zone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
      });
    } catch {
      formatter = null;
    }
    if (formatters.size < MAX_REMEMBERED) formatters.set(zone, formatter);
  }
  return formatter;
}

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
  const formatter = typeof zone === 'string' && zone !== '' ? formatterOf(zone) : null;
  if (formatter === null) return (ms) => dayOf(ms + fallbackOffsetSeconds * 1000);
  return (ms) => {
    const parts = formatter.formatToParts(ms);
    const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
    return `${part('year')}-${part('month')}-${part('day')}`;
  };
}
