/**
 * Backtest routes (issue #13): long work in the background. `POST /backtests` (and
 * `POST /backtests/compare`) validate the request at once (422 naming the field, nothing stored),
 * queue the run in the router's backtest runner (`deps.backtests`) and answer 202
 * `{ id, status, links: { self } }` with a `Location`; the client polls `GET /backtests/:backtestId`
 * (status, progress, and the result once `succeeded`) or follows it on the WebSocket. A full queue,
 * or a caller who already holds the runner's `maxQueuedPerOwner` runs, is 429 `QUEUE_FULL` with
 * `Retry-After` (`scope` `'runner'` or `'owner'`).
 *
 * Runs belong to the caller who submitted them: another user's run answers 404 `NOT_FOUND` with
 * the same body as a missing id, on every route. The list (`GET /backtests`) is the caller's runs,
 * newest first, without their `result` (a result holds every fill and the equity curve: read it on
 * the run's own route).
 *
 * The body's shape is documented here; its values (strategy names and params, symbols, amounts) are
 * checked by core, whose `VALIDATION_FAILED` names the field. Amounts are decimal strings (or exact
 * JSON numbers); a backtest runs over history, so `to` may not be after today (UTC); every symbol
 * (and the benchmark) must have a known price (`UNKNOWN_SYMBOL` otherwise), checked before queuing.
 */
import {
  ALLOCATIONS,
  BACKTEST_RUN_STATUSES,
  type BacktestCompareRequest,
  type BacktestRequest,
  type BacktestRun,
  type BacktestRunner,
  COST_BASIS_METHODS,
  dayOf,
  FILL_MODES,
  FoliokitError,
  isFoliokitError,
  normalizeSymbol,
  type PortfolioEngine,
} from '@foliokit/core';
import type { Context } from 'hono';
import { z } from 'zod';
import { HttpError } from '../problem.js';
import { type AnyRouteSpec, defineRoute, type RouteResponse } from '../route-table.js';
import type { RouterDeps } from '../router-deps.js';
import { callerId, commaList, cursorQuery, dayQuery, errorResponses, idParam, limitQuery } from '../schemas.js';
import { jsonAnswer } from '../security.js';

// ----- schemas -----------------------------------------------------------------------------------

/** Page-size cap of `GET /backtests`. */
export const MAX_BACKTEST_PAGE = 100;
/** Most symbols one backtest request may name (core allows more; a request over HTTP stays small). */
export const MAX_BACKTEST_SYMBOLS = 100;

/** An amount in a JSON body: a decimal string or an exact JSON number (core parses it). */
const decimalBody = z.union([z.string().max(64), z.number()]);

/** The strategy's parameters: an object the strategy's own schema checks. */
const strategyParams = z
  .record(z.string(), z.unknown())
  .meta({ description: "The strategy's parameters (checked by its schema; defaults fill the rest)" });

/** The fields a single backtest and a comparison share (everything but the strategy). */
const sharedFields = {
  symbols: z
    .array(z.string().max(64))
    .min(1)
    .max(MAX_BACKTEST_SYMBOLS)
    .meta({ description: `1 to ${MAX_BACKTEST_SYMBOLS} symbols` }),
  from: dayQuery.meta({ description: 'First day, inclusive', examples: ['2025-01-02'] }),
  to: dayQuery.meta({ description: 'Last day, inclusive; not after today (UTC)', examples: ['2025-12-31'] }),
  initialCash: decimalBody.meta({ description: 'Starting cash, greater than zero (a decimal string)' }),
  fill: z
    .enum(FILL_MODES)
    .meta({ description: 'Orders fill at the next bar’s open (default) or this close' })
    .optional(),
  commission: z
    .strictObject({
      fixed: decimalBody.meta({ description: 'Per fill, an amount' }).optional(),
      rate: decimalBody.meta({ description: 'Per fill, a fraction of its value (0.001 = 0.1 %)' }).optional(),
    })
    .optional(),
  allocation: z
    .enum(ALLOCATIONS)
    .meta({
      description:
        '`equal-sleeves`: the cash split into one sleeve per symbol; `shared`: one pool. Default: the strategy’s own (`shared` for `rebalance`), else `equal-sleeves`',
    })
    .optional(),
  costBasisMethod: z.enum(COST_BASIS_METHODS).optional(),
  riskFreeRate: z.number().meta({ description: 'Annual, as a fraction (-1 to 1) for the Sharpe ratio' }).optional(),
  benchmark: z
    .string()
    .max(64)
    .meta({ description: 'A symbol to compare with (its metrics and equity curve in the result)' })
    .optional(),
};

