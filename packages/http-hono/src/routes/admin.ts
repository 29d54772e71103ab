/**
 * Admin routes (role `admin`, rate-limit bucket `admin`): daily snapshots, backfills run as
 * background jobs, the scheduler's and the provider's status, and the metrics.
 *
 * - `POST /admin/snapshots/daily` answers **200 with the report**, not a job: the daily run is one
 *   batched pass (a page of portfolios per store round trip) that the scheduler already runs
 *   inline, it is idempotent per (portfolio, day), and an operator who reruns a day wants to see
 *   what it did. A backfill is a range of days per portfolio and can run for minutes: it is a job.
 * - `POST /admin/portfolios/:id/backfill` and `POST /admin/backfill` answer **202** with
 *   `{ id, status, links: { self } }` (HTTP.md's shape of long work) and
 *   `Location: <mount>/admin/jobs/<id>`; the job is
 *   polled at `GET /admin/jobs/:id`. A request the engine refuses before any work starts (a bad or
 *   too large range, a closed engine) answers its 4xx problem at once, and no job is kept.
 * - Admin `:id` routes are not owned: an admin acts on any portfolio; a missing one is 404.
 */
import { FoliokitError } from '@foliokit/core';
import type { Context } from 'hono';
import { z } from 'zod';
import { type AdminJob, type AdminJobs, createAdminJobs, DEFAULT_MAX_JOBS } from '../admin-jobs.js';
import { PROMETHEUS_CONTENT_TYPE } from '../metrics.js';
import { type ProblemBody, requestIdOf, toProblem } from '../problem.js';
import { type AnyRouteSpec, defineRoute, type RouteResponse } from '../route-table.js';
import type { RouterDeps } from '../router-deps.js';
import { dayQuery, EXAMPLES, idParam, portfolioParams } from '../schemas.js';

// ----- schemas -----------------------------------------------------------------------------------

/** `POST /admin/snapshots/daily`: the day to record (default: yesterday, UTC). */
export const dailySnapshotsBody = z
  .strictObject({ day: dayQuery.optional().describe('The day to record, YYYY-MM-DD (default: yesterday, UTC)') })
  .optional()
  .meta({ examples: [{ day: '2026-01-05' }] });

/** `POST /admin/backfill` and `POST /admin/portfolios/:id/backfill`: a range of days, both inclusive. */
export const backfillBody = z
  .strictObject({
    from: dayQuery.describe('First day, YYYY-MM-DD'),
    to: dayQuery.describe('Last day, YYYY-MM-DD, not after today (UTC)'),
  })
  .meta({ examples: [{ from: '2025-12-01', to: '2025-12-31' }] });

/** `GET /admin/jobs/:id` */
export const jobParams = z.strictObject({ id: idParam });

/** `GET /admin/metrics`: `format` overrides the `Accept` header. */
export const metricsQuery = z.strictObject({ format: z.enum(['json', 'prometheus']).optional() });

// ----- views -------------------------------------------------------------------------------------

/** A job as `GET /admin/jobs/:id` shows it. */
export interface JobView {
  id: string;
  kind: AdminJob['kind'];
  status: AdminJob['status'];
  portfolioId: string | null;
  createdAt: string;
  finishedAt: string | null;
  progress: AdminJob['progress'];
  report?: unknown;
  /**
   * Why it failed: the problem body the error would have answered (RFC 9457), its `requestId`
   * the one of the request that started the job.
   */
  error?: ProblemBody;
}

/** A job for the API. */
export function jobView(job: AdminJob): JobView {
  return {
    id: job.id,
    kind: job.kind,
    status: job.status,
    portfolioId: job.portfolioId,
    createdAt: job.createdAt,
    finishedAt: job.finishedAt,
    progress: { ...job.progress },
    ...(job.report !== undefined ? { report: job.report } : {}),
    ...(job.error !== undefined ? { error: toProblem(job.error, job.requestId).body } : {}),
  };
}

/**
 * The router's mount point, from the request's path and the number of segments of the route's
 * own path (so `/api/admin/backfill` → `/api`): `Location` then works wherever the host mounts.
 */
function mountOf(c: Context, specPath: string): string {
  const segments = new URL(c.req.url).pathname.split('/');
  const own = specPath.split('/').length - 1;
  return segments.slice(0, segments.length - own).join('/');
}

/** The 202 answer to long work (HTTP.md): the job's id, its status and where to poll it. */
export interface AcceptedJob {
  /** The job id (`GET /admin/jobs/:id`). */
  id: string;
  status: AdminJob['status'];
  links: {
    /** Where to poll the job (also the `Location` header). */
    self: string;
  };
}

/** 202 with the job's link, for a job just started by `specPath`. */
function accepted(c: Context, specPath: string, job: AdminJob): Response {
  const self = `${mountOf(c, specPath)}/admin/jobs/${encodeURIComponent(job.id)}`;
  c.header('Location', self);
  const body: AcceptedJob = { id: job.id, status: job.status, links: { self } };
  return c.json(body, 202);
}

