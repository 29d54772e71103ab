/**
 * The scheduler: runs jobs on an interval or a cron schedule, every timer through the injected
 * `Clock` (so a manual clock drives it in tests), and coordinates instances that share a store.
 *
 * Each tick of a job has a run key (the tick instant, or for the daily job the day it values).
 * A tick runs inside `store.runExclusive('job:<name>')`; inside, the job-run record of that key
 * decides: `completed` → skipped (another instance did it); anything else → run it and record the
 * outcome. A `running` record seen while holding the lock belongs to a runner that died, so the
 * tick is simply run again (every job write is idempotent). When the lock is held elsewhere, the
 * tick is retried after `retryDelayMs` until the next tick is due, so a tick whose runner dies is
 * finished by another instance.
 *
 * Schedules are compiled in `schedule.ts`; run records live in `job-runs.ts`.
 */
import { type ErrorCode, FoliokitError, isFoliokitError, wrapError } from '../errors.js';
import type { FoliokitEvent, JobTrigger } from '../events.js';
import type { Clock, ExclusiveResult, Logger, Store, TimerHandle } from '../ports/index.js';
import { toIso } from '../time.js';
import { defaultInstanceId, type JobRuns, jobRunsOf } from './job-runs.js';
import { type CompiledSchedule, compileSchedule, type JobSchedule } from './schedule.js';

/** What a job's `run` receives. */
export interface JobContext {
  job: string;
  runKey: string;
  /** The nominal instant of the tick (UTC ISO). */
  tickAt: string;
  trigger: JobTrigger;
  /** This engine instance. */
  instance: string;
  /** Job-run records, for a job that settles several run keys in one run (the daily catch-up). */
  runs: JobRuns;
}

/**
 * A scheduled job. The price poller of `@foliokit/providers` registers itself with
 * `engine.addJob(...)`.
 *
 * @example
 * ```ts
 * engine.addJob({
 *   name: 'fx-rates',
 *   schedule: { everyMs: 15_000 },
 *   async run(ctx) { return { polled: await poll() } },
 * });
 * ```
 */
export interface JobDefinition {
  /**
   * Unique per engine: 1-64 of `a-z 0-9 - _ .`. The built-in jobs' names (`daily-snapshots`,
   * `interval-snapshots`, `price-poller`) are reserved.
   */
  name: string;
  schedule: JobSchedule;
  /** Runs one tick; returns a JSON-serialisable report. Throwing marks the run failed. */
  run(ctx: JobContext): Promise<unknown>;
  /** The run key of a tick. @default the tick instant (UTC ISO) */
  runKey?(tickAtMs: number): string;
  /**
   * Run each tick once across every engine sharing the store (lock + job-run record). When false,
   * every instance runs every tick. @default true
   */
  exclusive?: boolean;
  /** At start, run the latest tick at or before now unless a completed run of it is recorded (trigger `catch-up`). @default false */
  catchUpOnStart?: boolean;
  /** Wait before retrying a tick whose lock another instance holds. @default min(60_000, period / 2) */
  retryDelayMs?: number;
}

/** One job in {@link SchedulerStatus}. */
export interface JobStatus {
  name: string;
  /** `"every 30000 ms"` or `"cron 0 0 * * * (UTC)"`. */
  schedule: string;
  running: boolean;
  lastStartedAt: string | null;
  lastFinishedAt: string | null;
  /** `skipped`: the tick was done, or being done, by another instance (or overlapped a run still going). */
  lastResult: 'completed' | 'failed' | 'skipped' | null;
  /** The report of the last completed run, or null. */
  lastReport: unknown;
  lastError: { code: JobErrorCode; message: string } | null;
  nextRunAt: string | null;
  /** Runs this instance executed (completed or failed). */
  runCount: number;
  failureCount: number;
  consecutiveFailures: number;
  skippedCount: number;
}

/** `engine.getSchedulerStatus()`. */
export interface SchedulerStatus {
  running: boolean;
  instance: string;
  jobs: JobStatus[];
}

/** The code of a failed run: the FoliokitError's code, or `JOB_FAILED` for anything else a job throws. */
export type JobErrorCode = ErrorCode | 'JOB_FAILED';

