/**
 * Alert routes (issue #13): the caller's price alerts (`above`, `below`, `change` on a symbol) and
 * portfolio alerts (`drawdown`, `weight`, `daily-pnl` on one of the caller's portfolios), fired by
 * the evaluator the router starts (option `alerts.evaluate`), announced as `alert.triggered`.
 *
 * The owner is always the caller (never read from a body). A portfolio alert on another user's
 * portfolio answers 404 `PORTFOLIO_NOT_FOUND`, identical to a missing portfolio; another user's
 * alert answers 404 `NOT_FOUND`, identical to a missing alert, on every route. A price alert's
 * symbol must have a known price (422 `UNKNOWN_SYMBOL` otherwise). What each kind's `threshold`
 * means is core's (see `createAlert`); it is checked per kind on create and on change. A store that
 * keeps no alerts answers 501 `NOT_IMPLEMENTED` here.
 */
import {
  ALERT_KINDS,
  type AlertRow,
  createAlert,
  deleteAlert,
  FoliokitError,
  getAlert,
  isFoliokitError,
  isPriceAlert,
  listAlerts,
  MAX_ALERT_COOL_DOWN_MS,
  MAX_ALERT_WINDOW_DAYS,
  type PortfolioEngine,
  updateAlert,
} from '@foliokit/core';
import { z } from 'zod';
import { type AnyRouteSpec, defineRoute, type RouteResponse } from '../route-table.js';
import {
  callerId,
  cursorQuery,
  errorResponses,
  idParam,
  limitQuery,
  locationOf,
  portfolioNotFound,
  symbolInput,
  withStoreFeature,
} from '../schemas.js';
import { jsonAnswer } from '../security.js';
import { requireKnownPrice } from './prices.js';

/** Page-size cap of `GET /alerts`. */
export const MAX_ALERT_PAGE = 100;

const FEATURE = 'Alerts';

// ----- schemas -----------------------------------------------------------------------------------

/** A threshold: a decimal string or an exact JSON number (core parses and checks it per kind). */
const thresholdBody = z.union([z.string().max(64), z.number()]).meta({
  description: 'A price (`above`, `below`), a percent (`change`, `drawdown`, `weight`) or an amount (`daily-pnl`)',
});
const coolDownBody = z
  .number()
  .int()
  .min(0)
  .max(MAX_ALERT_COOL_DOWN_MS)
  .meta({ description: 'No fire within this many milliseconds of the last (0 to one year). Default 0' });

/** `POST /alerts` */
export const createAlertBody = z
  .strictObject({
    kind: z.enum(ALERT_KINDS),
    symbol: symbolInput.meta({ description: 'Price alerts and `weight`' }).optional(),
    portfolioId: idParam
      .meta({ description: 'Portfolio alerts (one of the caller’s); optional for price alerts' })
      .optional(),
    threshold: thresholdBody,
    window: z
      .number()
      .int()
      .min(1)
      .max(MAX_ALERT_WINDOW_DAYS)
      .meta({ description: '`change` only: the look-back in days' })
      .optional(),
    coolDownMs: coolDownBody.optional(),
    active: z.boolean().meta({ description: 'Default true' }).optional(),
  })
  .meta({ examples: [{ kind: 'above', symbol: 'AAPL', threshold: '200', coolDownMs: 3_600_000 }] });

/** `PATCH /alerts/:alertId` */
export const updateAlertBody = z
  .strictObject({
    active: z.boolean().meta({ description: 'Pause (false) or resume (true)' }).optional(),
    threshold: thresholdBody.optional(),
    coolDownMs: coolDownBody.optional(),
  })
  .meta({ examples: [{ active: false, threshold: '210' }] });

/** `/alerts/:alertId` */
export const alertParams = z.strictObject({
  alertId: idParam.meta({ description: 'Alert id', examples: ['al_01JH2N3P4Q5R6S7T8V9W0X1Y2Z'] }),
});

