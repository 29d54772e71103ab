/**
 * Trading routes: trades, cash movements, the ledger (transactions) and voids. Every route is on
 * an `owned` portfolio.
 *
 * Idempotency: the `Idempotency-Key` header (and only the header: an `idempotencyKey` body field
 * is refused like any unknown field) is the engine's `idempotencyKey`, which the engine scopes per
 * portfolio — and a portfolio has one owner, so a key is scoped per caller and portfolio. A replay
 * answers exactly as the first call did: the same status (201 for trades and cash, 200 for voids)
 * and the same body, with `Idempotent-Replayed: true` (the engine tells a replay apart with
 * `isReplay`), and nothing is stored twice. The same key with other parameters is
 * `IDEMPOTENCY_CONFLICT` (422).
 */
import { isReplay, type PortfolioEngine, type Transaction } from '@foliokit/core';
import type { Context } from 'hono';
import { type AnyRouteSpec, defineRoute, type RouteResponseHeader } from '../route-table.js';
import {
  cashBody,
  EXAMPLES,
  errorResponses,
  listTransactionsQuery,
  portfolioParams,
  tradeBody,
  transactionParams,
  transactionView,
  voidBody,
} from '../schemas.js';
import { jsonAnswer } from '../security.js';

/** The engine's `idempotencyKey` field from the header, when one was sent. */
function keyed(idempotencyKey: string | undefined): { idempotencyKey?: string } {
  return idempotencyKey === undefined ? {} : { idempotencyKey };
}

/** The header a replay carries (HTTP.md, "Idempotency"). */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

/** The replay header as the OpenAPI document shows it. */
const REPLAYED_DOC: Readonly<Record<string, RouteResponseHeader>> = {
  [REPLAYED_HEADER]: {
    description: '`true` when this is the replay of an earlier call with the same Idempotency-Key (absent otherwise)',
    schema: { type: 'string', enum: ['true'] },
  },
};

/** Answers a ledger entry; the answer to a replay carries `Idempotent-Replayed: true`. */
function entryAnswer(c: Context, tx: Transaction, status: 200 | 201): Response {
  return jsonAnswer(c, transactionView(tx), status, isReplay(tx) ? { [REPLAYED_HEADER]: 'true' } : undefined);
}

const IDEMPOTENCY_NOTE =
  "Send an `Idempotency-Key` header to make a retry safe: a replay answers the first call's status and body " +
  'with `Idempotent-Replayed: true` and stores nothing; the same key with other parameters is 422 ' +
  '`IDEMPOTENCY_CONFLICT`.';

/** Moves cash one way or the other. */
function moveCash(
  engine: PortfolioEngine,
  id: string,
  body: { kind: 'deposit' | 'withdrawal'; amount: string | number; at?: string | undefined },
  idempotencyKey: string | undefined,
): Promise<Transaction> {
  const { kind, ...rest } = body;
  const input = { ...rest, ...keyed(idempotencyKey) };
  return kind === 'deposit' ? engine.deposit(id, input) : engine.withdraw(id, input);
}

/** The trading routes. */
export const tradingRoutes: AnyRouteSpec[] = [
  defineRoute({
    method: 'post',
    path: '/portfolios/:id/trades',
    operationId: 'createTrade',
    tag: 'Trading',
    summary: 'Buy or sell',
    description:
      'Without `price`, fills at the latest market price. `quantity`, `price` and `fee` are decimal strings ' +
      '(or JSON numbers that are exact). Fees on a buy add to its cost basis; on a sell they reduce its ' +
      `proceeds. ${IDEMPOTENCY_NOTE}`,
    policy: 'user',
    owned: true,
    rateLimit: 'trades',
    idempotent: true,
    params: portfolioParams,
    body: tradeBody,
    responses: [
      {
        status: 201,
        description: 'The trade (also the answer to a replay)',
        example: EXAMPLES.trade,
        headers: REPLAYED_DOC,
      },
      ...errorResponses(400, 401, 404, 409, 413, 422, 429, 503),
    ],
    handler: async (c, { engine, params, body, idempotencyKey }) =>
      entryAnswer(c, await engine.trade(params.id, { ...body, ...keyed(idempotencyKey) }), 201),
  }),
  defineRoute({
    method: 'post',
    path: '/portfolios/:id/cash',
    operationId: 'moveCash',
    tag: 'Cash',
    summary: 'Deposit or withdraw cash',
    description: `A withdrawal never takes cash below zero (409 \`INSUFFICIENT_CASH\`). ${IDEMPOTENCY_NOTE}`,
    policy: 'user',
    owned: true,
    rateLimit: 'trades',
    idempotent: true,
    params: portfolioParams,
    body: cashBody,
    responses: [
      {
        status: 201,
        description: 'The ledger entry (also the answer to a replay)',
        example: EXAMPLES.deposit,
        headers: REPLAYED_DOC,
      },
      ...errorResponses(400, 401, 404, 409, 413, 422, 429),
    ],
    handler: async (c, { engine, params, body, idempotencyKey }) =>
      entryAnswer(c, await moveCash(engine, params.id, body, idempotencyKey), 201),
  }),
  defineRoute({
    method: 'get',
    path: '/portfolios/:id/transactions',
    operationId: 'listTransactions',
    tag: 'Trading',
    summary: 'The ledger, newest first',
    description:
      'Cursor-paginated (`limit`, `cursor`; `nextCursor` null on the last page). `kinds` filters by a ' +
      'comma-separated list: `kinds=buy,sell`. Void entries are listed with their `voidedAt`.',
    policy: 'user',
    owned: true,
    params: portfolioParams,
    query: listTransactionsQuery,
    responses: [
      {
        status: 200,
        description: 'A page of ledger entries',
        example: { items: [EXAMPLES.deposit, EXAMPLES.trade], nextCursor: null },
      },
      ...errorResponses(401, 404, 422),
    ],
    handler: async (c, { engine, params, query }) => {
      const page = await engine.listTransactions(params.id, query);
      return jsonAnswer(c, { items: page.items.map(transactionView), nextCursor: page.nextCursor });
    },
  }),
  defineRoute({
    method: 'post',
    path: '/portfolios/:id/transactions/:transactionId/void',
    operationId: 'voidTransaction',
    tag: 'Trading',
    summary: 'Void a ledger entry',
    description:
      'The entry stays in the ledger marked void (`voidedAt`) and the portfolio is re-planned without it; ' +
      'refused with 409 when a later entry would become impossible. The body is empty or `{}`. Voiding a ' +
      `void entry answers as the first void did. ${IDEMPOTENCY_NOTE}`,
    policy: 'user',
    owned: true,
    rateLimit: 'trades',
    idempotent: true,
    params: transactionParams,
    body: voidBody,
    responses: [
      {
        status: 200,
        description: 'The voided entry (also the answer to a replay)',
        example: { ...EXAMPLES.trade, voidedAt: '2026-01-06T09:00:00.000Z', voidKey: 'void-0001' },
        headers: REPLAYED_DOC,
      },
      ...errorResponses(400, 401, 404, 409, 413, 422, 429),
    ],
    handler: async (c, { engine, params, idempotencyKey }) =>
      entryAnswer(c, await engine.voidTransaction(params.id, params.transactionId, keyed(idempotencyKey)), 200),
  }),
];
