/**
 * Analytics routes (issue #12): performance, risk, targets and drift, rebalancing of an `owned`
 * portfolio, and optimised weights over symbols (`POST /analytics/optimize`, no portfolio).
 *
 * The engine validates every input itself (ranges, periods, symbols) and names the field at fault;
 * these schemas only read the HTTP shapes: query values are strings, and a number is read from a
 * plain decimal written with digits (`"0.95"`, `"365"`), never with `z.coerce` (`"1e3"`,
 * `"Infinity"`, `" 5"` and `"0x10"` are refused). Statistics (returns, weights of the optimiser,
 * volatility) are JSON numbers; every amount, price and quantity is a decimal string.
 *
 * The rebalance's `Idempotency-Key` header is the engine's `idempotencyKey` of the whole rebalance
 * (each order trades under a key derived from it), so a retried rebalance replays its orders rather
 * than doubling them; the answer says so with `replayed: true` and `Idempotent-Replayed: true`.
 */
import { OPTIMIZE_OBJECTIVES, PERFORMANCE_INTERVALS, PERFORMANCE_PERIODS, type RiskInput } from '@foliokit/core';
import { z } from 'zod';
import { type AnyRouteSpec, defineRoute } from '../route-table.js';
import { dayQuery, errorResponses, portfolioParams } from '../schemas.js';
import { jsonAnswer } from '../security.js';
import { REPLAYED_HEADER } from './trading.js';

// ----- query numbers -----------------------------------------------------------------------------

/**
 * A fraction in a query string (`"0.95"`, `"-0.01"`): an optional minus, at most two integer digits
 * and up to 12 decimals, read as a JS number (a statistic, never money). The engine checks its range.
 */
function fractionQuery(description: string, example: string) {
  return z
    .string()
    .regex(/^-?\d{1,2}(\.\d{1,12})?$/, 'must be a decimal number such as 0.95')
    .transform(Number)
    .meta({ description, examples: [example] });
}

/** A whole number in a query string: digits only, at most 7 (the engine checks its range). */
function wholeQuery(description: string, example: string) {
  return z
    .string()
    .regex(/^(0|[1-9]\d{0,6})$/, 'must be a whole number written with digits')
    .transform(Number)
    .meta({ description, examples: [example] });
}

/** The risk methods `getRisk` offers (its `RiskInput['method']`). */
const RISK_METHODS = ['historical', 'parametric', 'monte-carlo', 'all'] as const satisfies readonly NonNullable<
  RiskInput['method']
>[];

/** An amount or fraction in a JSON body: a decimal string or an exact JSON number (the engine parses it). */
const decimalBody = z.union([z.string().max(64), z.number()]);

// ----- schemas -----------------------------------------------------------------------------------

/** `GET /portfolios/:id/performance` (`engine.getPerformance`'s input, as strings). */
export const performanceQuery = z.strictObject({
  period: z
    .enum(PERFORMANCE_PERIODS)
    .meta({ description: 'A named period ending at `to` (default `max`); not with `from`', examples: ['ytd'] })
    .optional(),
  from: dayQuery.meta({ description: 'First day, inclusive (a custom period)', examples: ['2025-01-01'] }).optional(),
  to: dayQuery.meta({ description: 'Last day, inclusive; not after today (UTC). Default: today' }).optional(),
  benchmark: z
    .string()
    .min(1)
    .max(64)
    .meta({ description: 'A symbol to compare with (beta, alpha, tracking error)', examples: ['SPY'] })
    .optional(),
  riskFreeRate: fractionQuery(
    'Annual risk-free rate as a fraction (0.03 = 3 %), -1 to 10. Default 0',
    '0.03',
  ).optional(),
  interval: z
    .enum(PERFORMANCE_INTERVALS)
    .meta({ description: 'Spacing of the chart series (default `1d`)' })
    .optional(),
});

