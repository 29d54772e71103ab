/**
 * Strategy routes (issue #13): the registered strategies, their parameters (JSON Schema, defaults,
 * and each user's saved values), and their signals over history (heatmap data) or on the latest
 * bar. Nothing here trades.
 *
 * Signals use the caller's saved parameters unless the request gives `params` (a JSON object in the
 * query string); the range is capped ({@link MAX_SIGNAL_DAYS} days, else 422 `RANGE_TOO_LARGE`). A
 * provider that cannot serve the history is 503 (the provider's code): never placeholder data.
 */
import {
  type AnyStrategy,
  dayOf,
  FoliokitError,
  getSignals,
  getStrategy,
  getStrategyParams,
  listStrategies,
  type SignalCell,
  saveStrategyParams,
} from '@foliokit/core';
import { z } from 'zod';
import { type AnyRouteSpec, defineRoute, type RouteResponse } from '../route-table.js';
import { callerId, commaList, dayQuery, errorResponses, symbolInput, withStoreFeature } from '../schemas.js';
import { jsonAnswer } from '../security.js';

/** Longest range of `GET /strategies/:name/signals`, in days (like price history's). */
export const MAX_SIGNAL_DAYS = 3660;
/** Most symbols one signals request may ask for. */
export const MAX_SIGNAL_SYMBOLS = 50;
/** Default look-back of `GET /strategies/:name/signals/latest`, in calendar days. */
export const DEFAULT_SIGNAL_LOOKBACK_DAYS = 400;

const DAY_MS = 86_400_000;

// ----- schemas -----------------------------------------------------------------------------------

/** `/strategies/:name...` */
export const strategyNameParams = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(64)
    .meta({ description: 'Strategy name', examples: ['sma-cross'] }),
});

/** `params` in a query string: a JSON object (`{"fast":5}`), URL-encoded. */
const paramsQuery = z
  .string()
  .max(2000)
  .transform((text, ctx) => {
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // reported below
    }
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object such as {"fast":5,"slow":20}' });
    return z.NEVER;
  })
  .meta({
    description: 'Parameters to use instead of the saved ones: a JSON object (URL-encoded)',
    examples: ['{"fast":5,"slow":20}'],
  });

const symbolsQuery = commaList(symbolInput, MAX_SIGNAL_SYMBOLS).meta({
  description: `1 to ${MAX_SIGNAL_SYMBOLS} symbols, comma-separated`,
  examples: ['AAPL,MSFT'],
});

/** `GET /strategies/:name/signals` */
export const signalsQuery = z.strictObject({
  symbols: symbolsQuery,
  from: dayQuery.meta({ description: 'First day, inclusive', examples: ['2025-01-02'] }),
  to: dayQuery.meta({ description: 'Last day, inclusive', examples: ['2025-12-31'] }),
  params: paramsQuery.optional(),
});

/** `GET /strategies/:name/signals/latest` */
export const latestSignalsQuery = z.strictObject({
  symbols: symbolsQuery,
  lookbackDays: z
    .string()
    .regex(/^[1-9]\d{0,3}$/, 'must be a whole number written with digits')
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_SIGNAL_DAYS))
    .meta({
      description: `Calendar days of history the strategy reads, 1 to ${MAX_SIGNAL_DAYS}. Default ${DEFAULT_SIGNAL_LOOKBACK_DAYS}`,
      examples: ['400'],
    })
    .optional(),
  params: paramsQuery.optional(),
});

/** `PUT /strategies/:name/params` */
export const strategyParamsBody = z
  .strictObject({
    params: z
      .record(z.string(), z.unknown())
      .meta({ description: "The caller's parameters (checked by the strategy's schema; defaults fill the rest)" }),
  })
  .meta({ examples: [{ params: { fast: 5, slow: 20 } }] });

// ----- answers -----------------------------------------------------------------------------------

/** The JSON Schema of a strategy's parameters (input side), or null when zod cannot express it. */
function paramsJsonSchema(strategy: AnyStrategy): unknown {
  try {
    return z.toJSONSchema(strategy.params, { io: 'input', unrepresentable: 'any' });
  } catch {
    return null;
  }
}

/** The parameters a strategy takes when given none, or null when it needs some. */
function defaultsOf(strategy: AnyStrategy): unknown {
  const parsed = strategy.params.safeParse({});
  return parsed.success ? parsed.data : null;
}

/** The strategy named `name` (404 `NOT_FOUND` naming `name` when none is registered). */
function strategyNamed(name: string): AnyStrategy {
  return getStrategy(name);
}

/** The parameters to evaluate with: the request's, else the caller's saved ones (else defaults). */
async function paramsFor(
  engine: Parameters<typeof getStrategyParams>[0],
  ownerId: string,
  strategy: string,
  given: Record<string, unknown> | undefined,
): Promise<Record<string, unknown> | undefined> {
  if (given !== undefined) return given;
  const saved = await savedParams(engine, ownerId, strategy);
  return saved.saved ? (saved.params as Record<string, unknown>) : undefined;
}