/** `POST /backtests` */
export const backtestBody = z
  .strictObject({
    strategy: z.string().min(1).max(64).meta({ description: 'A registered strategy (`GET /strategies`)' }),
    params: strategyParams.optional(),
    ...sharedFields,
  })
  .meta({
    examples: [
      {
        strategy: 'sma-cross',
        params: { fast: 10, slow: 30 },
        symbols: ['AAPL', 'MSFT'],
        from: '2025-01-02',
        to: '2025-12-31',
        initialCash: '10000',
        fill: 'next-open',
        commission: { fixed: '1', rate: '0.0005' },
      },
    ],
  });

/** `POST /backtests/compare` */
export const compareBody = z
  .strictObject({
    variants: z
      .array(
        z.strictObject({
          label: z.string().min(1).max(100).optional(),
          strategy: z.string().min(1).max(64),
          params: strategyParams.optional(),
        }),
      )
      .min(2)
      .max(10)
      .meta({ description: '2 to 10 variants, run on the same bars' }),
    ...sharedFields,
  })
  .meta({
    examples: [
      {
        variants: [
          { label: 'fast', strategy: 'sma-cross', params: { fast: 5, slow: 20 } },
          { label: 'slow', strategy: 'sma-cross', params: { fast: 20, slow: 50 } },
          { label: 'hold', strategy: 'buy-and-hold' },
        ],
        symbols: ['AAPL'],
        from: '2025-01-02',
        to: '2025-12-31',
        initialCash: '10000',
      },
    ],
  });

/** `POST /backtests/:backtestId/cancel`: no body, or `{}`. */
export const cancelBody = z
  .strictObject({})
  .optional()
  .meta({ examples: [{}] });

/** `/backtests/:backtestId...` */
export const backtestParams = z.strictObject({
  backtestId: idParam.meta({ description: 'Backtest run id', examples: ['bt_01JH2N0A1B2C3D4E5F6G7H8J9K'] }),
});

/** `GET /backtests` */
export const listBacktestsQuery = z.strictObject({
  limit: limitQuery(MAX_BACKTEST_PAGE).optional(),
  cursor: cursorQuery.optional(),
  status: commaList(z.enum(BACKTEST_RUN_STATUSES), BACKTEST_RUN_STATUSES.length)
    .meta({
      description: `Only runs in these states, comma-separated: ${BACKTEST_RUN_STATUSES.join(', ')}`,
      examples: ['queued,running'],
    })
    .optional(),
});

// ----- answers -----------------------------------------------------------------------------------

/** A run as the API shows it (the owner is the caller, so not repeated). */
export interface BacktestRunView {
  id: string;
  kind: BacktestRun['kind'];
  status: BacktestRun['status'];
  request: BacktestRun['request'];
  progress: BacktestRun['progress'];
  /** Absent in lists (read the run itself); null until `succeeded`. */
  result?: BacktestRun['result'];
  error: BacktestRun['error'];
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  links: { self: string };
}

/** The path of a run under the router's mount point, from any path under `/backtests`. */
function runPath(c: Context, id: string): string {
  const path = c.req.path;
  const at = path.lastIndexOf('/backtests');
  const base = at === -1 ? '/backtests' : path.slice(0, at + '/backtests'.length);
  return `${base}/${encodeURIComponent(id)}`;
}

/** A run as the API shows it; `withResult: false` for lists. */
export function backtestRunView(c: Context, run: BacktestRun, withResult = true): BacktestRunView {
  const view: BacktestRunView = {
    id: run.id,
    kind: run.kind,
    status: run.status,
    request: run.request,
    progress: run.progress,
    error: run.error,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    links: { self: runPath(c, run.id) },
  };
  if (withResult) view.result = run.result;
  return view;
}