/** `GET /portfolios/:id/risk` (`engine.getRisk`'s input, as strings). */
export const riskQuery = z.strictObject({
  confidence: fractionQuery('Confidence level, 0.5 to 0.9999. Default 0.95', '0.99').optional(),
  horizonDays: wholeQuery(
    'Horizon in trading days, 1 to 250 (square-root-of-time scaling). Default 1',
    '10',
  ).optional(),
  lookbackDays: wholeQuery('Calendar days of history, 30 to 3650. Default 365', '365').optional(),
  method: z
    .enum(RISK_METHODS)
    .meta({ description: 'Which estimate(s) to compute (default `all`)', examples: ['historical'] })
    .optional(),
  paths: wholeQuery('Monte Carlo paths, 100 to 200000. Default 10000', '10000').optional(),
  seed: wholeQuery('Monte Carlo seed (same seed, same answer)', '42').optional(),
});

/** `PUT /portfolios/:id/targets` */
export const targetsBody = z
  .strictObject({
    targets: z
      .array(
        z.strictObject({
          symbol: z.string().max(64),
          weight: decimalBody
            .meta({ description: 'A fraction of total value (`"0.6"`); left out: an equal share of the rest' })
            .optional(),
        }),
      )
      .meta({ description: 'The whole model (replaces the previous one); `[]` clears it' }),
  })
  .meta({
    examples: [
      {
        targets: [
          { symbol: 'VTI', weight: '0.6' },
          { symbol: 'BND', weight: '0.3' },
        ],
      },
    ],
  });

/** `POST /portfolios/:id/rebalance` */
export const rebalanceBody = z
  .strictObject({
    dryRun: z.boolean().meta({ description: 'Only plan: answer the orders without trading' }).optional(),
    threshold: decimalBody
      .meta({ description: 'Leave a symbol alone while its drift is at most this fraction of total value' })
      .optional(),
    cashBuffer: decimalBody.meta({ description: 'An amount of cash kept back' }).optional(),
    minTrade: decimalBody.meta({ description: 'Skip orders worth less than this amount' }).optional(),
    fractional: z.boolean().meta({ description: 'Fractional quantities (default true)' }).optional(),
  })
  .optional()
  .meta({ examples: [{ dryRun: true, threshold: '0.02', cashBuffer: '100', minTrade: '50', fractional: false }] });

/** `POST /analytics/optimize` */
export const optimizeBody = z
  .strictObject({
    symbols: z.array(z.string().max(64)).meta({ description: '2 to 100 symbols' }),
    objective: z.enum(OPTIMIZE_OBJECTIVES),
    lookbackDays: z.number().meta({ description: 'Calendar days of price history, 7 to 3660. Default 365' }).optional(),
    riskFreeRate: z
      .number()
      .meta({ description: 'Annual risk-free rate as a fraction, -1 to 1. Default 0' })
      .optional(),
    maxWeight: z.number().meta({ description: 'The largest weight of one symbol, in (0, 1]. Default 1' }).optional(),
  })
  .meta({
    examples: [{ symbols: ['VTI', 'BND', 'GLD'], objective: 'min-variance', lookbackDays: 365, maxWeight: 0.6 }],
  });

// ----- examples ----------------------------------------------------------------------------------

const PF = 'pf_01JH2M3K4N5P6Q7R8S9T0V1W2X';

const TARGETS_EXAMPLE = [
  { symbol: 'BND', weight: '0.3', givenWeight: '0.3' },
  { symbol: 'GLD', weight: '0.1', givenWeight: null },
  { symbol: 'VTI', weight: '0.6', givenWeight: '0.6' },
];

const PLAN_EXAMPLE = {
  portfolioId: PF,
  at: '2026-01-05T10:00:00.000Z',
  planId: 'plan_3f9a1c2b7d4e',
  method: 'target-weights-on-investable-value',
  orders: [
    { symbol: 'BND', side: 'sell', quantity: '4', price: '72.5', value: '290' },
    { symbol: 'VTI', side: 'buy', quantity: '1', price: '280', value: '280' },
  ],
  totalValue: '10000',
  investable: '9900',
  cashBefore: '150',
  cashAfter: '160',
  skipped: [{ symbol: 'GLD', reason: 'threshold' }],
  stale: [],
};

