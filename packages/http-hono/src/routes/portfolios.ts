/**
 * Portfolio routes: the caller's portfolios (list, create, read, rename, delete), their valuation
 * and their open positions. A portfolio created here is owned by the caller; `:id` routes are
 * `owned`, so another user's portfolio answers 404 exactly like a missing one (the router checks).
 */
import { type AnyRouteSpec, defineRoute } from '../route-table.js';
import {
  callerId,
  createPortfolioBody,
  EXAMPLES,
  errorResponses,
  listPortfoliosQuery,
  locationOf,
  portfolioParams,
  updatePortfolioBody,
} from '../schemas.js';
import { jsonAnswer } from '../security.js';

/** The portfolio routes. */
export const portfolioRoutes: AnyRouteSpec[] = [
  defineRoute({
    method: 'get',
    path: '/portfolios',
    operationId: 'listPortfolios',
    tag: 'Portfolios',
    summary: "List the caller's portfolios",
    description: 'Oldest first, cursor-paginated: pass `nextCursor` back as `cursor` (null on the last page).',
    policy: 'user',
    query: listPortfoliosQuery,
    responses: [
      { status: 200, description: 'A page of portfolios', example: { items: [EXAMPLES.portfolio], nextCursor: null } },
      ...errorResponses(401, 422),
    ],
    handler: async (c, { engine, user, query }) =>
      jsonAnswer(c, await engine.listPortfolios({ ...query, ownerId: callerId(user) })),
  }),
  defineRoute({
    method: 'post',
    path: '/portfolios',
    operationId: 'createPortfolio',
    tag: 'Portfolios',
    summary: 'Create a portfolio owned by the caller',
    description:
      '`initialCash` is recorded as its first deposit. The owner is the caller: an `ownerId` field is refused ' +
      'like any unknown field.',
    policy: 'user',
    body: createPortfolioBody,
    responses: [
      { status: 201, description: 'Created (with a Location header)', example: EXAMPLES.portfolio },
      ...errorResponses(400, 401, 413, 422),
    ],
    handler: async (c, { engine, user, body }) => {
      const portfolio = await engine.createPortfolio({ ...body, ownerId: callerId(user) });
      return jsonAnswer(c, portfolio, 201, { Location: locationOf(c.req.path, portfolio.id) });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/portfolios/:id',
    operationId: 'getPortfolio',
    tag: 'Portfolios',
    summary: 'Get a portfolio',
    policy: 'user',
    owned: true,
    params: portfolioParams,
    responses: [
      { status: 200, description: 'The portfolio', example: EXAMPLES.portfolio },
      ...errorResponses(401, 404),
    ],
    // When the router read it to check ownership, answer that read (it knew the owner otherwise).
    handler: async (c, { engine, params, portfolio }) =>
      jsonAnswer(c, portfolio ?? (await engine.getPortfolio(params.id))),
  }),
  defineRoute({
    method: 'patch',
    path: '/portfolios/:id',
    operationId: 'updatePortfolio',
    tag: 'Portfolios',
    summary: 'Rename or re-describe a portfolio',
    description: '`description: null` clears it. Other fields (cash, owner, currency) cannot be changed here.',
    policy: 'user',
    owned: true,
    params: portfolioParams,
    body: updatePortfolioBody,
    responses: [
      { status: 200, description: 'The updated portfolio', example: EXAMPLES.portfolio },
      ...errorResponses(400, 401, 404, 413, 422),
    ],
    handler: async (c, { engine, params, body }) => jsonAnswer(c, await engine.updatePortfolio(params.id, body)),
  }),
  defineRoute({
    method: 'delete',
    path: '/portfolios/:id',
    operationId: 'deletePortfolio',
    tag: 'Portfolios',
    summary: 'Delete a portfolio with its ledger, positions, snapshots and watchlist',
    policy: 'user',
    owned: true,
    params: portfolioParams,
    responses: [{ status: 204, description: 'Deleted' }, ...errorResponses(401, 404)],
    handler: async (c, { engine, params }) => {
      await engine.deletePortfolio(params.id);
      return c.body(null, 204);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/portfolios/:id/valuation',
    operationId: 'getValuation',
    tag: 'Portfolios',
    summary: 'Value a portfolio at the latest prices',
    description:
      'A position with no known price is listed with `price: null`, left out of the totals and named in ' +
      '`unpriced`; one valued at a last known price is named in `stale`. Weights and percentages are ' +
      'statistics (decimal strings with fixed places); every amount is an exact decimal string.',
    policy: 'user',
    owned: true,
    params: portfolioParams,
    responses: [
      { status: 200, description: 'The valuation', example: EXAMPLES.valuation },
      ...errorResponses(401, 404),
    ],
    handler: async (c, { engine, params }) => jsonAnswer(c, await engine.getValuation(params.id)),
  }),
  defineRoute({
    method: 'get',
    path: '/portfolios/:id/positions',
    operationId: 'listPositions',
    tag: 'Portfolios',
    summary: 'Open positions, by symbol',
    description: 'Every open position (quantity > 0) in one answer: the list is not paginated.',
    policy: 'user',
    owned: true,
    params: portfolioParams,
    responses: [
      { status: 200, description: 'The open positions', example: { items: [EXAMPLES.position] } },
      ...errorResponses(401, 404),
    ],
    handler: async (c, { engine, params }) => jsonAnswer(c, { items: await engine.getPositions(params.id) }),
  }),
];
