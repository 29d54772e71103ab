/**
 * The built-in scheduled jobs (interval snapshots from `interval.ts`, daily snapshots with
 * catch-up) and the part of the engine that starts and stops them. The engine's methods delegate here.
 *
 * Catch-up policy of the daily job (docs/snapshots.md):
 * - the run for day D that starts within an hour of D's end (the scheduled tick, a retry of it, or
 *   a restart just after midnight) values D at the latest prices (`latest`);
 * - a day missed while no instance ran the scheduler, or run later than that, is valued from
 *   history (`history`: the ledger as of the end of that day and that day's close), never at
 *   today's prices;
 * - missed days are looked for at start (`catch-up` of the latest tick) and at every tick, back to
 *   `catchUpDays` days and never before the first run the store remembers (a first start catches
 *   up nothing); older gaps are left to `backfill`.
 */
import { z } from 'zod';
import { FoliokitError, isFoliokitError, wrapError } from '../errors.js';
import type { SnapshotHost } from '../snapshots/host.js';
import type { ResolvedSnapshotOptions } from '../snapshots/options.js';
import { dayInZone, dayOf, toIso } from '../time.js';
import { textInput } from '../validation.js';
import { type DailySnapshotReport, runDailyHistory, runDailyLatest } from './daily.js';
import { intervalJob } from './interval.js';
import { DEFAULT_POLL_INTERVAL_MS, type PollerHost, pricePollerJob } from './price-poller.js';
import { type CompiledSchedule, compileSchedule } from './schedule.js';
import {
  BUILT_IN_JOB_NAMES,
  type JobContext,
  type JobDefinition,
  type Scheduler,
  type SchedulerStatus,
} from './scheduler.js';

/** Name of the daily snapshot job (reserved: see `BUILT_IN_JOB_NAMES`). */
export const DAILY_JOB = BUILT_IN_JOB_NAMES.daily;

const DAY_MS = 86_400_000;
/**
 * A daily run that starts within this long after its tick (on time, a retry, or a restart just
 * after midnight) values the day at the latest prices; later than that, from history.
 */
export const LATE_AFTER_MS = 3_600_000;

/** Daily job options of {@link StartSchedulerOptions}. */
export interface DailyJobOptions {
  /** When the daily job runs. @default '0 0 * * *' (midnight) */
  cron?: string;
  /** Time zone of `cron`; the day a run values is the calendar day, in this zone, just before the tick. @default 'UTC' */
  timezone?: string;
  /**
   * How many days back missed days are caught up (valued from history), at start and at each
   * tick; 0 turns catch-up off. @default 7
   */
  catchUpDays?: number;
}

/** Options of `engine.startScheduler`. */
export interface StartSchedulerOptions {
  /** Interval snapshots of portfolios with open positions. `false` turns them off. @default { everyMs: snapshots.intervalMs } */
  interval?: boolean | { everyMs?: number };
  /** The daily snapshot job. `false` turns it off. @default { cron: '0 0 * * *', timezone: 'UTC', catchUpDays: 7 } */
  daily?: boolean | DailyJobOptions;
  /**
   * The price poller: refreshes held and watched symbols through the price book. `false` turns it
   * off. @default { everyMs: the provider's suggestedPollIntervalMs, else 900_000 (15 minutes) }
   */
  prices?: boolean | { everyMs?: number };
  /** This instance's id in job-run records and events. @default `host:pid:random` */
  instanceId?: string;
  /** Wait before retrying a tick another instance holds, in ms. @default min(60_000, the job's period / 2) */
  retryDelayMs?: number;
  /**
   * Finished run records of the daily job (and other cron jobs) older than this many days are
   * deleted; interval jobs' after a day. @default 30
   */
  jobRunRetentionDays?: number;
}