/** The outcome of one attempt at a tick. */
export type TickOutcome =
  | { status: 'completed'; runKey: string; report: unknown }
  | { status: 'failed'; runKey: string; error: { code: JobErrorCode; message: string } }
  | { status: 'skipped'; runKey: string; reason: 'completed-elsewhere' | 'locked' | 'overlap' };

/**
 * The names of the engine's built-in jobs (registered by `startScheduler`, removed by
 * `stopScheduler`): reserved, a user's job may not take one. The one place these names are written.
 */
export const BUILT_IN_JOB_NAMES = {
  interval: 'interval-snapshots',
  daily: 'daily-snapshots',
  prices: 'price-poller',
} as const;
const RESERVED_JOB_NAMES: ReadonlySet<string> = new Set(Object.values(BUILT_IN_JOB_NAMES));

/** Longest single timer: long waits re-arm, so a sleeping laptop or a clock change never strands a job. */
const MAX_TIMER_MS = 3_600_000;
const JOB_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

interface JobState {
  def: JobDefinition;
  /** Registered by `startScheduler` (removed by `stopScheduler`), not by a user. */
  builtIn: boolean;
  schedule: CompiledSchedule;
  timers: Set<TimerHandle>;
  nextRunAt: number | null;
  running: Promise<TickOutcome> | null;
  lastStartedAt: string | null;
  lastFinishedAt: string | null;
  lastResult: JobStatus['lastResult'];
  lastReport: unknown;
  lastError: JobStatus['lastError'];
  runCount: number;
  failureCount: number;
  consecutiveFailures: number;
  skippedCount: number;
}

/** What the scheduler needs from the engine. */
export interface SchedulerHost {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly store: Store;
  emit(event: FoliokitEvent): void;
}

/** The scheduler. The engine owns one; use it through `engine.startScheduler()` and friends. */
export class Scheduler {
  readonly #host: SchedulerHost;
  readonly #jobs = new Map<string, JobState>();
  readonly #runs: JobRuns;
  readonly #inProcess = new Set<string>();
  #started = false;
  #instance: string;
  #stopping: Promise<void> | null = null;
  #retentionMs = 30 * 86_400_000;
  #lastPruneAt = Number.NEGATIVE_INFINITY;

  constructor(host: SchedulerHost, instance: string = defaultInstanceId()) {
    this.#host = host;
    this.#runs = jobRunsOf(host.store);
    this.#instance = instance;
  }

  get instance(): string {
    return this.#instance;
  }

  get started(): boolean {
    return this.#started;
  }

  /** True while `stop()` waits for running ticks. */
  get stopping(): boolean {
    return this.#stopping !== null;
  }

  /** The job-run records in use. */
  get runs(): JobRuns {
    return this.#runs;
  }

  /** Sets the instance id (before start). */
  setInstance(id: string): void {
    this.#instance = id;
  }

  /**
   * How long finished run records of cron jobs are kept (interval jobs' for a day, or ten periods
   * when longer). Pruned at most once an hour, after a completed run. @default 30 days
   */
  setRetention(ms: number): void {
    this.#retentionMs = ms;
  }

  async #prune(): Promise<void> {
    const now = this.#host.clock.now();
    if (now - this.#lastPruneAt < 3_600_000) return;
    this.#lastPruneAt = now;
    for (const state of this.#jobs.values()) {
      const keep =
        'everyMs' in state.def.schedule ? Math.max(86_400_000, 10 * state.schedule.period) : this.#retentionMs;
      try {
        await this.#runs.prune(toIso(now - keep), state.def.name);
      } catch (error) {
        this.#host.logger.warn('Pruning old job runs failed', { job: state.def.name, error: String(error) });
      }
    }
  }

