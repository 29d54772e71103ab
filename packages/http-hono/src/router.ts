/**
 * `createFoliokitRouter(engine, options)`: a Hono app a host mounts anywhere
 * (`app.route('/api', router)`). Every route comes from the route table (`./route-table.ts`) and
 * goes through the same steps, in this order:
 *
 * 1. security headers and the request id (every answer, errors included);
 * 2. the policy: `public` (no credentials read), `user` (401 with `WWW-Authenticate` without a
 *    valid caller), `admin` (401, then 403 without the `admin` role);
 * 3. the rate limit of the route's bucket, per user and per IP (429 with `Retry-After`);
 * 4. path parameters (zod, 422);
 * 5. ownership (`owned` routes): the `:id` portfolio must belong to the caller, else 404
 *    `PORTFOLIO_NOT_FOUND` with the same body as a missing one. Ownership holds for admins too on
 *    these routes: an admin acts on other users' portfolios only through the admin routes. Owners
 *    are remembered (`./owner-cache.ts`): a known portfolio is not read again, and the handler gets
 *    `portfolio: null` (it reads the portfolio itself when it needs more than its id);
 * 6. query (zod, unknown parameters 422) and body (JSON only: 415; over the limit: 413; malformed:
 *    400; zod with unknown fields rejected: 422); the `Idempotency-Key` header (validated, 422);
 * 7. the handler; whatever it throws becomes a problem answer (`./problem.ts`);
 * 8. the request's route, status and duration go to the metrics.
 */
import {
  type AlertEvaluator,
  type BacktestRunner,
  createBacktestRunner,
  FoliokitError,
  isFoliokitError,
  type Portfolio,
  type PortfolioEngine,
  startAlertEvaluator,
} from '@foliokit/core';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { type Authenticator, createAuthenticator } from './auth.js';
import { docsRoutes } from './docs-page.js';
import { createMetrics } from './metrics.js';
import { buildOpenApiDocument, type OpenApiDocument, openApiRoute } from './openapi.js';
import { type FoliokitRouterOptions, type ResolvedRouterOptions, resolveRouterOptions } from './options.js';
import { createOwnerCache, type OwnerCache } from './owner-cache.js';
import { ERROR_STATUS, HttpError, type ProblemField, problem, requestIdOf } from './problem.js';
import { createRateLimiters, type RateLimiters } from './rate-limit.js';
import type { AnyRouteSpec, AuthUser, RouteInput } from './route-table.js';
import type { MetricsRecorder, RouterDeps } from './router-deps.js';
import { adminRoutes } from './routes/admin.js';
import { alertRoutes } from './routes/alerts.js';
import { analyticsRoutes } from './routes/analytics.js';
import { backtestRoutes, unavailableRunner } from './routes/backtests.js';
import { healthRoutes } from './routes/health.js';
import { historyRoutes } from './routes/history.js';
import { portfolioRoutes } from './routes/portfolios.js';
import { priceRoutes } from './routes/prices.js';
import { strategyRoutes } from './routes/strategies.js';
import { streamHubOf, streamRoutes } from './routes/streams.js';
import { tradingRoutes } from './routes/trading.js';
import { watchlistRoutes } from './routes/watchlist.js';
import { portfolioNotFound } from './schemas.js';
import { clientIpOf, corsMiddleware, NO_BODY, readBody, readJsonBody, securityHeaders } from './security.js';
import { closeWebSocketsOf, websocketRoutes } from './ws/index.js';

/** The Hono app `createFoliokitRouter` returns, with its route table. */
export type FoliokitRouter = Hono & {
  /**
   * Every route the router serves, in registration order (the OpenAPI document lists the same).
   * Not named `routes`: Hono keeps its own registered handlers under that name.
   */
  readonly routeTable: readonly AnyRouteSpec[];
  /** The shared state handed to the route factories (engine, resolved options, metrics). */
  readonly deps: RouterDeps;
  /**
   * Frees what the router holds: ends every open stream, drops the metrics' subscriptions on the
   * engine, stops the alert evaluator it started and closes the backtest runner it created
   * (cancelling that runner's queued and running backtests; a runner the host passed is left
   * alone). Call it at shutdown, before closing the engine; the promise resolves once the runner
   * has closed. Idempotent.
   */
  close(): Promise<void>;
};

/** The route table of a router. */
export function listRoutes(router: FoliokitRouter): readonly AnyRouteSpec[] {
  return router.routeTable;
}

/** The role admin routes require. */
export const ADMIN_ROLE = 'admin';