/**
 * Whether the caller prefers the Prometheus text format: `?format=` decides when given; else the
 * `Accept` header, by quality, with ties going to JSON (`application/json, text/plain, *\/*` is
 * JSON; a Prometheus scraper's `text/plain;version=0.0.4;q=0.4,*\/*;q=0.1` is text).
 */
export function wantsPrometheus(format: 'json' | 'prometheus' | undefined, accept: string | undefined): boolean {
  if (format !== undefined) return format === 'prometheus';
  if (!accept) return false;
  let json = 0;
  let text = 0;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!Number.isFinite(q)) continue;
    if (type === 'application/json' || type === 'application/*' || type === '*/*') json = Math.max(json, q);
    if (type === 'text/plain' || type === 'application/openmetrics-text' || type === 'text/*' || type === '*/*')
      text = Math.max(text, q);
  }
  return text > json;
}

// ----- documented answers -------------------------------------------------------------------------

const PF = EXAMPLES.portfolio.id;
const JOB_ID = 'job_0mwvwivtf0001k3x9q2mzp7';

const DENIED: readonly RouteResponse[] = [
  { status: 401, description: 'No or invalid credentials.', contentType: 'application/problem+json' },
  { status: 403, description: 'The caller lacks the admin role.', contentType: 'application/problem+json' },
  { status: 429, description: 'Too many admin requests (see Retry-After).', contentType: 'application/problem+json' },
];
const INVALID: RouteResponse = {
  status: 422,
  description: 'Invalid body (a day that is not YYYY-MM-DD, after today, from after to, a range too large).',
  contentType: 'application/problem+json',
};
const ACCEPTED: RouteResponse = {
  status: 202,
  description: 'The backfill runs in the background; poll the job at its `Location`.',
  example: { id: JOB_ID, status: 'running', links: { self: `/admin/jobs/${JOB_ID}` } } satisfies AcceptedJob,
};
const BACKFILL_REPORT = {
  portfolioId: PF,
  from: '2025-12-01',
  to: '2025-12-31',
  firstDay: '2025-12-01',
  written: 31,
  skippedDays: 0,
  unpriced: [],
  durationMs: 84,
};

// ----- routes ------------------------------------------------------------------------------------

/** `POST /admin/snapshots/daily` */
function dailySnapshotsRoute() {
  return defineRoute({
    method: 'post',
    path: '/admin/snapshots/daily',
    operationId: 'runDailySnapshots',
    tag: 'Admin',
    summary: 'Record the daily snapshots of a day now',
    description:
      'Records one `daily` snapshot per portfolio for `day` (default: yesterday, UTC) and answers the report. A rerun replaces that day’s rows.',
    policy: 'admin',
    rateLimit: 'admin',
    body: dailySnapshotsBody,
    responses: [
      {
        status: 200,
        description: 'The run’s report.',
        example: {
          day: '2026-01-05',
          method: 'latest',
          processed: 120,
          succeeded: 119,
          skipped: 0,
          failed: [{ portfolioId: PF, code: 'PRICE_UNAVAILABLE', message: 'No price for XYZ' }],
          failedCount: 1,
          durationMs: 212,
        },
      },
      INVALID,
      ...DENIED,
    ],
    handler: async (c, { engine, body }) =>
      c.json(await engine.runDailySnapshots(body?.day === undefined ? {} : { day: body.day }), 200),
  });
}

/** `POST /admin/portfolios/:id/backfill` */
function backfillPortfolioRoute(jobs: AdminJobs) {
  const path = '/admin/portfolios/:id/backfill';
  return defineRoute({
    method: 'post',
    path,
    operationId: 'backfillPortfolio',
    tag: 'Admin',
    summary: 'Backfill one portfolio’s history (a job)',
    description:
      'Writes one `backfill` snapshot per day of the range, valued from the ledger and daily closes, in the background. Any portfolio (admins are not limited to their own).',
    policy: 'admin',
    owned: false,
    rateLimit: 'admin',
    params: portfolioParams,
    body: backfillBody,
    responses: [
      ACCEPTED,
      { status: 404, description: 'No such portfolio.', contentType: 'application/problem+json' },
      INVALID,
      ...DENIED,
    ],
    handler: async (c, { engine, params, body }) => {
      await engine.getPortfolio(params.id);
      const job = await jobs.start({
        kind: 'backfill',
        portfolioId: params.id,
        requestId: requestIdOf(c),
        run: () => engine.backfill(params.id, body),
      });
      return accepted(c, path, job);
    },
  });
}

/** `POST /admin/backfill` */
function backfillAllRoute(jobs: AdminJobs) {
  const path = '/admin/backfill';
  return defineRoute({
    method: 'post',
    path,
    operationId: 'backfillAll',
    tag: 'Admin',
    summary: 'Backfill every portfolio’s history (a job)',
    description:
      'Backfills every portfolio over the range in the background (daily history fetched once per symbol). Progress counts portfolios.',
    policy: 'admin',
    rateLimit: 'admin',
    body: backfillBody,
    responses: [ACCEPTED, INVALID, ...DENIED],
    handler: async (c, { engine, body }) => {
      const job = await jobs.start({
        kind: 'backfill-all',
        portfolioId: null,
        requestId: requestIdOf(c),
        run: () => engine.backfillAll(body),
      });
      return accepted(c, path, job);
    },
  });
}