/** The one answer for a missing run and for another user's: same code, message and details. */
export function backtestNotFound(id: string): FoliokitError {
  return new FoliokitError('NOT_FOUND', `No backtest with id ${id}`, { field: 'backtestId' });
}

/** The caller's run, or the one not-found answer (missing, malformed id, or another user's). */
async function ownRun(runner: BacktestRunner, id: string, userId: string): Promise<BacktestRun> {
  let run: BacktestRun;
  try {
    run = await runner.get(id);
  } catch (error) {
    const missing = isFoliokitError(error) && (error.code === 'NOT_FOUND' || error.code === 'VALIDATION_FAILED');
    throw missing ? backtestNotFound(id) : error;
  }
  if (run.ownerId !== userId) throw backtestNotFound(id);
  return run;
}

/** Refuses a `to` after today (UTC): a backtest replays history. */
function checkNotFuture(to: string, now: number): void {
  if (to > dayOf(now)) {
    throw new FoliokitError('VALIDATION_FAILED', 'to: must not be after today (UTC)', { field: 'to' });
  }
}

/**
 * Refuses a symbol nobody has a price for (422 `UNKNOWN_SYMBOL` naming `symbols.<i>` or
 * `benchmark`), in one price-book call, so a typo fails now rather than in the background; 503
 * `PRICE_UNAVAILABLE` when the provider is down and the symbol was never priced.
 */
async function checkKnownSymbols(engine: PortfolioEngine, body: { symbols: string[]; benchmark?: string }) {
  const named = body.symbols.map((symbol, i) => ({
    field: `symbols.${i}`,
    symbol: normalizeSymbol(symbol, `symbols.${i}`),
  }));
  if (body.benchmark !== undefined)
    named.push({ field: 'benchmark', symbol: normalizeSymbol(body.benchmark, 'benchmark') });
  const known = await engine.latestPrices([...new Set(named.map((n) => n.symbol))]);
  const missing = named.find((n) => !known.has(n.symbol));
  if (!missing) return;
  if (!engine.getProviderStatus().healthy) {
    throw new FoliokitError(
      'PRICE_UNAVAILABLE',
      `No price for ${missing.symbol}: the market-data provider is unavailable`,
      {
        field: missing.field,
        symbol: missing.symbol,
      },
    );
  }
  throw new FoliokitError('UNKNOWN_SYMBOL', `No price is known for ${missing.symbol}`, {
    field: missing.field,
    symbol: missing.symbol,
  });
}

/** The 202 answer of a queued run. */
function accepted(c: Context, run: BacktestRun): Response {
  const self = runPath(c, run.id);
  return jsonAnswer(c, { id: run.id, status: run.status, links: { self } }, 202, { Location: self });
}

/**
 * A runner that answers 501 `NOT_IMPLEMENTED` to every call (`stats()` answers zeros, `close()`
 * resolves): the router's stand-in when its store keeps no backtest runs.
 */
export function unavailableRunner(reason: string): BacktestRunner {
  const refuse = () =>
    Promise.reject(new HttpError('NOT_IMPLEMENTED', `Backtests are not available on this server: ${reason}`));
  const fixed: Record<string, unknown> = {
    stats: () => ({ running: 0, queued: 0, concurrency: 0, maxQueued: 0, maxQueuedPerOwner: 0, mode: 'inline' }),
    close: () => Promise.resolve(),
  };
  return new Proxy(fixed, {
    get: (target, name) => (typeof name === 'string' && name in target ? target[name] : refuse),
  }) as unknown as BacktestRunner;
}

// ----- examples ----------------------------------------------------------------------------------

