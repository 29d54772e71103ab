/**
 * Watchlist routes: the symbols a portfolio follows. Adding a symbol already listed, or removing
 * one that is not, changes nothing and is not an error; every answer is the whole watchlist.
 */
import { type AnyRouteSpec, defineRoute } from '../route-table.js';
import { EXAMPLES, errorResponses, portfolioParams, watchlistBody, watchlistSymbolParams } from '../schemas.js';
import { requireKnownPrice } from './prices.js';

/** The watchlist routes. */
export const watchlistRoutes: AnyRouteSpec[] = [
  defineRoute({
    method: 'get',
    path: '/portfolios/:id/watchlist',
    operationId: 'getWatchlist',
    tag: 'Watchlist',
    summary: "A portfolio's watchlist",
    policy: 'user',
    owned: true,
    params: portfolioParams,
    responses: [
      { status: 200, description: 'The watchlist', example: EXAMPLES.watchlist },
      ...errorResponses(401, 404),
    ],
    handler: async (c, { engine, params }) => c.json({ items: await engine.getWatchlist(params.id) }),
  }),
  defineRoute({
    method: 'post',
    path: '/portfolios/:id/watchlist',
    operationId: 'addToWatchlist',
    tag: 'Watchlist',
    summary: 'Add a symbol to the watchlist',
    description:
      'The symbol must have a price (one the market-data provider knows, or one recorded before): an unknown ' +
      'symbol is `UNKNOWN_SYMBOL`. Adding a symbol already listed changes nothing. Answers the whole watchlist.',
    policy: 'user',
    owned: true,
    params: portfolioParams,
    body: watchlistBody,
    responses: [
      { status: 200, description: 'The watchlist with the symbol', example: EXAMPLES.watchlist },
      ...errorResponses(400, 401, 404, 413, 422, 503),
    ],
    handler: async (c, { engine, params, body }) => {
      await requireKnownPrice(engine, body.symbol);
      return c.json({ items: await engine.addToWatchlist(params.id, body.symbol) });
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/portfolios/:id/watchlist/:symbol',
    operationId: 'removeFromWatchlist',
    tag: 'Watchlist',
    summary: 'Remove a symbol from the watchlist',
    description: 'Removing a symbol that is not listed changes nothing. Answers the whole watchlist.',
    policy: 'user',
    owned: true,
    params: watchlistSymbolParams,
    responses: [
      { status: 200, description: 'The watchlist without the symbol', example: EXAMPLES.watchlist },
      ...errorResponses(401, 404, 422),
    ],
    handler: async (c, { engine, params }) =>
      c.json({ items: await engine.removeFromWatchlist(params.id, params.symbol) }),
  }),
];