  /**
   * Registers a job; it starts ticking when the scheduler runs. Only the engine's own start
   * registers a job `builtIn`, under a built-in job's name; a user's job may not take one.
   * @throws `VALIDATION_FAILED`, `CONFLICT`
   */
  add(def: JobDefinition, options: { builtIn?: boolean } = {}): void {
    const builtIn = options.builtIn === true;
    if (!def || typeof def !== 'object' || typeof def.run !== 'function') {
      throw new FoliokitError('VALIDATION_FAILED', 'A job needs a name, a schedule and a run function', {
        field: 'job',
      });
    }
    if (typeof def.name !== 'string' || !JOB_NAME.test(def.name)) {
      throw new FoliokitError(
        'VALIDATION_FAILED',
        'job name must be 1-64 of a-z 0-9 - _ . starting with a letter or digit',
        {
          field: 'name',
        },
      );
    }
    if (!builtIn && RESERVED_JOB_NAMES.has(def.name)) {
      throw new FoliokitError(
        'VALIDATION_FAILED',
        `job name ${def.name} is reserved for a built-in job (startScheduler options configure it); choose another`,
        { field: 'name' },
      );
    }
    if (this.#jobs.has(def.name)) {
      throw new FoliokitError('CONFLICT', `A job named ${def.name} is already registered`, { field: 'name' });
    }
    if (def.retryDelayMs !== undefined && (!Number.isInteger(def.retryDelayMs) || def.retryDelayMs < 1)) {
      throw new FoliokitError('VALIDATION_FAILED', 'retryDelayMs must be a positive integer', {
        field: 'retryDelayMs',
      });
    }
    const state: JobState = {
      def,
      builtIn,
      schedule: compileSchedule(def.schedule),
      timers: new Set(),
      nextRunAt: null,
      running: null,
      lastStartedAt: null,
      lastFinishedAt: null,
      lastResult: null,
      lastReport: null,
      lastError: null,
      runCount: 0,
      failureCount: 0,
      consecutiveFailures: 0,
      skippedCount: 0,
    };
    this.#jobs.set(def.name, state);
    if (this.#started) this.#arm(state);
  }

  /** Unregisters a job; waits for its running tick, if any. Returns false when there was none. */
  async remove(name: string): Promise<boolean> {
    const state = this.#jobs.get(name);
    if (!state) return false;
    this.#jobs.delete(name);
    this.#clearTimers(state);
    if (state.running) await state.running.catch(() => {});
    return true;
  }

  /** Unregisters every built-in job (waiting for their running ticks); users' jobs stay. */
  async removeBuiltIns(): Promise<void> {
    const names = [...this.#jobs.values()].filter((s) => s.builtIn).map((s) => s.def.name);
    for (const name of names) await this.remove(name);
  }

  has(name: string): boolean {
    return this.#jobs.has(name);
  }

  /** Starts every job's timers, and the catch-up of jobs that ask for it. */
  start(): void {
    if (this.#started) return;
    if (this.#stopping) {
      throw new FoliokitError('CONFLICT', 'The scheduler is stopping; wait for stopScheduler() to resolve', {});
    }
    this.#started = true;
    const now = this.#host.clock.now();
    for (const state of this.#jobs.values()) {
      this.#arm(state);
      if (state.def.catchUpOnStart) {
        const prev = state.schedule.prev(now);
        if (prev !== null) this.#later(state, 0, () => this.#fire(state, prev, 'catch-up'));
      }
    }
  }

  /**
   * Stops: no new tick starts, every timer is cleared, running ticks are awaited, then `after`
   * runs (the engine unregisters its built-in jobs there). Starting again before this resolves
   * is a `CONFLICT`.
   */
  stop(after?: () => Promise<void>): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#started = false;
    for (const state of this.#jobs.values()) {
      this.#clearTimers(state);
      state.nextRunAt = null;
    }
    this.#stopping = (async () => {
      try {
        await this.idle();
        await after?.();
      } finally {
        this.#stopping = null;
      }
    })();
    return this.#stopping;
  }

