/**
 * Long admin work (backfills) run in the background of one router: an in-memory registry of jobs
 * with their progress (from the engine's `backfill.progress` events), their report, or their
 * error. Bounded: the last {@link DEFAULT_MAX_JOBS} jobs are kept (finished ones are forgotten
 * first). Jobs live in the process that started them; with several instances, poll the instance
 * that answered the 202 (its `Location`), or read the snapshots the backfill wrote.
 */
import {
  type BackfillProgressEvent,
  type FoliokitError,
  isFoliokitError,
  newId,
  type PortfolioEngine,
  toIso,
  wrapError,
} from '@foliokit/core';

/** Jobs kept per registry. */
export const DEFAULT_MAX_JOBS = 100;

/** What a job does: one portfolio's backfill, or every portfolio's. */
export type AdminJobKind = 'backfill' | 'backfill-all';

export type AdminJobStatus = 'running' | 'completed' | 'failed';

/** Progress as the engine reports it: days of one portfolio, or portfolios of a `backfill-all`. */
export interface AdminJobProgress {
  unit: 'days' | 'portfolios';
  done: number;
  /** Null while not known (`backfill-all` does not count portfolios first). */
  total: number | null;
}

/** One job, as the registry keeps it. */
export interface AdminJob {
  id: string;
  kind: AdminJobKind;
  status: AdminJobStatus;
  /** The portfolio of a `backfill`; null for `backfill-all`. */
  portfolioId: string | null;
  /** The id of the request that started it (ties a failure to the logs). */
  requestId: string;
  createdAt: string;
  finishedAt: string | null;
  progress: AdminJobProgress;
  /** The engine's report, once completed. */
  report?: unknown;
  /** Why it failed, once failed (always a FoliokitError; anything else is wrapped). */
  error?: FoliokitError;
}

/** What {@link AdminJobs.start} runs. */
export interface AdminJobSpec {
  kind: AdminJobKind;
  portfolioId: string | null;
  /** The id of the request that starts it. */
  requestId: string;
  /** The engine call; its result becomes the report. */
  run: () => Promise<unknown>;
}

/** The job registry of one router. */
export interface AdminJobs {
  /**
   * Starts a job. Resolves with the job once the engine has accepted the work (its first
   * progress event, or the run's end); rejects with the engine's error, and keeps no job, when
   * the run fails before any progress (bad range, unknown portfolio, closed engine), so that the
   * caller can answer a 4xx rather than a job doomed from the start.
   */
  start(spec: AdminJobSpec): Promise<AdminJob>;
  /** A job by id, or undefined (unknown or forgotten). */
  get(id: string): AdminJob | undefined;
  /** Jobs still running. */
  running(): number;
}

/** Options of {@link createAdminJobs}. */
export interface AdminJobsOptions {
  /** Jobs kept. @default {@link DEFAULT_MAX_JOBS} */
  maxJobs?: number;
}

/** The progress a kind starts with. */
function initialProgress(kind: AdminJobKind): AdminJobProgress {
  return kind === 'backfill' ? { unit: 'days', done: 0, total: null } : { unit: 'portfolios', done: 0, total: null };
}

/** The error a job keeps: the FoliokitError, or a wrapped one (never a raw driver error). */
function jobError(error: unknown): FoliokitError {
  if (isFoliokitError(error)) return error;
  return wrapError(error, 'STORE_ERROR', 'The job failed');
}

/**
 * Creates a job registry on `engine`: progress of a job follows the engine's `backfill.progress`
 * events of its portfolio (`portfolioId` null for `backfill-all`). Two concurrent backfills of the
 * same portfolio (or two `backfill-all`) cannot be told apart by their events and share progress;
 * their reports stay their own.
 */
export function createAdminJobs(engine: PortfolioEngine, options: AdminJobsOptions = {}): AdminJobs {
  const maxJobs = options.maxJobs ?? DEFAULT_MAX_JOBS;
  const jobs = new Map<string, AdminJob>();

  function evict(): void {
    while (jobs.size > maxJobs) {
      let victim: string | undefined;
      for (const [id, job] of jobs) {
        if (job.status !== 'running') {
          victim = id;
          break;
        }
      }
      // All running: forget the oldest (its work goes on; only its record is dropped).
      jobs.delete(victim ?? (jobs.keys().next().value as string));
    }
  }

  function start(spec: AdminJobSpec): Promise<AdminJob> {
    const job: AdminJob = {
      id: newId('job', engine.clock.now()),
      kind: spec.kind,
      status: 'running',
      portfolioId: spec.portfolioId,
      requestId: spec.requestId,
      createdAt: toIso(engine.clock.now()),
      finishedAt: null,
      progress: initialProgress(spec.kind),
    };
    return new Promise<AdminJob>((accept, refuse) => {
      let accepted = false;
      const acceptOnce = () => {
        if (accepted) return;
        accepted = true;
        jobs.set(job.id, job);
        evict();
        accept(job);
      };
      const onProgress = (e: BackfillProgressEvent) => {
        if (e.portfolioId !== spec.portfolioId) return;
        job.progress = { unit: e.unit, done: e.done, total: e.total };
        acceptOnce();
      };
      const off = engine.on('backfill.progress', onProgress);
      const finish = (patch: Partial<AdminJob>) => {
        off();
        Object.assign(job, patch, { finishedAt: toIso(engine.clock.now()) });
      };
      let run: Promise<unknown>;
      try {
        run = spec.run();
      } catch (error) {
        run = Promise.reject(error);
      }
      run.then(
        (report) => {
          finish({ status: 'completed', report });
          acceptOnce();
        },
        (error: unknown) => {
          finish({ status: 'failed', error: jobError(error) });
          if (!accepted) refuse(jobError(error));
        },
      );
    });
  }

  return {
    start,
    get: (id) => jobs.get(id),
    running: () => [...jobs.values()].filter((j) => j.status === 'running').length,
  };
}