/** `GET /alerts` */
export const listAlertsQuery = z.strictObject({
  limit: limitQuery(MAX_ALERT_PAGE).optional(),
  cursor: cursorQuery.optional(),
  portfolioId: idParam.meta({ description: 'Only the alerts on this portfolio' }).optional(),
});

// ----- answers -----------------------------------------------------------------------------------

/** An alert as the API shows it (the owner is the caller, so not repeated). */
export type AlertView = Omit<AlertRow, 'ownerId'>;

function alertView(row: AlertRow): AlertView {
  const { ownerId: _owner, ...view } = row;
  return view;
}

/** The one answer for a missing alert and for another user's: same code, message and details. */
export function alertNotFound(id: string): FoliokitError {
  return new FoliokitError('NOT_FOUND', `No alert with id ${id}`, { field: 'alertId' });
}

/** The caller's alert, or the one not-found answer. */
async function ownAlert(engine: PortfolioEngine, id: string, userId: string): Promise<AlertRow> {
  let row: AlertRow;
  try {
    row = await withStoreFeature(FEATURE, () => getAlert(engine, id));
  } catch (error) {
    const missing = isFoliokitError(error) && (error.code === 'NOT_FOUND' || error.code === 'VALIDATION_FAILED');
    throw missing ? alertNotFound(id) : error;
  }
  if (row.ownerId !== userId) throw alertNotFound(id);
  return row;
}

/** Checks that `portfolioId` is one of the caller's (404 `PORTFOLIO_NOT_FOUND` as for a missing one). */
async function checkOwnPortfolio(engine: PortfolioEngine, portfolioId: string, userId: string): Promise<void> {
  let ownerId: string | null;
  try {
    ownerId = (await engine.getPortfolio(portfolioId)).ownerId;
  } catch (error) {
    const missing =
      isFoliokitError(error) && (error.code === 'PORTFOLIO_NOT_FOUND' || error.code === 'VALIDATION_FAILED');
    throw missing ? portfolioNotFound(portfolioId) : error;
  }
  if (ownerId !== userId) throw portfolioNotFound(portfolioId);
}

/** Cursor of the alert list: the last id of the page, base64url. */
function encodeCursor(id: string): string {
  return Buffer.from(JSON.stringify({ after: id }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof value.after === 'string' && value.after !== '') return value.after;
  } catch {
    // reported below
  }
  throw new FoliokitError('VALIDATION_FAILED', 'cursor: not a cursor of this list', { field: 'cursor' });
}

// ----- examples ----------------------------------------------------------------------------------

const ALERT_EXAMPLE = {
  id: 'al_01JH2N3P4Q5R6S7T8V9W0X1Y2Z',
  portfolioId: null,
  kind: 'above',
  symbol: 'AAPL',
  threshold: '200',
  window: null,
  coolDownMs: 3_600_000,
  createdAt: '2026-01-05T10:00:00.000Z',
  lastFiredAt: null,
  coolDownUntil: null,
  active: true,
};
const NOT_FOUND: RouteResponse = {
  status: 404,
  description: "No such alert, or not one of the caller's (the same answer either way)",
  contentType: 'application/problem+json',
};

// ----- routes ------------------------------------------------------------------------------------