const startSchema = z.strictObject({
  interval: z
    .union([z.boolean(), z.strictObject({ everyMs: z.number().int().min(1000).max(DAY_MS).optional() })])
    .default(true),
  daily: z
    .union([
      z.boolean(),
      z.strictObject({
        cron: z.string().min(1).max(200).optional(),
        timezone: z.string().min(1).max(100).optional(),
        catchUpDays: z.number().int().min(0).max(366).optional(),
      }),
    ])
    .default(true),
  prices: z
    .union([z.boolean(), z.strictObject({ everyMs: z.number().int().min(1000).max(DAY_MS).optional() })])
    .default(true),
  instanceId: textInput(1, 200).optional(),
  retryDelayMs: z.number().int().min(1).max(DAY_MS).optional(),
  jobRunRetentionDays: z.number().int().min(1).max(3660).default(30),
});

/** The daily job's report: the day it ran for, and any missed days it caught up first. */
export interface DailyJobReport extends DailySnapshotReport {
  /** Missed days valued from history in this run, oldest first. */
  caughtUp: DailySnapshotReport[];
  /** Why nothing was done, when nothing was. */
  note?: string;
}

/** The calendar day of an instant in a time zone. */
function dayIn(ms: number, timezone: string): string {
  // The zone was checked when the schedule was compiled.
  return (dayInZone(timezone) ?? dayOf)(ms);
}

/** The daily job, with its catch-up. */
function dailyJob(
  host: SnapshotHost,
  options: ResolvedSnapshotOptions,
  daily: Required<DailyJobOptions>,
  schedule: CompiledSchedule,
  retryDelayMs?: number,
): JobDefinition {
  const runKey = (tickAt: number) => dayIn(tickAt - 1, daily.timezone);
  return {
    name: DAILY_JOB,
    schedule: { cron: daily.cron, timezone: daily.timezone },
    runKey,
    catchUpOnStart: daily.catchUpDays > 0,
    ...(retryDelayMs !== undefined ? { retryDelayMs } : {}),
    async run(ctx: JobContext): Promise<DailyJobReport> {
      const nowMs = host.clock.now();
      const day = ctx.runKey;
      const earliest = (await ctx.runs.list(DAILY_JOB, { status: 'completed', order: 'asc', limit: 1 }))[0];
      let missed: string[] = [];
      if (daily.catchUpDays > 0 && earliest) {
        const keys = [
          ...new Set(schedule.between(nowMs - daily.catchUpDays * DAY_MS - 1, nowMs, 10_000).map(runKey)),
        ].filter((k) => k < day && k > earliest.runKey);
        if (keys.length > 0) {
          const done = await ctx.runs.list(DAILY_JOB, {
            fromKey: keys[0] as string,
            toKey: day,
            status: 'completed',
            limit: 10_000,
          });
          const doneKeys = new Set(done.map((r) => r.runKey));
          missed = keys.filter((k) => !doneKeys.has(k));
        }
      }
      let report: DailyJobReport;
      if (ctx.trigger === 'catch-up' && !earliest) {
        report = {
          day,
          method: 'history',
          processed: 0,
          succeeded: 0,
          skipped: 0,
          failed: [],
          failedCount: 0,
          durationMs: 0,
          caughtUp: [],
          note: 'No earlier run is recorded: nothing was missed. Use backfill for past days.',
        };
      } else if (nowMs - Date.parse(ctx.tickAt) > LATE_AFTER_MS) {
        // Too long after the day ended for today's prices to stand for it: value it from history.
        const reports = await runDailyHistory(host, options, [...missed, day]);
        const main = reports.pop() as DailySnapshotReport;
        await recordCaughtUp(ctx, reports, nowMs);
        report = { ...main, caughtUp: reports };
      } else {
        const reports = await runDailyHistory(host, options, missed);
        await recordCaughtUp(ctx, reports, nowMs);
        // The day ends at the tick (the zone's midnight for a zoned schedule).
        const dayEnd = toIso(Date.parse(ctx.tickAt) - 1);
        report = { ...(await runDailyLatest(host, options, day, dayEnd)), caughtUp: reports };
      }
      return report;
    },
  };
}

/**
 * Records each caught-up day as a run of its own: completed, so no instance values it again; or,
 * when portfolios failed (history valuation fails only for a provider or store that is down),
 * failed, so the next tick's catch-up tries that day again.
 */