const RUN_ID = 'bt_01JH2N0A1B2C3D4E5F6G7H8J9K';
const RESULT_EXAMPLE = {
  strategy: 'sma-cross',
  params: { fast: 10, slow: 30 },
  symbols: ['AAPL'],
  from: '2025-01-02',
  to: '2025-12-31',
  fill: 'next-open',
  allocation: 'equal-sleeves',
  costBasisMethod: 'average',
  commission: { fixed: '1', rate: '0.0005' },
  initialCash: '10000',
  fills: [
    {
      day: '2025-02-14',
      at: '2025-02-14T14:30:00.000Z',
      symbol: 'AAPL',
      side: 'buy',
      quantity: '40',
      price: '244.6',
      fee: '5.892',
    },
  ],
  unfilled: [],
  equity: [
    { day: '2025-01-02', value: '10000' },
    { day: '2025-12-31', value: '11234.5' },
  ],
  finalValue: '11234.5',
  cash: '210.1',
  positions: [{ symbol: 'AAPL', quantity: '40', costBasis: '9790.892', realizedPnl: '0' }],
  realizedPnl: '0',
  bars: 250,
  metrics: {
    twr: { value: 0.1235 },
    annualizedReturn: { value: 0.1241 },
    mwr: { value: 0.1238 },
    maxDrawdown: { value: -0.0812 },
    volatility: { value: 0.1804 },
    sharpe: { value: 0.69 },
  },
};
const RUN_EXAMPLE = {
  id: RUN_ID,
  kind: 'single',
  status: 'succeeded',
  request: {
    strategy: 'sma-cross',
    params: { fast: 10, slow: 30 },
    symbols: ['AAPL'],
    from: '2025-01-02',
    to: '2025-12-31',
    initialCash: '10000',
  },
  progress: { done: 250, total: 250 },
  result: RESULT_EXAMPLE,
  error: null,
  createdAt: '2026-01-05T10:00:00.000Z',
  startedAt: '2026-01-05T10:00:00.120Z',
  finishedAt: '2026-01-05T10:00:01.480Z',
  links: { self: `/backtests/${RUN_ID}` },
};
const { result: _omitted, ...LIST_ITEM_EXAMPLE } = RUN_EXAMPLE;
const ACCEPTED_EXAMPLE = { id: RUN_ID, status: 'queued', links: { self: `/backtests/${RUN_ID}` } };

const LOCATION_HEADER = { Location: { description: 'The run, to poll' } };
const NOT_FOUND: RouteResponse = {
  status: 404,
  description: "No such backtest, or not one of the caller's (the same answer either way)",
  contentType: 'application/problem+json',
};
const QUEUE_FULL: RouteResponse = {
  status: 429,
  description:
    "QUEUE_FULL: too many backtests wait already (`scope: 'runner'`), or the caller already has " +
    "`maxQueuedPerOwner` queued or running (`scope: 'owner'`) (see Retry-After); or rate limited",
  contentType: 'application/problem+json',
  headers: { 'Retry-After': { description: 'Seconds to wait before retrying' } },
};
const UNAVAILABLE: RouteResponse = {
  status: 501,
  description: 'NOT_IMPLEMENTED: the store of this server keeps no backtest runs',
  contentType: 'application/problem+json',
};

// ----- routes ------------------------------------------------------------------------------------

/** What a route that queues work (a backtest, a comparison) varies in. */
interface QueueRouteSpec<B extends { to: string; symbols: string[]; benchmark?: string | undefined }> {
  path: string;
  operationId: string;
  summary: string;
  description: string;
  body: z.ZodType<B>;
  queue: (body: B, ownerId: string) => Promise<BacktestRun>;
}

/**
 * A `POST` that checks the request (no day after today, known symbols), queues it for the caller
 * and answers 202 with the run's link.
 */
function queueRoute<B extends { to: string; symbols: string[]; benchmark?: string | undefined }>(
  spec: QueueRouteSpec<B>,
): AnyRouteSpec {
  return defineRoute({
    method: 'post',
    path: spec.path,
    operationId: spec.operationId,
    tag: 'Backtests',
    summary: spec.summary,
    description: spec.description,
    policy: 'user',
    rateLimit: 'market',
    body: spec.body,
    responses: [
      { status: 202, description: 'Queued', example: ACCEPTED_EXAMPLE, headers: LOCATION_HEADER },
      ...errorResponses(400, 401, 413, 422),
      QUEUE_FULL,
      UNAVAILABLE,
      ...errorResponses(503),
    ],
    handler: async (c, { engine, body, user }) => {
      checkNotFuture(body.to, engine.clock.now());
      await checkKnownSymbols(engine, body);
      return accepted(c, await spec.queue(body, callerId(user)));
    },
  });
}