/** What the router needs per request, built once. */
interface Runtime {
  engine: PortfolioEngine;
  options: ResolvedRouterOptions;
  authenticate: Authenticator;
  limiters: RateLimiters;
  metrics: MetricsRecorder;
  owners: OwnerCache;
}

/** Metrics that keep nothing (`metrics: false`). */
const NO_METRICS: MetricsRecorder = {
  request() {},
  route: () => () => {},
  sseClients() {},
  wsClients() {},
  render: ((format: 'json' | 'prometheus') => (format === 'json' ? {} : '')) as MetricsRecorder['render'],
  close() {},
};

/**
 * Creates the router over a ready engine. The router changes state only through the engine.
 *
 * @example
 * ```ts
 * const app = new Hono();
 * app.route('/api', createFoliokitRouter(engine, { auth: { jwt: { secret, algorithms: ['HS256'] } } }));
 * ```
 * @throws FoliokitError `INVALID_CONFIGURATION` naming the bad option (`details.field`), or a route
 * table that is not sound (a duplicate route or operation id, an owned route without `:id`).
 */
export function createFoliokitRouter(engine: PortfolioEngine, options: FoliokitRouterOptions): FoliokitRouter {
  checkEngine(engine);
  const resolved = resolveRouterOptions(options);
  const authenticate = createAuthenticator(resolved.auth, { clock: engine.clock, logger: engine.logger });
  const metrics = resolved.metrics ? createMetrics(engine) : NO_METRICS;
  const { runner: backtests, owned: ownsRunner } = backtestRunnerOf(engine, resolved);
  const deps: RouterDeps = { engine, options: resolved, metrics, backtests };
  let document: OpenApiDocument | undefined;
  const routes = [...apiRoutes(deps), ...docsRoutes(), openApiRoute(() => document as OpenApiDocument)];
  checkRouteTable(routes);
  document = buildOpenApiDocument(routes);

  const runtime: Runtime = {
    engine,
    options: resolved,
    authenticate,
    limiters: createRateLimiters(resolved.rateLimits, engine.clock),
    metrics,
    owners: createOwnerCache(engine),
  };
  const app = new Hono();
  app.use('*', securityHeaders());
  const cors = corsMiddleware(resolved.cors);
  if (cors) app.use('*', cors);
  app.onError((error, c) => {
    logUnexpected(engine, error, c);
    return problem(c, error);
  });
  app.notFound((c) => {
    const error = new FoliokitError('NOT_FOUND', `No route ${c.req.method} ${c.req.path}`);
    return problem(c, error);
  });
  for (const spec of routes) register(app, prepare(spec), runtime);
  const evaluator = resolved.alerts.evaluate ? alertEvaluatorOf(engine) : null;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    if (closing) return closing;
    streamHubOf(deps)?.close();
    metrics.close();
    runtime.owners.close();
    evaluator?.stop();
    const done = Promise.all([closeWebSocketsOf(deps), ownsRunner ? backtests.close() : Promise.resolve()]).then(
      () => {},
    );
    closing = done;
    return done;
  };
  return Object.assign(app, { routeTable: Object.freeze([...routes]), deps, close });
}

/** Every API route, by area (streams and admin routes share the router's state). */
function apiRoutes(deps: RouterDeps): AnyRouteSpec[] {
  return [
    ...healthRoutes,
    ...portfolioRoutes,
    ...tradingRoutes,
    ...historyRoutes,
    ...watchlistRoutes,
    ...priceRoutes,
    ...analyticsRoutes,
    ...backtestRoutes(deps),
    ...strategyRoutes,
    ...alertRoutes,
    ...streamRoutes(deps),
    ...websocketRoutes(deps),
    ...adminRoutes(deps),
  ];
}

/**
 * The host's runner (never closed by the router), else one created over the engine with the
 * options given (closed by `router.close()`); a stand-in answering 501 when the store keeps no
 * backtest runs.
 */
function backtestRunnerOf(
  engine: PortfolioEngine,
  options: ResolvedRouterOptions,
): { runner: BacktestRunner; owned: boolean } {
  if ('runner' in options.backtests) return { runner: options.backtests.runner, owned: false };
  try {
    return { runner: createBacktestRunner(engine, options.backtests.options), owned: true };
  } catch (error) {
    if (isFoliokitError(error) && error.code === 'INVALID_CONFIGURATION' && error.details.field === 'store') {
      return { runner: unavailableRunner(error.message), owned: false };
    }
    throw error;
  }
}