async function recordCaughtUp(ctx: JobContext, reports: readonly DailySnapshotReport[], nowMs: number): Promise<void> {
  for (const r of reports) {
    await ctx.runs.save({
      job: DAILY_JOB,
      runKey: r.day,
      status: r.failedCount === 0 ? 'completed' : 'failed',
      startedAt: toIso(nowMs),
      finishedAt: toIso(nowMs),
      instance: ctx.instance,
      report: { ...r, caughtUpBy: ctx.runKey },
    });
  }
}

/** Starts the scheduler with the built-in jobs. @throws `VALIDATION_FAILED`, `CONFLICT` */
export function startScheduler(
  host: SnapshotHost,
  scheduler: Scheduler,
  options: ResolvedSnapshotOptions,
  input: StartSchedulerOptions = {},
  poller?: PollerHost,
): SchedulerStatus {
  const parsed = startSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.map(String).join('.') || 'options';
    throw new FoliokitError('VALIDATION_FAILED', `${field}: ${issue?.message ?? 'invalid'}`, { field });
  }
  const v = parsed.data;
  if (scheduler.started) throw new FoliokitError('CONFLICT', 'The scheduler is already running; stop it first', {});
  if (scheduler.stopping) {
    throw new FoliokitError('CONFLICT', 'The scheduler is stopping; wait for stopScheduler() to resolve', {});
  }
  // Built-in jobs are registered per start, so a restart may change their options.
  const jobs: JobDefinition[] = [];
  if (v.interval !== false) {
    const everyMs =
      typeof v.interval === 'object' && v.interval.everyMs !== undefined ? v.interval.everyMs : options.intervalMs;
    jobs.push(intervalJob(host, options, everyMs, v.retryDelayMs));
  }
  if (v.daily !== false) {
    const d = typeof v.daily === 'object' ? v.daily : {};
    const daily: Required<DailyJobOptions> = {
      cron: d.cron ?? '0 0 * * *',
      timezone: d.timezone ?? 'UTC',
      catchUpDays: d.catchUpDays ?? 7,
    };
    const schedule = compileSchedule({ cron: daily.cron, timezone: daily.timezone }, 'daily');
    jobs.push(dailyJob(host, options, daily, schedule, v.retryDelayMs));
  }
  if (v.prices !== false && poller) {
    const everyMs =
      typeof v.prices === 'object' && v.prices.everyMs !== undefined
        ? v.prices.everyMs
        : Math.max(1000, host.marketData.suggestedPollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
    jobs.push(pricePollerJob(poller, everyMs, v.retryDelayMs));
  }
  for (const j of jobs) {
    if (scheduler.has(j.name))
      throw new FoliokitError('CONFLICT', `A job named ${j.name} is already registered`, { field: 'name' });
  }
  for (const j of jobs) scheduler.add(j, { builtIn: true });
  if (v.instanceId !== undefined) scheduler.setInstance(v.instanceId);
  scheduler.setRetention(v.jobRunRetentionDays * DAY_MS);
  scheduler.start();
  return scheduler.status();
}

/**
 * Stops the scheduler (waiting for running ticks) and unregisters the built-in jobs it registered;
 * users' jobs stay registered for the next start.
 */
export async function stopScheduler(scheduler: Scheduler): Promise<void> {
  await scheduler.stop(() => scheduler.removeBuiltIns());
}

/** `runDailySnapshots` outside the scheduler: no lock, no run record; one summary event pair. */
export async function runDailyNow(
  host: SnapshotHost,
  options: ResolvedSnapshotOptions,
  day: string,
  instance: string,
): Promise<DailySnapshotReport> {
  const at = toIso(host.clock.now());
  const base = { job: DAILY_JOB, runKey: day, trigger: 'manual' as const, instance, at };
  host.emit({ type: 'job.started', ...base });
  try {
    const report = await runDailyLatest(host, options, day);
    host.emit({ type: 'job.completed', ...base, durationMs: report.durationMs, report });
    return report;
  } catch (error) {
    const e = isFoliokitError(error) ? error : wrapError(error, 'STORE_ERROR', 'The daily snapshot run failed');
    host.emit({ type: 'job.failed', ...base, durationMs: 0, error: { code: e.code, message: e.message } });
    throw e;
  }
}
