/**
 * Counting Monday-to-Friday days between calendar days, in constant time.
 */

/** Days since 1970-01-01 of a `YYYY-MM-DD` day. */
const epochDay = (day: string): number => Math.floor(Date.parse(`${day}T00:00:00Z`) / 86_400_000);

/**
 * Monday-to-Friday days from `from` to `to` (`YYYY-MM-DD`), both included; 0 when `from` is after `to`.
 *
 * @example
 * ```ts
 * weekdaysBetween('2025-03-07', '2025-03-10'); // 2 (Friday and Monday)
 * ```
 */
export function weekdaysBetween(from: string, to: string): number {
  // Weekdays from Monday 1969-12-29 (day -3; 1970-01-01 was a Thursday) up to day d, excluded:
  // five per whole week, then up to five of the days left.
  const weekdaysBefore = (d: number): number => {
    const weeks = Math.floor((d + 3) / 7);
    return weeks * 5 + Math.min(d + 3 - weeks * 7, 5);
  };
  const start = epochDay(from);
  const end = epochDay(to);
  return end < start ? 0 : weekdaysBefore(end + 1) - weekdaysBefore(start);
}