  /** Resolves when no tick is running. */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.#jobs.values()].map((s) => s.running).filter((p) => p !== null);
      if (running.length === 0) return;
      await Promise.allSettled(running);
    }
  }

  status(): SchedulerStatus {
    return {
      running: this.#started,
      instance: this.#instance,
      jobs: [...this.#jobs.values()].map((s) => ({
        name: s.def.name,
        schedule: s.schedule.describe,
        running: s.running !== null,
        lastStartedAt: s.lastStartedAt,
        lastFinishedAt: s.lastFinishedAt,
        lastResult: s.lastResult,
        lastReport: s.lastReport,
        lastError: s.lastError,
        nextRunAt: s.nextRunAt === null ? null : toIso(s.nextRunAt),
        runCount: s.runCount,
        failureCount: s.failureCount,
        consecutiveFailures: s.consecutiveFailures,
        skippedCount: s.skippedCount,
      })),
    };
  }

  /**
   * Runs a job's latest due tick (the last one at or before now) immediately, trigger `manual`,
   * through the same lock and records as a scheduled tick: when an instance already completed
   * that tick, it is skipped. Resolves with the outcome. @throws `NOT_FOUND`
   */
  async runNow(name: string): Promise<TickOutcome> {
    const state = this.#jobs.get(name);
    if (!state) throw new FoliokitError('NOT_FOUND', `No job named ${name}`, { field: 'name' });
    if (state.running) await state.running.catch(() => {});
    const now = this.#host.clock.now();
    return this.#fire(state, state.schedule.prev(now) ?? now, 'manual');
  }

  // ----- internals -----------------------------------------------------------------------------

  #later(state: JobState, ms: number, fn: () => void): void {
    const handle = this.#host.clock.setTimeout(() => {
      state.timers.delete(handle);
      if (this.#started && this.#jobs.get(state.def.name) === state) fn();
    }, ms);
    state.timers.add(handle);
  }

  #clearTimers(state: JobState): void {
    for (const t of state.timers) this.#host.clock.clearTimeout(t);
    state.timers.clear();
  }

  /** Arms the timer of the next tick after now. */
  #arm(state: JobState): void {
    const now = this.#host.clock.now();
    const next = state.schedule.next(now);
    state.nextRunAt = next;
    if (next === null) return;
    this.#waitFor(state, next);
  }

  #waitFor(state: JobState, tickAt: number): void {
    const delay = Math.min(Math.max(0, tickAt - this.#host.clock.now()), MAX_TIMER_MS);
    this.#later(state, delay, () => {
      if (this.#host.clock.now() < tickAt) {
        this.#waitFor(state, tickAt);
        return;
      }
      void this.#fire(state, tickAt, 'schedule');
      this.#arm(state);
    });
  }

  /** Starts a tick unless one of this job is running here. */
  #fire(state: JobState, tickAt: number, trigger: JobTrigger): Promise<TickOutcome> {
    const runKey = this.#runKey(state, tickAt);
    if (state.running) {
      state.skippedCount++;
      state.lastResult = 'skipped';
      this.#host.logger.warn('A job tick was skipped: the previous run is still going', {
        job: state.def.name,
        runKey,
      });
      return Promise.resolve({ status: 'skipped', runKey, reason: 'overlap' });
    }
    const p = this.#attempt(state, tickAt, runKey, trigger).finally(() => {
      state.running = null;
    });
    state.running = p;
    return p;
  }

  #runKey(state: JobState, tickAt: number): string {
    return state.def.runKey ? state.def.runKey(tickAt) : toIso(tickAt);
  }

  async #exclusive<T>(key: string, fn: () => Promise<T>): Promise<ExclusiveResult<T>> {
    // In-process first (two engines on one store in one process), then the store's own lock.
    if (this.#inProcess.has(key)) return { ran: false };
    this.#inProcess.add(key);
    try {
      const store = this.#host.store;
      if (store.runExclusive) return await store.runExclusive(key, fn);
      return { ran: true, value: await fn() };
    } finally {
      this.#inProcess.delete(key);
    }
  }

  async #attempt(state: JobState, tickAt: number, runKey: string, trigger: JobTrigger): Promise<TickOutcome> {
    const { def } = state;
    const job = def.name;
    const clock = this.#host.clock;
    const body = async (): Promise<TickOutcome> => {
      // A job that is not exclusive runs on every instance: only the others skip a completed tick.
      if (def.exclusive !== false) {
        const existing = await this.#runs.get(job, runKey);
        if (existing?.status === 'completed') return { status: 'skipped', runKey, reason: 'completed-elsewhere' };
      }
      const startedMs = clock.now();
      const at = toIso(startedMs);
      await this.#runs.save({
        job,
        runKey,
        status: 'running',
        startedAt: at,
        finishedAt: null,
        instance: this.#instance,
        report: null,
      });
      state.lastStartedAt = at;
      const base = { job, runKey, trigger, instance: this.#instance, at };
      this.#host.emit({ type: 'job.started', ...base });
      const t0 = performance.now();
      try {
        const report = await def.run({
          job,
          runKey,
          tickAt: toIso(tickAt),
          trigger,
          instance: this.#instance,
          runs: this.#runs,
        });
        const finishedAt = toIso(clock.now());
        await this.#runs.save({
          job,
          runKey,
          status: 'completed',
          startedAt: at,
          finishedAt,
          instance: this.#instance,
          report: report ?? null,
        });
        state.lastFinishedAt = finishedAt;
        state.lastResult = 'completed';
        state.lastReport = report ?? null;
        state.lastError = null;
        state.runCount++;
        state.consecutiveFailures = 0;
        this.#host.emit({
          type: 'job.completed',
          ...base,
          durationMs: Math.round(performance.now() - t0),
          report: report ?? null,
        });
        await this.#prune();
        return { status: 'completed', runKey, report: report ?? null };
      } catch (error) {
        // A FoliokitError keeps its code; anything else a job throws is JOB_FAILED.
        const failure = isFoliokitError(error)
          ? { code: error.code as JobErrorCode, message: error.message }
          : { code: 'JOB_FAILED' as const, message: error instanceof Error ? error.message : String(error) };
        const finishedAt = toIso(clock.now());
        this.#host.logger.error('A job failed', { job, runKey, error: failure });
        await this.#runs
          .save({
            job,
            runKey,
            status: 'failed',
            startedAt: at,
            finishedAt,
            instance: this.#instance,
            report: { error: failure },
          })
          .catch((saveError: unknown) =>
            this.#host.logger.error('Recording a failed job run failed', { job, runKey, error: String(saveError) }),
          );
        this.#recordFailure(state, failure, finishedAt);
        this.#host.emit({
          type: 'job.failed',
          ...base,
          durationMs: Math.round(performance.now() - t0),
          error: failure,
        });
        return { status: 'failed', runKey, error: failure };
      }
    };

    let result: ExclusiveResult<TickOutcome>;
    try {
      result = def.exclusive === false ? { ran: true, value: await body() } : await this.#exclusive(`job:${job}`, body);
    } catch (error) {
      // The lock or the run records failed (the store is down): a failed tick.
      const e = isFoliokitError(error) ? error : wrapError(error, 'STORE_ERROR', `Job ${job} could not start`);
      const failure = { code: e.code, message: e.message };
      const at = toIso(clock.now());
      this.#recordFailure(state, failure, at);
      this.#host.logger.error('A job tick could not run', { job, runKey, error: failure });
      this.#host.emit({
        type: 'job.failed',
        job,
        runKey,
        trigger,
        instance: this.#instance,
        at,
        durationMs: 0,
        error: failure,
      });
      return { status: 'failed', runKey, error: failure };
    }
    if (result.ran) {
      if (result.value.status === 'skipped') {
        state.skippedCount++;
        state.lastResult = 'skipped';
      }
      return result.value;
    }
    // Another instance holds the job: try this tick again later, until the next one is due.
    state.skippedCount++;
    state.lastResult = 'skipped';
    const delay = def.retryDelayMs ?? Math.min(60_000, Math.max(1, Math.floor(state.schedule.period / 2)));
    const retryAt = clock.now() + delay;
    if (this.#started && trigger !== 'manual' && (state.nextRunAt === null || retryAt < state.nextRunAt)) {
      this.#later(state, delay, () => void this.#fire(state, tickAt, 'retry'));
    }
    return { status: 'skipped', runKey, reason: 'locked' };
  }

  #recordFailure(state: JobState, failure: { code: JobErrorCode; message: string }, at: string): void {
    state.lastFinishedAt = at;
    state.lastResult = 'failed';
    state.lastError = failure;
    state.runCount++;
    state.failureCount++;
    state.consecutiveFailures++;
  }
}
