/**
 * The zod schemas the REST route specs share — path parameters, query strings and JSON bodies —
 * and the example answers the OpenAPI document shows.
 *
 * Rules kept here once:
 * - Bodies reuse the engine's own input schemas (strict: unknown fields are rejected), narrowed to
 *   what JSON can carry (instants are strings, never `Date`s) and without the fields the HTTP layer
 *   owns: `ownerId` (the caller) and `idempotencyKey` (the `Idempotency-Key` header).
 * - Query values are strings. Numbers are parsed from digits only (`"1e3"`, `"Infinity"`, `"-1"`
 *   are refused), lists from comma-separated values. Money never passes through a query number:
 *   amounts stay strings (or JSON numbers) until the engine's exact decimal parser reads them.
 * - Every schema converts to JSON Schema with `z.toJSONSchema(schema, { io: 'input' })`.
 */
import {
  cashSchema,
  createPortfolioSchema,
  FoliokitError,
  HISTORY_INTERVALS,
  isFoliokitError,
  type KnownPrice,
  normalizeSymbol,
  SNAPSHOT_KINDS,
  TRANSACTION_KINDS,
  type Transaction,
  tradeSchema,
  updatePortfolioSchema,
} from '@foliokit/core';
import { z } from 'zod';
import { HttpError } from './problem.js';
import type { AuthUser, RouteResponse } from './route-table.js';

// ----- limits ------------------------------------------------------------------------------------

/** Page-size caps of the list routes (the engine's own caps are higher or equal). */
export const PAGE_LIMITS = {
  portfolios: { max: 100 },
  transactions: { max: 500 },
  history: { max: 10_000 },
} as const;

/** Most symbols one `GET /prices?symbols=` may ask for. */
export const MAX_PRICE_SYMBOLS = 100;

const EXAMPLE_PORTFOLIO_ID = 'pf_01JH2M3K4N5P6Q7R8S9T0V1W2X';
const EXAMPLE_TRANSACTION_ID = 'tx_01JH2M9Z8Y7X6W5V4T3S2R1Q0P';

// ----- building blocks ---------------------------------------------------------------------------

/** An id in the path: 1 to 100 characters (the engine checks the rest of its rule). */
export const idParam = z.string().min(1).max(100);

/**
 * A ticker symbol, normalised by core's one rule (`' aapl '` → `'AAPL'`); a malformed symbol is a
 * validation issue on the field that carries it.
 */
export const symbolInput = z
  .string()
  .max(64)
  .transform((text, ctx) => {
    try {
      return normalizeSymbol(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : 'invalid symbol' });
      return z.NEVER;
    }
  });

/** An instant or a day as JSON or a query carries it (the engine parses and checks it). */
const instantText = z.string().min(1).max(40);

/** A calendar day `YYYY-MM-DD` (the engine checks it is a real day). */
export const dayQuery = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a day YYYY-MM-DD');

/**
 * A page size in a query string: digits only, 1 to `max`. Never `z.coerce.number`: `"1e3"`,
 * `"Infinity"`, `"0x10"` and `" 5"` are refused, not read as numbers.
 */