/** Starts the alert evaluator over the engine, or null when the store keeps no alerts. */
function alertEvaluatorOf(engine: PortfolioEngine): AlertEvaluator | null {
  if (typeof engine.store.listAlerts !== 'function' || typeof engine.store.markAlertFired !== 'function') return null;
  return startAlertEvaluator(engine);
}

function checkEngine(engine: unknown): void {
  const ok =
    typeof engine === 'object' &&
    engine !== null &&
    typeof (engine as { getPortfolio?: unknown }).getPortfolio === 'function' &&
    typeof (engine as { clock?: { now?: unknown } }).clock?.now === 'function';
  if (!ok) {
    throw new FoliokitError('INVALID_CONFIGURATION', 'createFoliokitRouter needs a PortfolioEngine', {
      field: 'engine',
    });
  }
}

/** Refuses a table with a duplicate route or operation id, or an owned route without `:id`. */
export function checkRouteTable(routes: readonly AnyRouteSpec[]): void {
  const seen = new Set<string>();
  const operations = new Set<string>();
  for (const spec of routes) {
    const where = `${spec.method.toUpperCase()} ${spec.path}`;
    const fail = (why: string) => {
      throw new FoliokitError('INVALID_CONFIGURATION', `Route ${where}: ${why}`, { field: 'routes', route: where });
    };
    if (!['public', 'user', 'admin'].includes(spec.policy)) fail('has no policy (public, user or admin)');
    if (seen.has(where)) fail('is declared twice');
    if (operations.has(spec.operationId)) fail(`reuses the operation id ${spec.operationId}`);
    if (spec.owned && (spec.policy === 'public' || !spec.path.includes(':id'))) {
      fail('is owned, so it needs a :id parameter and a user or admin policy');
    }
    seen.add(where);
    operations.add(spec.operationId);
  }
}

/** A spec with its object schemas made strict (unknown fields rejected, whatever the author wrote). */
function prepare(spec: AnyRouteSpec): AnyRouteSpec {
  return { ...spec, params: strict(spec.params), query: strict(spec.query), body: strict(spec.body) };
}

function strict<T extends z.ZodType | undefined>(schema: T): T {
  return (schema instanceof z.ZodObject ? schema.strict() : schema) as T;
}

/** Registers one spec on `app`, recording every answer in the metrics. */
function register(app: Hono, spec: AnyRouteSpec, rt: Runtime): void {
  const record = rt.metrics.route(spec.path, spec.method);
  app.on(spec.method.toUpperCase(), spec.path, async (c) => {
    const started = performance.now();
    let response: Response;
    try {
      response = await run(c, spec, rt);
    } catch (error) {
      logUnexpected(rt.engine, error, c);
      response = problem(c, error);
    }
    record(response.status, (performance.now() - started) / 1000);
    return response;
  });
}

/** The steps of one request, in order (see the module's comment). */
async function run(c: Context, spec: AnyRouteSpec, rt: Runtime): Promise<Response> {
  const user = await authorize(c, spec, rt);
  if (spec.rateLimit) {
    const keys = [`ip:${clientIpOf(c, rt.options)}`];
    if (user) keys.unshift(`user:${user.userId}`);
    rt.limiters[spec.rateLimit].hit(keys);
  }
  const params = parseInput(spec.params, c.req.param(), 'path');
  const portfolio = spec.owned ? await ownedPortfolio(rt, params, user) : null;
  const query = parseInput(spec.query, queryOf(c), 'query');
  const body = await bodyOf(c, spec, rt.options.bodyLimit);
  const idempotencyKey = spec.idempotent ? idempotencyKeyOf(c) : undefined;
  const input: RouteInput<unknown, unknown, unknown> = {
    params,
    query,
    body,
    user,
    portfolio,
    engine: rt.engine,
    idempotencyKey,
  };
  return spec.handler(c, input as RouteInput<never, never, never>);
}

/** The caller, as the route's policy requires it. */
async function authorize(c: Context, spec: AnyRouteSpec, rt: Runtime): Promise<AuthUser | null> {
  if (spec.policy === 'public') return null;
  const user = await rt.authenticate(c.req.raw);
  if (!user) {
    const sent = c.req.header('Authorization') !== undefined;
    throw new HttpError('UNAUTHORIZED', 'Authentication required', {
      headers: {
        'WWW-Authenticate': sent ? 'Bearer realm="foliokit", error="invalid_token"' : 'Bearer realm="foliokit"',
      },
    });
  }
  if (spec.policy === 'admin' && !user.roles.includes(ADMIN_ROLE)) {
    throw new HttpError('FORBIDDEN', `This route needs the ${ADMIN_ROLE} role`);
  }
  return user;
}

