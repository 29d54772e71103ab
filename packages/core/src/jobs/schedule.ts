/**
 * Schedules: when a job runs — every `everyMs` (aligned to multiples of it since the epoch) or on a
 * cron expression — compiled once into next/previous/between tick arithmetic.
 *
 * croner only computes cron times here (`new Cron(expr, { timezone, paused: true })`, never named,
 * never given a callback): croner's own timers and its process-wide registry of named jobs stay
 * out of it.
 */
import { Cron } from 'croner';
import { FoliokitError } from '../errors.js';

/** When a job runs: every `everyMs` (aligned to multiples of it since the epoch), or on a cron expression. */
export type JobSchedule =
  | { everyMs: number }
  | {
      /** Five or six fields (`'0 0 * * *'`: midnight). */
      cron: string;
      /** IANA time zone of the expression. @default 'UTC' */
      timezone?: string;
    };

/** A compiled schedule. */
export interface CompiledSchedule {
  describe: string;
  period: number;
  /** The first tick strictly after `ms`, or null when there is none. */
  next(ms: number): number | null;
  /** The latest tick at or before `ms`, or null. */
  prev(ms: number): number | null;
  /** Ticks in (fromMs, toMs], oldest first, at most `max`. */
  between(fromMs: number, toMs: number, max: number): number[];
}

/**
 * Checks an IANA time zone name (`Europe/Paris`, `UTC`), naming `field` when it is not one.
 * @throws FoliokitError `VALIDATION_FAILED`
 */
function checkTimeZone(timezone: unknown, field: string): string {
  try {
    if (typeof timezone !== 'string' || timezone.length === 0) throw new Error('not a string');
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return timezone;
  } catch (error) {
    throw new FoliokitError(
      'VALIDATION_FAILED',
      `${field}: ${JSON.stringify(timezone)} is not an IANA time zone (such as UTC or America/New_York)`,
      { field },
      { cause: error },
    );
  }
}

/**
 * Compiles and validates a schedule. A failure names the part at fault: `<field>.everyMs`,
 * `<field>.timezone` or `<field>.cron`. @throws `VALIDATION_FAILED`
 */
export function compileSchedule(schedule: JobSchedule, field = 'schedule'): CompiledSchedule {
  if (schedule && 'everyMs' in schedule) {
    const every = schedule.everyMs;
    if (!Number.isInteger(every) || every < 100 || every > 366 * 86_400_000) {
      throw new FoliokitError('VALIDATION_FAILED', `${field}.everyMs must be an integer from 100 ms to 366 days`, {
        field: `${field}.everyMs`,
      });
    }
    const next = (ms: number) => (Math.floor(ms / every) + 1) * every;
    return {
      describe: `every ${every} ms`,
      period: every,
      next,
      prev: (ms) => Math.floor(ms / every) * every,
      between(fromMs, toMs, max) {
        const out: number[] = [];
        for (let t = next(fromMs); t <= toMs && out.length < max; t += every) out.push(t);
        return out;
      },
    };
  }
  if (!schedule || typeof (schedule as { cron?: unknown }).cron !== 'string') {
    throw new FoliokitError('VALIDATION_FAILED', `${field} must be { everyMs } or { cron, timezone? }`, { field });
  }
  const { cron: expr, timezone = 'UTC' } = schedule as { cron: string; timezone?: string };
  checkTimeZone(timezone, `${field}.timezone`);
  let cron: Cron;
  try {
    cron = new Cron(expr, { timezone, paused: true });
    if (cron.nextRun(new Date(0)) === null) throw new Error('it never fires');
  } catch (error) {
    throw new FoliokitError(
      'VALIDATION_FAILED',
      `${field}: "${expr}" in ${timezone} is not a usable cron schedule (${(error as Error).message})`,
      { field: `${field}.cron` },
      { cause: error },
    );
  }
  const next = (ms: number) => cron.nextRun(new Date(ms))?.getTime() ?? null;
  const first = next(0) as number;
  const period = Math.max(1000, (next(first) ?? first + 86_400_000) - first);
  const between = (fromMs: number, toMs: number, max: number) => {
    const out: number[] = [];
    let t = next(fromMs);
    while (t !== null && t <= toMs && out.length < max) {
      out.push(t);
      t = next(t);
    }
    return out;
  };
  return {
    describe: `cron ${expr} (${timezone})`,
    period,
    next,
    between,
    prev(ms) {
      // Look back in widening windows; croner only counts forwards.
      for (const back of [3_600_000, 86_400_000, 8 * 86_400_000, 32 * 86_400_000, 367 * 86_400_000]) {
        const ticks = between(ms - back, ms, 10_000);
        if (ticks.length > 0) return ticks[ticks.length - 1] as number;
      }
      return null;
    },
  };
}
