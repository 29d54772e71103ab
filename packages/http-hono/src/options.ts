/**
 * The router's options: their type, their zod validation (run once, in `createFoliokitRouter`) and
 * their defaults. A bad option fails at start with an `INVALID_CONFIGURATION` error naming it.
 */

import { type BacktestRunner, type BacktestRunnerOptions, FoliokitError } from '@foliokit/core';
import { z } from 'zod';
import type { AuthOptions } from './auth.js';
import type { RateLimitBucket } from './route-table.js';
import type { SseOptions } from './sse/options.js';

/** The body size limit when the host sets none: 1 MiB (HTTP.md). */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** A fixed window: at most `max` requests per `windowMs`, counted per user and, apart, per IP. */
export interface RateLimit {
  windowMs: number;
  max: number;
}

/** The rate limits when the host sets none (per user and per IP, each). */
export const DEFAULT_RATE_LIMITS: Readonly<Record<RateLimitBucket, RateLimit>> = {
  trades: { windowMs: 60_000, max: 120 },
  market: { windowMs: 60_000, max: 600 },
  admin: { windowMs: 60_000, max: 60 },
};

/** CORS, only as the host configures it (none by default). */
export interface CorsOptions {
  /** Allowed origins (`https://app.example.com`), or `'*'` for any (not with `credentials`). */
  origins: readonly string[] | '*';
  /** Sends `Access-Control-Allow-Credentials: true`. @default false */
  credentials?: boolean;
  /** Preflight cache, in seconds. @default 600 */
  maxAge?: number;
}

/** Options of `createFoliokitRouter`. */
export interface FoliokitRouterOptions {
  /**
   * How callers are authenticated; handed to `createAuthenticator` (`./auth.ts`), which validates
   * it: `{ jwt: { ... } }`, `{ resolve: async (request) => user | null }` or `{ development: true }`.
   */
  auth: AuthOptions;
  /** Largest accepted request body, in bytes (413 above). @default 1 MiB */
  bodyLimit?: number;
  /** CORS; without it no CORS header is sent. */
  cors?: CorsOptions;
  /** Per-bucket limits; a bucket left out keeps its default ({@link DEFAULT_RATE_LIMITS}). */
  rateLimits?: Partial<Record<RateLimitBucket, RateLimit>>;
  /**
   * The caller's IP for per-IP rate limits. @default the socket's remote address under
   * `@hono/node-server`, else `'unknown'` (put the router behind a proxy? read its header here).
   */
  clientIp?: (request: Request, env: unknown) => string | undefined;
  /**
   * Options of the SSE streams, passed as given to the streams routes, which validate them (an
   * unknown key fails at start there; the index signature only lets tests pass one).
   */
  streams?: SseOptions & Record<string, unknown>;
  /** Keeps request, SSE, WebSocket and engine metrics (served at `GET /admin/metrics`). @default true */
  metrics?: boolean;
  /**
   * The backtest runner behind `/backtests`: a runner the host created (`createBacktestRunner`;
   * the router never closes it), or the options of one the router creates over the engine and
   * closes in `router.close()`. @default a runner with core's default options (one run at a time in
   * a worker thread, 16 waiting). When the store keeps no backtest runs, the backtest routes answer
   * 501 `NOT_IMPLEMENTED` and the router still starts.
   */
  backtests?: BacktestRunner | BacktestRunnerOptions;
  /** The `/alerts` routes' evaluator. */
  alerts?: AlertRouteOptions;
}

/** Options of the alerts the router serves. */
export interface AlertRouteOptions {
  /**
   * Starts `startAlertEvaluator(engine)` with the router (stopped by `router.close()`), so alerts
   * created over HTTP fire (`alert.triggered`). Turn it off when the host runs its own evaluator
   * (two evaluators on one store still fire an alert once: fires are claimed compare-and-set).
   * Without alert methods in the store, no evaluator starts and the alert routes answer 501
   * `NOT_IMPLEMENTED`. @default true
   */
  evaluate?: boolean;
}

/** How the router gets its backtest runner. */
export type ResolvedBacktests =
  /** The host's runner, used as it is and never closed by the router. */
  | { runner: BacktestRunner }
  /** Options of the runner the router creates (and closes). */
  | { options: BacktestRunnerOptions };

