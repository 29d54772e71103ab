/**
 * Price routes (market data, rate-limited as `market`): one symbol's latest price, several at
 * once, a symbol's daily bars, and the provider's health.
 *
 * Order matters: `/prices/status` is declared before `/prices/:symbol`, so "status" is never read
 * as a symbol.
 */
import { FoliokitError, type KnownPrice, type PortfolioEngine } from '@foliokit/core';
import { type AnyRouteSpec, defineRoute } from '../route-table.js';
import {
  EXAMPLES,
  errorResponses,
  MAX_PRICE_SYMBOLS,
  priceHistoryQuery,
  priceSymbolParams,
  pricesQuery,
  priceView,
} from '../schemas.js';

/**
 * The latest price of a symbol (fresh, or the last known one flagged `stale`).
 * @throws `UNKNOWN_SYMBOL` when no price is known and the provider answers (it does not know the
 *   symbol); `PRICE_UNAVAILABLE` when no price is known and the provider cannot answer.
 */
export async function requireKnownPrice(engine: PortfolioEngine, symbol: string): Promise<KnownPrice> {
  const known = (await engine.latestPrices([symbol])).get(symbol);
  if (known) return known;
  if (!engine.getProviderStatus().healthy) {
    throw new FoliokitError('PRICE_UNAVAILABLE', `No price for ${symbol}: the market-data provider is unavailable`, {
      field: 'symbol',
      symbol,
    });
  }
  throw new FoliokitError('UNKNOWN_SYMBOL', `No price is known for ${symbol}`, { field: 'symbol', symbol });
}

/**
 * The provider's health as users may see it: no error message (a provider's message may carry a
 * URL or an account detail) and no per-source details; admins get the full status.
 */
function publicProviderStatus(engine: PortfolioEngine) {
  const { name, healthy, lastSuccessAt, lastError, calls, errors, consecutiveErrors } = engine.getProviderStatus();
  return {
    name,
    healthy,
    lastSuccessAt,
    lastError: lastError ? { code: lastError.code, at: lastError.at } : null,
    calls,
    errors,
    consecutiveErrors,
  };
}

/** The price routes. */
export const priceRoutes: AnyRouteSpec[] = [
  defineRoute({
    method: 'get',
    path: '/prices/status',
    operationId: 'getPriceStatus',
    tag: 'Prices',
    summary: "The market-data provider's health",
    policy: 'user',
    rateLimit: 'market',
    responses: [
      { status: 200, description: "The provider's health", example: EXAMPLES.providerStatus },
      ...errorResponses(401, 429),
    ],
    handler: (c, { engine }) => c.json(publicProviderStatus(engine)),
  }),
  defineRoute({
    method: 'get',
    path: '/prices',
    operationId: 'listPrices',
    tag: 'Prices',
    summary: 'Latest prices of several symbols',
    description:
      `\`symbols\` is a comma-separated list of 1 to ${MAX_PRICE_SYMBOLS} symbols. Symbols with no price at all ` +
      'are listed in `missing`; a price the provider could not refresh is the last known one, flagged `stale`.',
    policy: 'user',
    rateLimit: 'market',
    query: pricesQuery,
    responses: [
      {
        status: 200,
        description: 'The prices found, in the order asked, and the symbols without one',
        example: { items: [EXAMPLES.price], missing: ['ZZZZ'] },
      },
      ...errorResponses(401, 422, 429),
    ],
    handler: async (c, { engine, query }) => {
      const found = await engine.latestPrices(query.symbols);
      const items = [];
      const missing: string[] = [];
      for (const symbol of query.symbols) {
        const known = found.get(symbol);
        if (known) items.push(priceView(symbol, known));
        else missing.push(symbol);
      }
      return c.json({ items, missing });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/prices/:symbol/history',
    operationId: 'getPriceHistory',
    tag: 'Prices',
    summary: "A symbol's daily bars",
    description:
      '`from` and `to` are days (`YYYY-MM-DD`, both inclusive, `to` not after today). From the provider, or ' +
      'from the stored history (`source: "store"`) when the provider cannot answer.',
    policy: 'user',
    rateLimit: 'market',
    params: priceSymbolParams,
    query: priceHistoryQuery,
    responses: [
      {
        status: 200,
        description: 'The bars, oldest first',
        example: { symbol: 'AAPL', source: 'simulated', bars: [EXAMPLES.bar] },
      },
      ...errorResponses(401, 404, 422, 429, 503),
    ],
    handler: async (c, { engine, params, query }) => c.json(await engine.getPriceHistory(params.symbol, query)),
  }),
  defineRoute({
    method: 'get',
    path: '/prices/:symbol',
    operationId: 'getPrice',
    tag: 'Prices',
    summary: "A symbol's latest price",
    description:
      'The current price, or the last known one flagged `stale` when the provider cannot answer. A symbol ' +
      'with no price at all is `UNKNOWN_SYMBOL` (or `PRICE_UNAVAILABLE` while the provider is down).',
    policy: 'user',
    rateLimit: 'market',
    params: priceSymbolParams,
    responses: [
      { status: 200, description: 'The latest price', example: EXAMPLES.price },
      ...errorResponses(401, 404, 422, 429, 503),
    ],
    handler: async (c, { engine, params }) =>
      c.json(priceView(params.symbol, await requireKnownPrice(engine, params.symbol))),
  }),
];