const PERFORMANCE_EXAMPLE = {
  portfolioId: PF,
  period: 'ytd',
  from: '2026-01-01',
  to: '2026-01-05',
  days: 3,
  notes: [
    'Returns are time-weighted (TTWROR) over end-of-day values; inflows count at the start of the day, outflows at the end.',
  ],
  twr: { cumulative: 0.0123, annualized: 4.3612, method: 'ttwror' },
  mwr: {
    xirr: 4.2581,
    method: 'xirr',
    modifiedDietz: { cumulative: 0.0121, method: 'modified-dietz' },
  },
  simpleReturn: { value: 0.0121, method: 'simple' },
  gain: { realized: '25.5', unrealized: '96.3', fees: '1', total: '120.8' },
  drawdown: { max: -0.004, peak: '2026-01-02', trough: '2026-01-03', recovery: '2026-01-05', method: 'twr-index' },
  volatility: { daily: 0.0061, annualized: 0.0968 },
  sharpe: { value: 5.91 },
  sortino: { value: 12.4 },
  calmar: { value: 1090.3 },
  bestDay: { day: '2026-01-05', return: 0.0102 },
  worstDay: { day: '2026-01-03', return: -0.004 },
  series: [
    { day: '2026-01-02', value: 10000, twr: 0.0021, drawdown: 0 },
    { day: '2026-01-05', value: 10120.8, twr: 0.0123, drawdown: 0 },
  ],
  positions: [
    {
      symbol: 'VTI',
      realizedPnl: '25.5',
      unrealizedPnl: '96.3',
      holdingPeriodReturn: { value: 0.018 },
      contribution: { value: 0.0095 },
    },
  ],
  gaps: [],
};

const RISK_ESTIMATE = {
  var: '182.4',
  expectedShortfall: '231.7',
  varFraction: 0.0182,
  expectedShortfallFraction: 0.0232,
};

const RISK_EXAMPLE = {
  portfolioId: PF,
  asOf: '2026-01-05T10:00:00.000Z',
  value: '10000',
  cash: '150',
  confidence: 0.95,
  horizonDays: 1,
  lookbackDays: 365,
  returns: 'simple',
  window: { from: '2025-01-06', to: '2026-01-02', observations: 250 },
  symbols: ['BND', 'VTI'],
  historical: { method: 'historical', ...RISK_ESTIMATE, formula: 'VaR = k-th worst of n daily P&L losses' },
  parametric: { method: 'parametric', ...RISK_ESTIMATE, formula: 'VaR = Φ⁻¹(c) · √(vᵀΣv) · √h' },
  monteCarlo: {
    method: 'monte-carlo',
    ...RISK_ESTIMATE,
    formula: 'multivariate normal paths from the Cholesky factor of Σ',
    paths: 10000,
    seed: 42,
    jitter: 0,
  },
  covariance: [
    [0.000012, 0.000002],
    [0.000002, 0.000095],
  ],
  correlation: [
    [1, 0.06],
    [0.06, 1],
  ],
  contributions: [
    { symbol: 'BND', value: '2900', weight: 0.29, marginal: 0.0031, component: '8.9', percent: 0.049 },
    { symbol: 'VTI', value: '6950', weight: 0.695, marginal: 0.0249, component: '173.5', percent: 0.951 },
  ],
  notes: [],
  gaps: [],
};

const DRIFT_EXAMPLE = {
  portfolioId: PF,
  at: '2026-01-05T10:00:00.000Z',
  method: 'weights-on-total-value',
  totalValue: '10000',
  cash: {
    targetWeight: '0',
    currentWeight: '0.015',
    drift: '1.5',
    currentValue: '150',
    targetValue: '0',
    difference: '-150',
  },
  positions: [
    {
      symbol: 'VTI',
      quantity: '24',
      price: '280',
      targetWeight: '0.6',
      currentWeight: '0.672',
      drift: '7.2',
      currentValue: '6720',
      targetValue: '6000',
      difference: '-720',
    },
  ],
  stale: [],
};