/**
 * Checks that the `:id` portfolio belongs to `user` (404 when it is missing or not theirs): from
 * the owner cache when the owner is known (answers null: the handler reads the portfolio itself
 * when it needs it), else by reading the portfolio (answers it, and remembers its owner).
 */
async function ownedPortfolio(rt: Runtime, params: unknown, user: AuthUser | null): Promise<Portfolio | null> {
  const id = String((params as { id?: unknown }).id);
  const known = rt.owners.get(id);
  if (known !== undefined) {
    if (user === null || known !== user.userId) throw portfolioNotFound(id);
    return null;
  }
  const token = rt.owners.begin();
  let portfolio: Portfolio;
  try {
    portfolio = await rt.engine.getPortfolio(id);
  } catch (error) {
    const missing =
      isFoliokitError(error) && (error.code === 'PORTFOLIO_NOT_FOUND' || error.code === 'VALIDATION_FAILED');
    throw missing ? portfolioNotFound(id) : error;
  }
  rt.owners.set(id, portfolio.ownerId, token);
  if (user === null || portfolio.ownerId !== user.userId) throw portfolioNotFound(id);
  return portfolio;
}

/** The query of a URL without one (never handed out for change: parsers copy). */
const NO_QUERY: Record<string, string | string[]> = Object.freeze({}) as Record<string, string | string[]>;

/** The query string: one string per name, an array when a name repeats. */
function queryOf(c: Context): Record<string, string | string[]> {
  if (!c.req.url.includes('?')) return NO_QUERY;
  const all = c.req.queries();
  const out: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(all)) out[name] = values.length === 1 ? (values[0] as string) : values;
  return out;
}

/**
 * The validated body: `undefined` when absent (and allowed). A route without a body schema ignores
 * a GET's body and refuses any other non-empty body (422, whatever its type; 413 over the limit).
 */
async function bodyOf(c: Context, spec: AnyRouteSpec, limit: number): Promise<unknown> {
  if (!spec.body) {
    if (spec.method === 'get' || (await readBody(c, limit)).byteLength === 0) return undefined;
    throw validationError([{ path: 'body', message: 'this route takes no body', in: 'body' }]);
  }
  const raw = await readJsonBody(c, limit);
  return parseInput(spec.body, raw === NO_BODY ? undefined : raw, 'body');
}

/** An `Idempotency-Key` is 1 to 255 visible ASCII characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function idempotencyKeyOf(c: Context): string | undefined {
  const key = c.req.header('Idempotency-Key');
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw validationError([
      { path: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters', in: 'header' },
    ]);
  }
  return key;
}

/**
 * Parses an input with its schema. Without a schema, path parameters pass as they are, and any
 * query parameter is unknown (422).
 */
function parseInput(schema: z.ZodType | undefined, value: unknown, where: ProblemField['in'] & string): unknown {
  if (!schema) {
    if (where === 'query' && Object.keys(value as object).length > 0) {
      const names = Object.keys(value as object);
      throw validationError(names.map((path) => ({ path, message: 'unknown query parameter', in: 'query' })));
    }
    return value;
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationError(issuesOf(result.error, where));
}

/** Every zod issue as fields at fault; unknown keys become one field each. */
function issuesOf(error: z.ZodError, where: ProblemField['in'] & string): ProblemField[] {
  const out: ProblemField[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...path, key].join('.'), message: 'unknown field', in: where });
    } else {
      out.push({ path: path.join('.') || where, message: issue.message, in: where });
    }
  }
  return out;
}

/** A `VALIDATION_FAILED` error naming the fields at fault (`details.field`: the first one's path). */
function validationError(fields: ProblemField[]): FoliokitError {
  const first = fields[0] ?? { path: 'input', message: 'invalid' };
  return new FoliokitError('VALIDATION_FAILED', `${first.path}: ${first.message}`, {
    field: first.path,
    issues: fields,
  });
}

/** Logs what becomes a 500 (never sent to the client), with the request id to find it. */
function logUnexpected(engine: PortfolioEngine, error: unknown, c: Context): void {
  if (error instanceof HttpError) return;
  if (isFoliokitError(error) && ERROR_STATUS[error.code] !== 500) return;
  engine.logger.error('http: unexpected error', {
    requestId: requestIdOf(c),
    method: c.req.method,
    path: c.req.path,
    error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error),
  });
}