/** The alert routes. */
export const alertRoutes: AnyRouteSpec[] = [
  defineRoute({
    method: 'post',
    path: '/alerts',
    operationId: 'createAlert',
    tag: 'Alerts',
    summary: 'Create an alert',
    description:
      'Price alerts (`above`, `below`: a price; `change`: a percent move over `window` days) need `symbol`; ' +
      'portfolio alerts (`drawdown`, `weight`, `daily-pnl`) need `portfolioId`, one of the caller’s; `weight` ' +
      'needs both. The alert fires (`alert.triggered`) when its condition becomes true.',
    policy: 'user',
    body: createAlertBody,
    responses: [
      {
        status: 201,
        description: 'The alert',
        example: ALERT_EXAMPLE,
        headers: { Location: { description: 'The alert' } },
      },
      ...errorResponses(400, 401),
      { ...NOT_FOUND, description: "No such portfolio, or not one of the caller's (the same answer either way)" },
      ...errorResponses(413, 422, 501, 503),
    ],
    handler: async (c, { engine, body, user }) => {
      const ownerId = callerId(user);
      if (body.portfolioId !== undefined) await checkOwnPortfolio(engine, body.portfolioId, ownerId);
      if (body.symbol !== undefined && isPriceAlert(body.kind)) await requireKnownPrice(engine, body.symbol);
      const row = await withStoreFeature(FEATURE, () => createAlert(engine, { ...body, ownerId }));
      return jsonAnswer(c, alertView(row), 201, { Location: locationOf(c.req.path, row.id) });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/alerts',
    operationId: 'listAlerts',
    tag: 'Alerts',
    summary: "The caller's alerts",
    description: 'Ordered by id (oldest first); `portfolioId` keeps the alerts on one portfolio.',
    policy: 'user',
    query: listAlertsQuery,
    responses: [
      { status: 200, description: 'A page of alerts', example: { items: [ALERT_EXAMPLE], nextCursor: null } },
      ...errorResponses(401, 422, 501, 503),
    ],
    handler: async (c, { engine, query, user }) => {
      const limit = query.limit ?? 50;
      const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
      const rows = await withStoreFeature(FEATURE, () =>
        listAlerts(engine, {
          ownerId: callerId(user),
          ...(query.portfolioId === undefined ? {} : { portfolioId: query.portfolioId }),
        }),
      );
      const rest = after === null ? rows : rows.filter((r) => r.id > after);
      const page = rest.slice(0, limit);
      const last = page.at(-1);
      return jsonAnswer(c, {
        items: page.map(alertView),
        nextCursor: rest.length > limit && last ? encodeCursor(last.id) : null,
      });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/alerts/:alertId',
    operationId: 'getAlert',
    tag: 'Alerts',
    summary: 'An alert',
    policy: 'user',
    params: alertParams,
    responses: [
      { status: 200, description: 'The alert', example: ALERT_EXAMPLE },
      ...errorResponses(401),
      NOT_FOUND,
      ...errorResponses(501, 503),
    ],
    handler: async (c, { engine, params, user }) =>
      jsonAnswer(c, alertView(await ownAlert(engine, params.alertId, callerId(user)))),
  }),
  defineRoute({
    method: 'patch',
    path: '/alerts/:alertId',
    operationId: 'updateAlert',
    tag: 'Alerts',
    summary: 'Pause, resume or retune an alert',
    description:
      '`active`, `threshold` (checked by the alert’s kind as on create) and `coolDownMs`; the kind, symbol, ' +
      'portfolio and window stay. The evaluator reloads at once.',
    policy: 'user',
    params: alertParams,
    body: updateAlertBody,
    responses: [
      {
        status: 200,
        description: 'The alert as stored',
        example: { ...ALERT_EXAMPLE, active: false, threshold: '210' },
      },
      ...errorResponses(400, 401),
      NOT_FOUND,
      ...errorResponses(413, 422, 501, 503),
    ],
    handler: async (c, { engine, params, body, user }) => {
      const row = await ownAlert(engine, params.alertId, callerId(user));
      const updated = await withStoreFeature(FEATURE, () => updateAlert(engine, row.id, body));
      return jsonAnswer(c, alertView(updated));
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/alerts/:alertId',
    operationId: 'deleteAlert',
    tag: 'Alerts',
    summary: 'Delete an alert',
    policy: 'user',
    params: alertParams,
    responses: [
      { status: 204, description: 'Deleted' },
      ...errorResponses(401),
      NOT_FOUND,
      ...errorResponses(501, 503),
    ],
    handler: async (c, { engine, params, user }) => {
      const row = await ownAlert(engine, params.alertId, callerId(user));
      try {
        await withStoreFeature(FEATURE, () => deleteAlert(engine, row.id));
      } catch (error) {
        // deleted meanwhile (another request): the same answer as a missing alert
        if (isFoliokitError(error) && error.code === 'NOT_FOUND') throw alertNotFound(params.alertId);
        throw error;
      }
      return c.body(null, 204);
    },
  }),
];