export function limitQuery(max: number) {
  return z
    .string()
    .regex(/^[1-9]\d{0,5}$/, `must be a whole number from 1 to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .meta({ description: `Page size, 1 to ${max}` });
}

/** An opaque cursor from a previous page (`nextCursor`); the engine checks it. */
export const cursorQuery = z.string().min(1).max(500).meta({ description: 'The `nextCursor` of the previous page' });

/**
 * A comma-separated list in a query string (`"a,b"`): entries trimmed and empty ones dropped, each
 * entry checked (and normalised) by `item`, 1 to `max` entries, then duplicates removed.
 */
export function commaList<T extends z.ZodType<string, string>>(item: T, max: number) {
  return z
    .string()
    .max(4000)
    .transform((text) =>
      text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    )
    .pipe(z.array(item).min(1).max(max))
    .transform((items) => [...new Set(items)]);
}

// ----- params ------------------------------------------------------------------------------------

const portfolioId = idParam.meta({ description: 'Portfolio id', examples: [EXAMPLE_PORTFOLIO_ID] });
const symbolParam = symbolInput.meta({ description: 'Ticker symbol (case-insensitive)', examples: ['AAPL'] });

/** `/portfolios/:id...` */
export const portfolioParams = z.strictObject({ id: portfolioId });
/** `/portfolios/:id/transactions/:transactionId/...` */
export const transactionParams = z.strictObject({
  id: portfolioId,
  transactionId: idParam.meta({ description: 'Ledger entry id', examples: [EXAMPLE_TRANSACTION_ID] }),
});
/** `/portfolios/:id/watchlist/:symbol` */
export const watchlistSymbolParams = z.strictObject({ id: portfolioId, symbol: symbolParam });
/** `/prices/:symbol...` */
export const priceSymbolParams = z.strictObject({ symbol: symbolParam });

// ----- queries -----------------------------------------------------------------------------------

/** `GET /portfolios` */
export const listPortfoliosQuery = z.strictObject({
  limit: limitQuery(PAGE_LIMITS.portfolios.max).optional(),
  cursor: cursorQuery.optional(),
});

/** `GET /portfolios/:id/transactions` */
export const listTransactionsQuery = z.strictObject({
  limit: limitQuery(PAGE_LIMITS.transactions.max).optional(),
  cursor: cursorQuery.optional(),
  kinds: commaList(z.enum(TRANSACTION_KINDS), TRANSACTION_KINDS.length)
    .meta({ description: `Only these kinds, comma-separated: ${TRANSACTION_KINDS.join(', ')}`, examples: ['buy,sell'] })
    .optional(),
});

/** `GET /portfolios/:id/history` (`engine.getHistory`'s input, as strings). */
export const historyQuery = z.strictObject({
  from: instantText
    .meta({ description: 'First instant, or a day (its start); inclusive', examples: ['2026-01-01'] })
    .optional(),
  to: instantText
    .meta({ description: 'Last instant, or a day (its end); inclusive. Default: now', examples: ['2026-01-31'] })
    .optional(),
  interval: z
    .enum(HISTORY_INTERVALS)
    .meta({ description: '`raw` (default): every snapshot; `1h` / `1d`: the last of each UTC hour / day' })
    .optional(),
  kinds: commaList(z.enum(SNAPSHOT_KINDS), SNAPSHOT_KINDS.length)
    .meta({
      description: `Only these snapshot kinds, comma-separated: ${SNAPSHOT_KINDS.join(', ')}`,
      examples: ['daily'],
    })
    .optional(),
  limit: limitQuery(PAGE_LIMITS.history.max).optional(),
});

/** `GET /prices?symbols=AAPL,MSFT` */
export const pricesQuery = z.strictObject({
  symbols: commaList(symbolInput, MAX_PRICE_SYMBOLS).meta({
    description: `1 to ${MAX_PRICE_SYMBOLS} symbols, comma-separated`,
    examples: ['AAPL,MSFT'],
  }),
});

/** `GET /prices/:symbol/history?from&to` */
export const priceHistoryQuery = z.strictObject({
  from: dayQuery.meta({ description: 'First day, inclusive', examples: ['2025-12-01'] }),
  to: dayQuery.meta({ description: 'Last day, inclusive; not after today (UTC)', examples: ['2025-12-31'] }),
});

// ----- bodies ------------------------------------------------------------------------------------
// Each body carries one example (`.meta({ examples })`), shown in the OpenAPI document; a test
// checks every body has one and that the route accepts it.

/** `POST /portfolios`: the engine's input without `ownerId` (the caller owns what it creates). */
export const createPortfolioBody = createPortfolioSchema
  .omit({ ownerId: true })
  .extend({ initialCashAt: instantText.optional() })
  .meta({
    examples: [
      {
        name: 'Retirement',
        description: 'Long-term index and dividend stocks',
        baseCurrency: 'USD',
        costBasisMethod: 'average',
        initialCash: '10000',
      },
    ],
  });

/** `PATCH /portfolios/:id` */
export const updatePortfolioBody = updatePortfolioSchema.meta({
  examples: [{ name: 'Retirement (IRA)', description: null }],
});

/** `POST /portfolios/:id/trades`: the engine's input; the idempotency key travels in the header only. */
export const tradeBody = tradeSchema
  .omit({ idempotencyKey: true })
  .extend({ at: instantText.optional() })
  .meta({ examples: [{ symbol: 'AAPL', side: 'buy', quantity: '10', price: '150.25', fee: '1' }] });

/** `POST /portfolios/:id/cash`: a deposit or a withdrawal; the idempotency key travels in the header only. */
export const cashBody = cashSchema
  .omit({ idempotencyKey: true })
  .extend({ kind: z.enum(['deposit', 'withdrawal']), at: instantText.optional() })
  .meta({ examples: [{ kind: 'deposit', amount: '2500' }] });

/** `POST /portfolios/:id/watchlist` */
export const watchlistBody = z.strictObject({ symbol: symbolInput }).meta({ examples: [{ symbol: 'MSFT' }] });

/** `POST /portfolios/:id/transactions/:transactionId/void`: no body, or `{}` (the key is the header). */
export const voidBody = z
  .strictObject({})
  .optional()
  .meta({ examples: [{}] });

// ----- answers -----------------------------------------------------------------------------------

/** A price as the API shows it. */
export interface PriceView {
  symbol: string;
  price: string;
  at: string;
  source: string;
  /** True when it is the last known price because the provider could not answer. */
  stale: boolean;
}

/** A price-book entry as the API shows it (the price as its canonical decimal string). */
export function priceView(symbol: string, known: KnownPrice): PriceView {
  return { symbol, price: known.text, at: known.at, source: known.source, stale: known.stale };
}

/**
 * The caller of a `user` route. The router answers 401 before a handler runs without one; this
 * guard keeps a mis-declared route from ever acting for nobody.
 */
export function callerId(user: AuthUser | null): string {
  if (!user) throw new Error('A user route ran without a caller: declare it with policy "user"');
  return user.userId;
}

/** The one answer for a missing portfolio and for another user's: same code, message and details. */
export function portfolioNotFound(id: string): FoliokitError {
  return new FoliokitError('PORTFOLIO_NOT_FOUND', `No portfolio with id ${id}`, {
    field: 'portfolioId',
    portfolioId: id,
  });
}

/**
 * Runs `work`, turning core's refusal of a store that lacks a feature's methods
 * (`INVALID_CONFIGURATION` on `store`) into 501 `NOT_IMPLEMENTED`: the server runs, this feature
 * does not exist on it.
 */
export async function withStoreFeature<T>(feature: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isFoliokitError(error) && error.code === 'INVALID_CONFIGURATION' && error.details.field === 'store') {
      throw new HttpError(
        'NOT_IMPLEMENTED',
        `${feature} are not available on this server: its store does not keep them`,
      );
    }
    throw error;
  }
}

/** The URL of a resource created under the request's own path (works wherever the router is mounted). */
export function locationOf(requestPath: string, id: string): string {
  return `${requestPath.replace(/\/+$/, '')}/${encodeURIComponent(id)}`;
}

/** What each error status means on these routes (bodies are `application/problem+json`). */
const ERROR_MEANINGS: Record<number, string> = {
  400: 'Malformed JSON',
  401: 'No or invalid credentials',
  404: "No such portfolio, or not one of the caller's (the same answer either way)",
  409: 'The ledger refuses the change (INSUFFICIENT_CASH, INSUFFICIENT_QUANTITY)',
  413: 'Body too large',
  422: 'Invalid input (VALIDATION_FAILED naming the fields, RANGE_TOO_LARGE, IDEMPOTENCY_CONFLICT)',
  429: 'Rate limited (see Retry-After)',
  501: 'NOT_IMPLEMENTED: the store of this server does not keep this feature',
  503: 'Market data or store unavailable',
};

/** Documented error answers, by status, in the problem+json shape. */
export function errorResponses(...statuses: number[]): RouteResponse[] {
  return statuses.map((status) => ({
    status,
    description: ERROR_MEANINGS[status] ?? 'Error',
    contentType: 'application/problem+json',
  }));
}

/**
 * A ledger entry's fields, in the order every answer writes them. A store's row and a freshly
 * planned entry list their fields in different orders; answering in one order makes a replay's
 * body byte-identical to the first answer's. The type makes the list complete.
 */
const TRANSACTION_FIELD_ORDER: Record<keyof Transaction, true> = {
  id: true,
  portfolioId: true,
  kind: true,
  symbol: true,
  quantity: true,
  price: true,
  fee: true,
  amount: true,
  realizedPnl: true,
  cashAfter: true,
  quantityAfter: true,
  idempotencyKey: true,
  executedAt: true,
  createdAt: true,
  voidedAt: true,
  voidKey: true,
};
const TRANSACTION_FIELDS = Object.keys(TRANSACTION_FIELD_ORDER) as Array<keyof Transaction>;

/** A ledger entry as the API shows it: its fields in one fixed order. */
export function transactionView(tx: Transaction): Transaction {
  const out: Record<string, unknown> = {};
  for (const field of TRANSACTION_FIELDS) out[field] = tx[field];
  return out as unknown as Transaction;
}

// ----- examples (OpenAPI) ------------------------------------------------------------------------

/** Example answers for the OpenAPI document: realistic, every amount a decimal string. */
export const EXAMPLES = {
  portfolio: {
    id: EXAMPLE_PORTFOLIO_ID,
    ownerId: 'user_42',
    name: 'Retirement',
    description: 'Long-term index and dividend stocks',
    baseCurrency: 'USD',
    costBasisMethod: 'average',
    cash: '8496.75',
    netDeposits: '10000',
    realizedPnl: '0',
    ledgerAt: '2026-01-05T14:30:00.000Z',
    createdAt: '2026-01-05T14:00:00.000Z',
    updatedAt: '2026-01-05T14:30:00.000Z',
  },
  trade: {
    id: EXAMPLE_TRANSACTION_ID,
    portfolioId: EXAMPLE_PORTFOLIO_ID,
    kind: 'buy',
    symbol: 'AAPL',
    quantity: '10',
    price: '150.25',
    fee: '1',
    amount: '-1503.5',
    realizedPnl: null,
    cashAfter: '8496.5',
    quantityAfter: '10',
    idempotencyKey: 'order-2026-01-05-0001',
    executedAt: '2026-01-05T14:30:00.000Z',
    createdAt: '2026-01-05T14:30:00.000Z',
    voidedAt: null,
    voidKey: null,
  },
  deposit: {
    id: 'tx_01JH2M4A5B6C7D8E9F0G1H2J3K',
    portfolioId: EXAMPLE_PORTFOLIO_ID,
    kind: 'deposit',
    symbol: null,
    quantity: null,
    price: null,
    fee: '0',
    amount: '2500',
    realizedPnl: null,
    cashAfter: '10996.5',
    quantityAfter: null,
    idempotencyKey: 'payroll-2026-01',
    executedAt: '2026-01-05T15:00:00.000Z',
    createdAt: '2026-01-05T15:00:00.000Z',
    voidedAt: null,
    voidKey: null,
  },
  position: {
    symbol: 'AAPL',
    quantity: '10',
    costBasis: '1503.5',
    averageCost: '150.35',
    realizedPnl: '0',
    openedAt: '2026-01-05T14:30:00.000Z',
  },
  valuation: {
    portfolioId: EXAMPLE_PORTFOLIO_ID,
    baseCurrency: 'USD',
    at: '2026-01-06T16:00:00.000Z',
    cash: '8496.5',
    positions: [
      {
        symbol: 'AAPL',
        quantity: '10',
        costBasis: '1503.5',
        averageCost: '150.35',
        realizedPnl: '0',
        openedAt: '2026-01-05T14:30:00.000Z',
        price: '155.1',
        priceAt: '2026-01-06T15:59:58.000Z',
        priceSource: 'simulated',
        stale: false,
        marketValue: '1551',
        unrealizedPnl: '47.5',
        unrealizedPnlPercent: '3.1593',
        weight: '0.154327',
      },
    ],
    totals: {
      marketValue: '1551',
      totalValue: '10047.5',
      costBasis: '1503.5',
      unrealizedPnl: '47.5',
      realizedPnl: '0',
    },
    unpriced: [],
    stale: [],
  },
  snapshot: {
    portfolioId: EXAMPLE_PORTFOLIO_ID,
    at: '2026-01-06T23:59:59.999Z',
    day: '2026-01-06',
    kind: 'daily',
    cash: '8496.5',
    marketValue: '1551',
    totalValue: '10047.5',
    costBasis: '1503.5',
    unrealizedPnl: '47.5',
    realizedPnl: '0',
    flags: [],
  },
  watchlist: {
    items: [
      { symbol: 'MSFT', addedAt: '2026-01-05T14:05:00.000Z' },
      { symbol: 'NVDA', addedAt: '2026-01-05T14:06:00.000Z' },
    ],
  },
  price: {
    symbol: 'AAPL',
    price: '155.1',
    at: '2026-01-06T15:59:58.000Z',
    source: 'simulated',
    stale: false,
  } satisfies PriceView,
  bar: { day: '2026-01-05', open: '149.8', high: '151.2', low: '148.9', close: '150.25', volume: '48213000' },
  providerStatus: {
    name: 'simulated',
    healthy: true,
    lastSuccessAt: '2026-01-06T15:59:58.000Z',
    lastError: null,
    calls: 1280,
    errors: 2,
    consecutiveErrors: 0,
  },
} as const;