/** The caller's saved parameters of a strategy (its defaults when none), 501 without the store's support. */
function savedParams(engine: Parameters<typeof getStrategyParams>[0], ownerId: string, strategy: string) {
  return withStoreFeature('Saved strategy parameters', () => getStrategyParams(engine, { ownerId, strategy }));
}

/** Refuses a range over {@link MAX_SIGNAL_DAYS} days. */
function checkRange(from: string, to: string): void {
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS + 1;
  if (days > MAX_SIGNAL_DAYS) {
    throw new FoliokitError(
      'RANGE_TOO_LARGE',
      `Signals span at most ${MAX_SIGNAL_DAYS} days (asked ${days}); ask for a shorter range`,
      { field: 'from', maxDays: MAX_SIGNAL_DAYS },
    );
  }
}

// ----- examples ----------------------------------------------------------------------------------

const DETAIL_EXAMPLE = {
  name: 'sma-cross',
  description: 'Buys when the fast simple moving average crosses above the slow one, sells on the cross below.',
  builtIn: true,
  paramsSchema: {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: {
      fast: { type: 'integer', minimum: 1, default: 10 },
      slow: { type: 'integer', minimum: 2, default: 30 },
    },
  },
  defaults: { fast: 10, slow: 30 },
  params: { fast: 5, slow: 20 },
  saved: true,
  updatedAt: '2026-01-05T10:00:00.000Z',
};
const SAVED_EXAMPLE = {
  strategy: 'sma-cross',
  params: { fast: 5, slow: 20 },
  saved: true,
  updatedAt: '2026-01-05T10:00:00.000Z',
};
const SIGNALS_EXAMPLE = {
  strategy: 'sma-cross',
  params: { fast: 5, slow: 20 },
  from: '2025-12-29',
  to: '2025-12-31',
  days: ['2025-12-29', '2025-12-30', '2025-12-31'],
  rows: [
    {
      symbol: 'AAPL',
      cells: [
        { day: '2025-12-29', signal: null, strength: null },
        { day: '2025-12-30', signal: 'buy', strength: null },
        { day: '2025-12-31', signal: null, strength: null },
      ],
    },
  ],
};
const LATEST_EXAMPLE = {
  strategy: 'sma-cross',
  params: { fast: 5, slow: 20 },
  from: '2024-11-27',
  to: '2026-01-05',
  items: [
    {
      symbol: 'AAPL',
      day: '2026-01-02',
      signal: null,
      strength: null,
      lastSignal: { day: '2025-12-30', signal: 'buy', strength: null },
    },
  ],
};
const NOT_FOUND: RouteResponse = {
  status: 404,
  description: 'No strategy with this name',
  contentType: 'application/problem+json',
};
const STORE_501: RouteResponse = {
  status: 501,
  description: "NOT_IMPLEMENTED: the store of this server keeps no users' strategy parameters",
  contentType: 'application/problem+json',
};

// ----- routes ------------------------------------------------------------------------------------