/** The backtest routes, over the router's runner. */
export function backtestRoutes(deps: RouterDeps): AnyRouteSpec[] {
  const runner = deps.backtests;
  return [
    queueRoute({
      path: '/backtests',
      operationId: 'submitBacktest',
      summary: 'Queue a backtest',
      description:
        'Checks the request at once (422 naming the field; nothing is stored), queues the run and answers 202 with ' +
        'its link: poll it until `status` is `succeeded`, `failed` or `cancelled`. 429 `QUEUE_FULL` when too many ' +
        'runs wait, or when the caller already has `maxQueuedPerOwner` runs queued or running.',
      body: backtestBody,
      queue: (body, ownerId) => runner.submit(body as BacktestRequest, { ownerId }),
    }),
    queueRoute({
      path: '/backtests/compare',
      operationId: 'compareBacktests',
      summary: 'Queue a comparison of 2 to 10 variants on the same bars',
      description:
        'Each variant is a strategy and/or parameters with a label; all run over the same symbols, range and cash. ' +
        'The result, once `succeeded`, is `{ variants: [{ label, strategy, params, result }] }`.',
      body: compareBody,
      queue: (body, ownerId) => runner.compare(body as BacktestCompareRequest, { ownerId }),
    }),
    defineRoute({
      method: 'get',
      path: '/backtests',
      operationId: 'listBacktests',
      tag: 'Backtests',
      summary: "The caller's backtests, newest first",
      description: 'Each run without its `result` (read it at the run’s `links.self`).',
      policy: 'user',
      query: listBacktestsQuery,
      responses: [
        {
          status: 200,
          description: 'A page of runs',
          example: { items: [LIST_ITEM_EXAMPLE], nextCursor: null },
        },
        ...errorResponses(401, 422),
        UNAVAILABLE,
        ...errorResponses(503),
      ],
      handler: async (c, { query, user }) => {
        const page = await runner.list({
          ownerId: callerId(user),
          limit: query.limit ?? 20,
          cursor: query.cursor ?? null,
          ...(query.status ? { status: query.status } : {}),
        });
        return jsonAnswer(c, {
          items: page.items.map((run) => backtestRunView(c, run, false)),
          nextCursor: page.nextCursor,
        });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/backtests/:backtestId',
      operationId: 'getBacktest',
      tag: 'Backtests',
      summary: 'A backtest: its status, progress and result',
      description:
        '`progress` counts bars replayed of all bars; `result` is null until `succeeded` (a comparison answers ' +
        '`{ variants }`); `error` is `{ code, message }` once `failed` or `cancelled`. Amounts in the result are ' +
        'decimal strings, metrics numbers.',
      policy: 'user',
      params: backtestParams,
      responses: [
        { status: 200, description: 'The run', example: RUN_EXAMPLE },
        ...errorResponses(401),
        NOT_FOUND,
        UNAVAILABLE,
        ...errorResponses(503),
      ],
      handler: async (c, { params, user }) =>
        jsonAnswer(c, backtestRunView(c, await ownRun(runner, params.backtestId, callerId(user)))),
    }),
    defineRoute({
      method: 'post',
      path: '/backtests/:backtestId/cancel',
      operationId: 'cancelBacktest',
      tag: 'Backtests',
      summary: 'Cancel a queued or running backtest',
      description: 'A queued or running run becomes `cancelled`; a finished one is answered as it is.',
      policy: 'user',
      params: backtestParams,
      body: cancelBody,
      responses: [
        { status: 200, description: 'The run', example: { ...LIST_ITEM_EXAMPLE, status: 'cancelled', result: null } },
        ...errorResponses(400, 401),
        NOT_FOUND,
        ...errorResponses(413, 422),
        UNAVAILABLE,
        ...errorResponses(503),
      ],
      handler: async (c, { params, user }) => {
        const run = await ownRun(runner, params.backtestId, callerId(user));
        return jsonAnswer(c, backtestRunView(c, await runner.cancel(run.id)));
      },
    }),
  ];
}