/** The options once validated, with every default applied. */
export interface ResolvedRouterOptions {
  auth: unknown;
  bodyLimit: number;
  cors: Required<CorsOptions> | null;
  rateLimits: Readonly<Record<RateLimitBucket, RateLimit>>;
  clientIp: ((request: Request, env: unknown) => string | undefined) | null;
  /** As the host gave them (the streams validate them and apply their defaults). */
  streams: SseOptions;
  metrics: boolean;
  backtests: ResolvedBacktests;
  alerts: { evaluate: boolean };
}

/** True for an object that looks like a `BacktestRunner` (it has `submit`, `get` and `list`). */
export function isBacktestRunner(value: unknown): value is BacktestRunner {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return typeof r.submit === 'function' && typeof r.get === 'function' && typeof r.list === 'function';
}

/** An origin exactly as browsers send it: scheme, host, optional port, no path. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}

const rateLimitSchema = z.strictObject({
  windowMs: z.number().int().min(1).max(86_400_000),
  max: z.number().int().min(1).max(1_000_000_000),
});

const corsSchema = z
  .strictObject({
    origins: z.union([
      z.literal('*'),
      z.array(z.string().refine(isOrigin, 'must be an origin such as https://app.example.com (no path)')).min(1),
    ]),
    credentials: z.boolean().default(false),
    maxAge: z.number().int().min(0).max(86_400).default(600),
  })
  .refine((c) => !(c.origins === '*' && c.credentials), {
    message: "origins '*' cannot be combined with credentials",
    path: ['origins'],
  });

const optionsSchema = z.strictObject({
  auth: z.unknown().refine((a) => a !== undefined, 'is required ({ jwt }, { resolve } or { development: true })'),
  bodyLimit: z
    .number()
    .int()
    .min(1)
    .max(64 * 1024 * 1024)
    .default(DEFAULT_BODY_LIMIT),
  cors: corsSchema.optional(),
  rateLimits: z
    .strictObject({
      trades: rateLimitSchema.optional(),
      market: rateLimitSchema.optional(),
      admin: rateLimitSchema.optional(),
    })
    .default({}),
  clientIp: z.custom<(request: Request, env: unknown) => string | undefined>((f) => typeof f === 'function', {
    message: 'must be a function (request, env) => string | undefined',
  }),
  streams: z.record(z.string(), z.unknown()).default({}),
  metrics: z.boolean().default(true),
  backtests: z
    .custom<BacktestRunner | BacktestRunnerOptions>(
      (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
      'must be a BacktestRunner or the options of one ({ concurrency, maxQueued, worker, ... })',
    )
    .optional(),
  alerts: z.strictObject({ evaluate: z.boolean().default(true) }).default({ evaluate: true }),
});

/**
 * Validates the router's options and applies the defaults.
 * @throws FoliokitError `INVALID_CONFIGURATION` naming the first bad option (`details.field`,
 * e.g. `options.rateLimits.trades.max`) and listing every problem in `details.issues`.
 */
export function resolveRouterOptions(options: unknown): ResolvedRouterOptions {
  if (typeof options !== 'object' || options === null) {
    throw new FoliokitError('INVALID_CONFIGURATION', 'createFoliokitRouter needs an options object with `auth`', {
      field: 'options',
    });
  }
  const result = optionsSchema.partial({ clientIp: true }).safeParse(options);
  if (!result.success) {
    const issues = result.error.issues.flatMap((i) => {
      const path = ['options', ...i.path.map(String)];
      if (i.code !== 'unrecognized_keys') return [{ field: path.join('.'), message: i.message }];
      return i.keys.map((key) => ({ field: [...path, key].join('.'), message: 'is not an option of the router' }));
    });
    const first = issues[0] ?? { field: 'options', message: 'invalid' };
    throw new FoliokitError('INVALID_CONFIGURATION', `Invalid router option ${first.field}: ${first.message}`, {
      field: first.field,
      issues,
    });
  }
  const v = result.data;
  return {
    auth: v.auth,
    bodyLimit: v.bodyLimit,
    cors: v.cors ? { origins: v.cors.origins, credentials: v.cors.credentials, maxAge: v.cors.maxAge } : null,
    rateLimits: { ...DEFAULT_RATE_LIMITS, ...stripUndefined(v.rateLimits) },
    clientIp: v.clientIp ?? null,
    streams: v.streams as SseOptions,
    metrics: v.metrics,
    backtests: isBacktestRunner(v.backtests)
      ? { runner: v.backtests }
      : { options: (v.backtests ?? {}) as BacktestRunnerOptions },
    alerts: { evaluate: v.alerts.evaluate },
  };
}

/** The entries whose value is defined. */
function stripUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