/** The strategy routes. */
export const strategyRoutes: AnyRouteSpec[] = [
  defineRoute({
    method: 'get',
    path: '/strategies',
    operationId: 'listStrategies',
    tag: 'Strategies',
    summary: 'The registered strategies',
    description: 'Built-ins and the host’s own (`registerStrategy`), by name; one page (`nextCursor` is null).',
    policy: 'user',
    responses: [
      {
        status: 200,
        description: 'The strategies',
        example: {
          items: [{ name: 'sma-cross', description: DETAIL_EXAMPLE.description, builtIn: true }],
          nextCursor: null,
        },
      },
      ...errorResponses(401),
    ],
    handler: (c) => jsonAnswer(c, { items: listStrategies(), nextCursor: null }),
  }),
  defineRoute({
    method: 'get',
    path: '/strategies/:name',
    operationId: 'getStrategy',
    tag: 'Strategies',
    summary: 'A strategy, the JSON Schema of its parameters, and the caller’s saved parameters',
    description:
      '`paramsSchema` is the input JSON Schema of the parameters (null when it cannot be expressed); `defaults` ' +
      'what an empty object validates to (null when the strategy needs parameters); `params` the caller’s saved ' +
      'parameters (`saved: true`), else the defaults.',
    policy: 'user',
    params: strategyNameParams,
    responses: [
      { status: 200, description: 'The strategy', example: DETAIL_EXAMPLE },
      ...errorResponses(401),
      NOT_FOUND,
      STORE_501,
      ...errorResponses(503),
    ],
    handler: async (c, { engine, params, user }) => {
      const strategy = strategyNamed(params.name);
      const info = listStrategies().find((s) => s.name === strategy.name);
      const mine = await savedParams(engine, callerId(user), strategy.name);
      return jsonAnswer(c, {
        name: strategy.name,
        description: strategy.description,
        builtIn: info?.builtIn ?? false,
        paramsSchema: paramsJsonSchema(strategy),
        defaults: defaultsOf(strategy),
        params: mine.params,
        saved: mine.saved,
        updatedAt: mine.updatedAt,
      });
    },
  }),
  defineRoute({
    method: 'put',
    path: '/strategies/:name/params',
    operationId: 'saveStrategyParams',
    tag: 'Strategies',
    summary: 'Save the caller’s parameters of a strategy',
    description:
      'Replaces the caller’s saved parameters (each user has their own); checked by the strategy’s schema ' +
      '(422 naming `params.<field>`). Answers what was saved, defaults filled in.',
    policy: 'user',
    params: strategyNameParams,
    body: strategyParamsBody,
    responses: [
      { status: 200, description: 'The saved parameters', example: SAVED_EXAMPLE },
      ...errorResponses(400, 401),
      NOT_FOUND,
      ...errorResponses(413, 422),
      STORE_501,
      ...errorResponses(503),
    ],
    handler: async (c, { engine, params, body, user }) => {
      const strategy = strategyNamed(params.name);
      const row = await withStoreFeature('Saved strategy parameters', () =>
        saveStrategyParams(engine, { ownerId: callerId(user), strategy: strategy.name, params: body.params }),
      );
      return jsonAnswer(c, { strategy: row.strategy, params: row.params, saved: true, updatedAt: row.updatedAt });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/strategies/:name/signals',
    operationId: 'getStrategySignals',
    tag: 'Strategies',
    summary: 'The strategy’s signals on each bar of each symbol (heatmap data)',
    description:
      'Evaluates the strategy over the daily bars from `from` to `to` without trading: one row per symbol, one cell ' +
      `per bar (\`buy\`, \`sell\` or null). At most ${MAX_SIGNAL_DAYS} days (else 422 \`RANGE_TOO_LARGE\`). Uses ` +
      'the caller’s saved parameters unless `params` is given.',
    policy: 'user',
    rateLimit: 'market',
    params: strategyNameParams,
    query: signalsQuery,
    responses: [
      { status: 200, description: 'The signals', example: SIGNALS_EXAMPLE },
      ...errorResponses(401),
      NOT_FOUND,
      ...errorResponses(422, 429),
      STORE_501,
      ...errorResponses(503),
    ],
    handler: async (c, { engine, params, query, user }) => {
      const strategy = strategyNamed(params.name);
      checkRange(query.from, query.to);
      const p = await paramsFor(engine, callerId(user), strategy.name, query.params);
      const result = await getSignals(engine, strategy.name, {
        symbols: query.symbols,
        from: query.from,
        to: query.to,
        ...(p === undefined ? {} : { params: p }),
      });
      return jsonAnswer(c, result);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/strategies/:name/signals/latest',
    operationId: 'getLatestStrategySignals',
    tag: 'Strategies',
    summary: 'The strategy’s decision on the latest bar of each symbol',
    description:
      'Evaluates the strategy over the last `lookbackDays` calendar days up to today (enough history for its ' +
      'indicators) and answers, per symbol, the signal on its latest bar (`day`, `signal`, `strength`) and the ' +
      'most recent non-null signal in the window (`lastSignal`, null when none).',
    policy: 'user',
    rateLimit: 'market',
    params: strategyNameParams,
    query: latestSignalsQuery,
    responses: [
      { status: 200, description: 'The latest signals', example: LATEST_EXAMPLE },
      ...errorResponses(401),
      NOT_FOUND,
      ...errorResponses(422, 429),
      STORE_501,
      ...errorResponses(503),
    ],
    handler: async (c, { engine, params, query, user }) => {
      const strategy = strategyNamed(params.name);
      const now = engine.clock.now();
      const to = dayOf(now);
      const from = dayOf(now - ((query.lookbackDays ?? DEFAULT_SIGNAL_LOOKBACK_DAYS) - 1) * DAY_MS);
      const p = await paramsFor(engine, callerId(user), strategy.name, query.params);
      const result = await getSignals(engine, strategy.name, {
        symbols: query.symbols,
        from,
        to,
        ...(p === undefined ? {} : { params: p }),
      });
      const items = result.rows.map(({ symbol, cells }) => {
        const last: SignalCell | undefined = cells.at(-1);
        const lastSignal = [...cells].reverse().find((cell) => cell.signal !== null) ?? null;
        return {
          symbol,
          day: last?.day ?? null,
          signal: last?.signal ?? null,
          strength: last?.strength ?? null,
          lastSignal,
        };
      });
      return jsonAnswer(c, { strategy: result.strategy, params: result.params, from, to, items });
    },
  }),
];