/** `GET /admin/jobs/:id` */
function jobRoute(jobs: AdminJobs) {
  return defineRoute({
    method: 'get',
    path: '/admin/jobs/:id',
    operationId: 'getAdminJob',
    tag: 'Admin',
    summary: 'A background job: status, progress, report or error',
    description: `The last ${DEFAULT_MAX_JOBS} jobs of this instance are kept (a job lives in the instance that started it).`,
    policy: 'admin',
    rateLimit: 'admin',
    params: jobParams,
    responses: [
      {
        status: 200,
        description: 'The job.',
        example: {
          id: JOB_ID,
          kind: 'backfill',
          status: 'completed',
          portfolioId: PF,
          createdAt: '2026-01-06T09:00:00.000Z',
          finishedAt: '2026-01-06T09:00:00.084Z',
          progress: { unit: 'days', done: 31, total: 31 },
          report: BACKFILL_REPORT,
        } satisfies JobView,
      },
      { status: 404, description: 'No such job (or forgotten).', contentType: 'application/problem+json' },
      ...DENIED,
    ],
    handler: (c, { params }) => {
      const job = jobs.get(params.id);
      if (!job) throw new FoliokitError('NOT_FOUND', `No job with id ${params.id}`, { field: 'id', jobId: params.id });
      return c.json(jobView(job), 200);
    },
  });
}

/** `GET /admin/scheduler` */
function schedulerRoute() {
  return defineRoute({
    method: 'get',
    path: '/admin/scheduler',
    operationId: 'getSchedulerStatus',
    tag: 'Admin',
    summary: 'The scheduler: each job’s schedule, last run, next run and counters',
    policy: 'admin',
    rateLimit: 'admin',
    responses: [
      {
        status: 200,
        description: 'The scheduler’s status.',
        example: {
          running: true,
          instance: 'inst_0mwvwivtf0000a1b2c3d4e5f',
          jobs: [
            {
              name: 'daily-snapshots',
              schedule: 'cron 0 0 * * * (UTC)',
              running: false,
              lastStartedAt: '2026-01-06T00:00:00.000Z',
              lastFinishedAt: '2026-01-06T00:00:00.212Z',
              lastResult: 'completed',
              lastReport: null,
              lastError: null,
              nextRunAt: '2026-01-07T00:00:00.000Z',
              runCount: 1,
              failureCount: 0,
              consecutiveFailures: 0,
              skippedCount: 0,
            },
          ],
        },
      },
      ...DENIED,
    ],
    handler: (c, { engine }) => c.json(engine.getSchedulerStatus(), 200),
  });
}

/** `GET /admin/providers` */
function providersRoute() {
  return defineRoute({
    method: 'get',
    path: '/admin/providers',
    operationId: 'getProviderStatus',
    tag: 'Admin',
    summary: 'The market-data provider’s health, calls and errors',
    policy: 'admin',
    rateLimit: 'admin',
    responses: [{ status: 200, description: 'The provider’s status.', example: EXAMPLES.providerStatus }, ...DENIED],
    handler: (c, { engine }) => c.json(engine.getProviderStatus(), 200),
  });
}

/** `GET /admin/metrics` */
function metricsRoute(deps: RouterDeps) {
  return defineRoute({
    method: 'get',
    path: '/admin/metrics',
    operationId: 'getMetrics',
    tag: 'Admin',
    summary: 'Metrics: JSON, or the Prometheus text format for scrapers',
    description:
      'JSON by default; the Prometheus text exposition format 0.0.4 with `?format=prometheus` or an `Accept` header preferring `text/plain`.',
    policy: 'admin',
    rateLimit: 'admin',
    query: metricsQuery,
    responses: [
      {
        status: 200,
        description: `Every metric family by name (JSON); with Prometheus negotiated, the text format (\`${PROMETHEUS_CONTENT_TYPE}\`).`,
        example: {
          foliokit_trades_total: {
            type: 'counter',
            help: 'Trades executed, by side.',
            samples: [{ labels: { side: 'buy' }, value: 42 }],
          },
        },
      },
      ...DENIED,
    ],
    handler: (c, { query }) => {
      if (wantsPrometheus(query.format, c.req.header('Accept'))) {
        return c.body(deps.metrics.render('prometheus'), 200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE });
      }
      return c.json(deps.metrics.render('json'), 200);
    },
  });
}

/**
 * The admin routes of one router. Holds the router's job registry (jobs live as long as the
 * router).
 */
export function adminRoutes(deps: RouterDeps): AnyRouteSpec[] {
  const jobs = createAdminJobs(deps.engine);
  return [
    dailySnapshotsRoute(),
    backfillPortfolioRoute(jobs),
    backfillAllRoute(jobs),
    jobRoute(jobs),
    schedulerRoute(),
    providersRoute(),
    metricsRoute(deps),
  ];
}