const OPTIMIZE_EXAMPLE = {
  objective: 'min-variance',
  weights: [
    { symbol: 'VTI', weight: '0.214300' },
    { symbol: 'BND', weight: '0.600000' },
    { symbol: 'GLD', weight: '0.185700' },
  ],
  expectedReturn: 0.0512,
  volatility: 0.0643,
  sharpe: 0.7963,
  method: 'minimum variance, long-only, weights sum to 1, each at most maxWeight; annualised with 252 days',
  days: 251,
  from: '2025-01-05',
  to: '2026-01-05',
  periodsPerYear: 252,
  gaps: [],
};

const REBALANCE_NOTE =
  'With `dryRun: true`, answers the plan only (no trade). Otherwise trades the plan (sells first) and answers it ' +
  'with the ledger entries of its orders. Send an `Idempotency-Key` header to make a retry safe: each order trades ' +
  'under a key derived from it, so a retry replays the orders already traded (`replayed: true`, ' +
  '`Idempotent-Replayed: true` when every order was a replay) instead of trading them twice.';

// ----- routes ------------------------------------------------------------------------------------

/** The analytics routes. */
export const analyticsRoutes: AnyRouteSpec[] = [
  defineRoute({
    method: 'get',
    path: '/portfolios/:id/performance',
    operationId: 'getPerformance',
    tag: 'Analytics',
    summary: 'Returns, drawdown and risk-adjusted ratios over a period',
    description:
      'Time-weighted (TTWROR) and money-weighted (XIRR, Modified Dietz) returns, the simple return, exact gains ' +
      '(decimal strings), drawdown, volatility, Sharpe, Sortino and Calmar ratios, best and worst day, an optional ' +
      'benchmark, a chart series and per-position figures. Statistics are JSON numbers (fractions: 0.05 = 5 %); a ' +
      'figure that cannot be computed is `null` with a `reason`.',
    policy: 'user',
    owned: true,
    params: portfolioParams,
    query: performanceQuery,
    responses: [
      { status: 200, description: 'The performance report', example: PERFORMANCE_EXAMPLE },
      ...errorResponses(401, 404, 422, 503),
    ],
    handler: async (c, { engine, params, query }) => jsonAnswer(c, await engine.getPerformance(params.id, query)),
  }),
  defineRoute({
    method: 'get',
    path: '/portfolios/:id/risk',
    operationId: 'getRisk',
    tag: 'Analytics',
    summary: 'Value at risk and expected shortfall',
    description:
      'Historical, parametric and Monte Carlo VaR and expected shortfall of the current holdings (amounts as ' +
      'decimal strings, fractions of value as numbers), the covariance and correlation of daily returns, and each ' +
      "position's contribution. An estimate that cannot be computed is `null` with a `reason`.",
    policy: 'user',
    owned: true,
    rateLimit: 'market',
    params: portfolioParams,
    query: riskQuery,
    responses: [
      { status: 200, description: 'The risk report', example: RISK_EXAMPLE },
      ...errorResponses(401, 404, 422, 429, 503),
    ],
    handler: async (c, { engine, params, query }) => jsonAnswer(c, await engine.getRisk(params.id, query)),
  }),
  defineRoute({
    method: 'get',
    path: '/portfolios/:id/drift',
    operationId: 'getDrift',
    tag: 'Analytics',
    summary: 'How far the holdings are from their target weights',
    description:
      'Current and target weights and values per symbol and for cash (decimal strings), against total value. ' +
      'Drift is in percentage points (+ when overweight); difference is target value minus current value. ' +
      'When total value is not positive, weights are null and `reason` says why.',
    policy: 'user',
    owned: true,
    params: portfolioParams,
    responses: [
      { status: 200, description: 'The drift of each target', example: DRIFT_EXAMPLE },
      ...errorResponses(401, 404, 503),
    ],
    handler: async (c, { engine, params }) => jsonAnswer(c, await engine.getDrift(params.id)),
  }),
  defineRoute({
    method: 'get',
    path: '/portfolios/:id/targets',
    operationId: 'getTargets',
    tag: 'Analytics',
    summary: 'The target weights (the model portfolio)',
    policy: 'user',
    owned: true,
    params: portfolioParams,
    responses: [
      { status: 200, description: 'The targets, with their effective weights', example: { items: TARGETS_EXAMPLE } },
      ...errorResponses(401, 404, 503),
    ],
    handler: async (c, { engine, params }) => jsonAnswer(c, { items: await engine.getTargets(params.id) }),
  }),
  defineRoute({
    method: 'put',
    path: '/portfolios/:id/targets',
    operationId: 'setTargets',
    tag: 'Analytics',
    summary: 'Replace the target weights',
    description:
      'Weights are decimal fractions of total value summing to at most 1; a target without a weight gets an ' +
      'equal share of what the others leave; what remains is cash. `[]` clears the model.',
    policy: 'user',
    owned: true,
    params: portfolioParams,
    body: targetsBody,
    responses: [
      { status: 200, description: 'The targets as stored', example: { items: TARGETS_EXAMPLE } },
      ...errorResponses(400, 401, 404, 413, 422, 503),
    ],
    handler: async (c, { engine, params, body }) =>
      jsonAnswer(c, { items: await engine.setTargets(params.id, body.targets) }),
  }),
  defineRoute({
    method: 'post',
    path: '/portfolios/:id/rebalance',
    operationId: 'rebalancePortfolio',
    tag: 'Analytics',
    summary: 'Plan or execute a rebalance to the target weights',
    description: REBALANCE_NOTE,
    policy: 'user',
    owned: true,
    rateLimit: 'trades',
    idempotent: true,
    params: portfolioParams,
    body: rebalanceBody,
    responses: [
      {
        status: 200,
        description: 'The plan (`dryRun`), or the executed plan with its ledger entries',
        example: { ...PLAN_EXAMPLE, transactions: [], replayed: false },
        headers: {
          [REPLAYED_HEADER]: {
            description: '`true` when every order was a replay of an earlier call with the same Idempotency-Key',
            schema: { type: 'string', enum: ['true'] },
          },
        },
      },
      ...errorResponses(400, 401, 404, 409, 413, 422, 429, 503),
    ],
    handler: async (c, { engine, params, body, idempotencyKey }) => {
      const { dryRun, ...options } = body ?? {};
      if (dryRun) return jsonAnswer(c, await engine.planRebalance(params.id, options));
      const key = idempotencyKey === undefined ? {} : { idempotencyKey };
      const result = await engine.rebalance(params.id, { ...options, ...key });
      const replayed = result.replayed && result.transactions.length > 0;
      return jsonAnswer(c, result, 200, replayed ? { [REPLAYED_HEADER]: 'true' } : undefined);
    },
  }),
  defineRoute({
    method: 'post',
    path: '/analytics/optimize',
    operationId: 'optimizeWeights',
    tag: 'Analytics',
    summary: 'Optimised weights over symbols (min-variance or max-Sharpe)',
    description:
      'Long-only weights summing to exactly 1 (decimal strings, 6 places) from daily closes over the lookback, ' +
      'with the expected return, volatility and Sharpe ratio of the rounded weights (numbers). `weights` is ' +
      '`null` with a `reason` when there is not enough history.',
    policy: 'user',
    rateLimit: 'market',
    body: optimizeBody,
    responses: [
      { status: 200, description: 'The weights', example: OPTIMIZE_EXAMPLE },
      ...errorResponses(400, 401, 413, 422, 429, 503),
    ],
    handler: async (c, { engine, body }) => jsonAnswer(c, await engine.optimize(body)),
  }),
];
