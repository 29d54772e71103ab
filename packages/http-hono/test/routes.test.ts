/**
 * The REST routes (portfolios, trading, history, watchlist, prices, health), each through
 * `app.request` on the real router over a real engine (memory store, manual clock, test provider).
 * Callers are resolved by `auth: { resolve }` from an `x-test-user` header.
 *
 * Checked: status codes, bodies (every amount a decimal string), pagination, the Idempotency-Key
 * replay (one entry stored, identical answers) and conflict (422), cash, voids, history, the
 * watchlist, prices, health (200, and 503 once the engine and store are closed); bad input on each
 * write route answers 4xx problem+json naming the field, and changes nothing.
 */
import type { Portfolio, Transaction } from '@foliokit/core';
import { createTestEngine, type TestEngine } from '@foliokit/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createFoliokitRouter, type FoliokitRouter } from '../src/router.js';
import { healthRoutes } from '../src/routes/health.js';
import { historyRoutes } from '../src/routes/history.js';
import { portfolioRoutes } from '../src/routes/portfolios.js';
import { priceRoutes } from '../src/routes/prices.js';
import { tradingRoutes } from '../src/routes/trading.js';
import { watchlistRoutes } from '../src/routes/watchlist.js';
import { MAX_PRICE_SYMBOLS } from '../src/schemas.js';

const MY_ROUTES = [
  ...portfolioRoutes,
  ...tradingRoutes,
  ...historyRoutes,
  ...watchlistRoutes,
  ...priceRoutes,
  ...healthRoutes,
];

/** A decimal string as the API writes one: plain notation, no exponent. */
const DECIMAL = /^-?\d+(\.\d+)?$/;

/** Callers from the `x-test-user` header (roles from `x-test-roles`). */
const resolve = async (request: Request) => {
  const userId = request.headers.get('x-test-user');
  if (userId === null) return null;
  const roles = request.headers.get('x-test-roles');
  return { userId, roles: roles ? roles.split(',') : [] };
};

interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are read field by field
  body: any;
  text: string;
}

interface CallOptions {
  /** The caller (`null`: no credentials). @default 'alice' */
  user?: string | null;
  /** A JSON body (serialised), or a raw string sent as is with a JSON content type. */
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

let t: TestEngine;
let app: FoliokitRouter;

async function call(method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  const user = options.user === undefined ? 'alice' : options.user;
  if (user !== null) headers['x-test-user'] = user;
  let payload: string | undefined;
  if (options.raw !== undefined) payload = options.raw;
  else if (options.body !== undefined) payload = JSON.stringify(options.body);
  if (payload !== undefined) headers['content-type'] = 'application/json';
  const response = await app.request(path, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  const text = await response.text();
  let body: unknown = null;
  if (text !== '') body = JSON.parse(text);
  return { status: response.status, headers: response.headers, body, text };
}

/** Asserts a problem+json answer with `status` and `code`, naming `field` when given. */
function expectProblem(answer: Answer, status: number, code: string, field?: string): void {
  expect({ status: answer.status, code: answer.body?.code }, answer.text).toEqual({ status, code });
  expect(answer.headers.get('content-type')).toContain('application/problem+json');
  expect(answer.body.status).toBe(status);
  if (field !== undefined) {
    const fields = (answer.body.fields ?? []).map((f: { path: string }) => f.path);
    expect(fields, answer.text).toContain(field);
  }
}

async function createPortfolio(body: Record<string, unknown> = {}, user = 'alice'): Promise<Portfolio> {
  const answer = await call('POST', '/portfolios', { user, body: { name: 'Main', initialCash: '10000', ...body } });
  expect(answer.status, answer.text).toBe(201);
  return answer.body as Portfolio;
}

/** Everything a write could change in one portfolio, to prove a refused write changed nothing. */
async function stateOf(id: string) {
  const [portfolio, positions, ledger, watchlist] = await Promise.all([
    t.engine.getPortfolio(id),
    t.engine.getPositions(id),
    t.engine.listTransactions(id, { limit: 500 }),
    t.engine.getWatchlist(id),
  ]);
  return { portfolio, positions, ledger, watchlist };
}

beforeEach(() => {
  t = createTestEngine({ prices: { AAPL: '150.25', MSFT: '300.5' } });
  app = createFoliokitRouter(t.engine, {
    auth: { resolve },
    rateLimits: { trades: { windowMs: 60_000, max: 100_000 }, market: { windowMs: 60_000, max: 100_000 } },
  });
});

afterEach(async () => {
  await app.close();
  await t.close();
});

describe('route specs', () => {
  it('each has an operation id, a summary, a 2xx example (decimal strings) and input schemas JSON Schema can show', () => {
    for (const spec of MY_ROUTES) {
      const where = `${spec.method} ${spec.path}`;
      expect(spec.operationId, where).toMatch(/^[a-z][A-Za-z]+$/);
      expect(spec.summary.length, where).toBeGreaterThan(5);
      const ok = spec.responses.find((r) => r.status < 300);
      expect(ok, where).toBeDefined();
      if (ok?.status !== 204) expect(ok?.example, where).toBeDefined();
      for (const schema of [spec.params, spec.query, spec.body]) {
        if (schema) expect(() => z.toJSONSchema(schema, { io: 'input' }), where).not.toThrow();
      }
      if (/:id\b/.test(spec.path)) expect(spec.owned, where).toBe(true);
      expect(spec.policy, where).toBe(spec.path === '/health' ? 'public' : 'user');
    }
  });

  it('every example amount is a decimal string', () => {
    const amounts = new Set(['cash', 'price', 'quantity', 'amount', 'fee', 'marketValue', 'totalValue', 'costBasis']);
    const check = (value: unknown, key: string): void => {
      if (Array.isArray(value)) for (const v of value) check(v, key);
      else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) check(v, k);
      else if (amounts.has(key) && value !== null) expect(value, key).toMatch(DECIMAL);
    };
    for (const spec of MY_ROUTES) for (const r of spec.responses) check(r.example, '');
  });

  it('/prices/status is served before /prices/:symbol', () => {
    const paths = priceRoutes.map((r) => r.path);
    expect(paths.indexOf('/prices/status')).toBeLessThan(paths.indexOf('/prices/:symbol'));
  });
});

describe('portfolios', () => {
  it('POST creates a portfolio owned by the caller: 201, Location, decimal strings', async () => {
    const answer = await call('POST', '/portfolios', {
      body: { name: '  Retirement ', description: 'Index funds', initialCash: 2500.5, costBasisMethod: 'fifo' },
    });
    expect(answer.status).toBe(201);
    const p = answer.body as Portfolio;
    expect(p).toMatchObject({
      ownerId: 'alice',
      name: 'Retirement',
      description: 'Index funds',
      costBasisMethod: 'fifo',
      baseCurrency: 'USD',
      cash: '2500.5',
      netDeposits: '2500.5',
      realizedPnl: '0',
    });
    expect(answer.headers.get('location')).toBe(`/portfolios/${p.id}`);
    expect((await t.engine.getPortfolio(p.id)).ownerId).toBe('alice');
  });

  it('POST under a mount point answers a Location under it', async () => {
    const { Hono } = await import('hono');
    const host = new Hono().route('/api', app);
    const response = await host.request('/api/portfolios', {
      method: 'POST',
      headers: { 'x-test-user': 'alice', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Mounted' }),
    });
    expect(response.status).toBe(201);
    const p = (await response.json()) as Portfolio;
    expect(response.headers.get('location')).toBe(`/api/portfolios/${p.id}`);
  });

  it('POST refuses bad input with 4xx problem+json naming the field, and creates nothing', async () => {
    const cases: Array<[CallOptions, number, string, string?]> = [
      [{ raw: '{"name": "x",' }, 400, 'MALFORMED_JSON'],
      [{ body: { name: 'x', ownerId: 'bob' } }, 422, 'VALIDATION_FAILED', 'ownerId'],
      [{ body: { name: 'x', cash: '1000000' } }, 422, 'VALIDATION_FAILED', 'cash'],
      [{ body: {} }, 422, 'VALIDATION_FAILED', 'name'],
      [{ body: { name: '' } }, 422, 'VALIDATION_FAILED', 'name'],
      [{ body: { name: 42 } }, 422, 'VALIDATION_FAILED', 'name'],
      [{ body: { name: 'x', initialCash: '-5' } }, 422, 'VALIDATION_FAILED', 'initialCash'],
      [{ body: { name: 'x', initialCash: 'NaN' } }, 422, 'VALIDATION_FAILED', 'initialCash'],
      [{ body: { name: 'x', initialCash: 'Infinity' } }, 422, 'VALIDATION_FAILED', 'initialCash'],
      [{ raw: '{"name":"x","initialCash":1e309}' }, 422, 'VALIDATION_FAILED', 'initialCash'],
      [{ raw: '{"name":"x","initialCash":1234567890123456789012345678901234567890}' }, 422, 'VALIDATION_FAILED'],
      [{ body: { name: 'x', initialCash: '1234567890123456789012345678901234567890' } }, 422, 'VALIDATION_FAILED'],
      [{ body: { name: 'x', baseCurrency: 'usd' } }, 422, 'VALIDATION_FAILED', 'baseCurrency'],
      [{ body: { name: 'x', initialCashAt: '2099-01-01T00:00:00Z', initialCash: '1' } }, 422, 'VALIDATION_FAILED'],
      [{ body: [{ name: 'x' }] }, 422, 'VALIDATION_FAILED'],
      [{ body: { name: 'x' }, user: null }, 401, 'UNAUTHORIZED'],
    ];
    for (const [options, status, code, field] of cases) {
      expectProblem(await call('POST', '/portfolios', options), status, code, field);
    }
    expect((await t.engine.listPortfolios()).items).toEqual([]);
  });

  it("GET lists only the caller's portfolios, cursor-paginated", async () => {
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) mine.push((await createPortfolio({ name: `A${i}` })).id);
    await createPortfolio({ name: 'Not yours' }, 'bob');
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const answer = await call('GET', `/portfolios?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body.items.length).toBeLessThanOrEqual(2);
      for (const p of answer.body.items as Portfolio[]) {
        expect(p.ownerId).toBe('alice');
        seen.push(p.id);
      }
      cursor = answer.body.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual(mine);
    const bob = await call('GET', '/portfolios', { user: 'bob' });
    expect(bob.body.items.map((p: Portfolio) => p.name)).toEqual(['Not yours']);
  });

  it('GET /portfolios refuses bad query parameters', async () => {
    for (const q of ['limit=0', 'limit=-1', 'limit=abc', 'limit=1e3', 'limit=Infinity', 'limit=101', 'limit=2.5']) {
      expectProblem(await call('GET', `/portfolios?${q}`), 422, 'VALIDATION_FAILED', 'limit');
    }
    expectProblem(await call('GET', '/portfolios?ownerId=bob'), 422, 'VALIDATION_FAILED', 'ownerId');
    expectProblem(await call('GET', '/portfolios?cursor=garbage'), 422, 'VALIDATION_FAILED', 'cursor');
    expectProblem(await call('GET', '/portfolios?limit=1&limit=2'), 422, 'VALIDATION_FAILED', 'limit');
  });

  it('GET, PATCH and DELETE one portfolio; another user gets 404 like a missing id', async () => {
    const p = await createPortfolio();
    const got = await call('GET', `/portfolios/${p.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(p);

    const patched = await call('PATCH', `/portfolios/${p.id}`, { body: { name: 'Renamed', description: null } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: p.id, name: 'Renamed', description: null, cash: '10000' });

    const before = await stateOf(p.id);
    for (const body of [{ cash: '1' }, { ownerId: 'bob' }, { name: '' }, { name: 7 }, { description: 5 }]) {
      expectProblem(await call('PATCH', `/portfolios/${p.id}`, { body }), 422, 'VALIDATION_FAILED');
    }
    expectProblem(await call('PATCH', `/portfolios/${p.id}`, { raw: '{' }), 400, 'MALFORMED_JSON');
    expect(await stateOf(p.id)).toEqual(before);

    const missing = await call('GET', '/portfolios/pf_missing');
    const foreign = await call('GET', `/portfolios/${p.id}`, { user: 'bob' });
    expectProblem(missing, 404, 'PORTFOLIO_NOT_FOUND');
    expectProblem(foreign, 404, 'PORTFOLIO_NOT_FOUND');
    expectProblem(
      await call('PATCH', `/portfolios/${p.id}`, { user: 'bob', body: { name: 'x' } }),
      404,
      'PORTFOLIO_NOT_FOUND',
    );
    expectProblem(await call('DELETE', `/portfolios/${p.id}`, { user: 'bob' }), 404, 'PORTFOLIO_NOT_FOUND');
    expect(await stateOf(p.id)).toEqual(before);

    const deleted = await call('DELETE', `/portfolios/${p.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expectProblem(await call('GET', `/portfolios/${p.id}`), 404, 'PORTFOLIO_NOT_FOUND');
  });

  it('valuation and positions: decimal strings, priced at the latest prices', async () => {
    const p = await createPortfolio();
    expect(
      (await call('POST', `/portfolios/${p.id}/trades`, { body: { symbol: 'AAPL', side: 'buy', quantity: '10' } }))
        .status,
    ).toBe(201);
    t.provider.setPrice('AAPL', '155.1');
    await t.clock.advance(60_000);

    const valuation = await call('GET', `/portfolios/${p.id}/valuation`);
    expect(valuation.status).toBe(200);
    expect(valuation.body).toMatchObject({
      portfolioId: p.id,
      cash: '8497.5',
      totals: { marketValue: '1551', totalValue: '10048.5', costBasis: '1502.5', unrealizedPnl: '48.5' },
      unpriced: [],
      stale: [],
    });
    expect(valuation.body.positions[0]).toMatchObject({
      symbol: 'AAPL',
      quantity: '10',
      price: '155.1',
      marketValue: '1551',
    });

    const positions = await call('GET', `/portfolios/${p.id}/positions`);
    expect(positions.status).toBe(200);
    expect(positions.body).toEqual({
      items: [expect.objectContaining({ symbol: 'AAPL', quantity: '10', costBasis: '1502.5', averageCost: '150.25' })],
    });
    expectProblem(await call('GET', `/portfolios/${p.id}/valuation`, { user: 'bob' }), 404, 'PORTFOLIO_NOT_FOUND');
    expectProblem(await call('GET', `/portfolios/${p.id}/positions`, { user: 'bob' }), 404, 'PORTFOLIO_NOT_FOUND');
  });
});

describe('trades', () => {
  it('a buy answers 201 with the ledger entry in decimal strings', async () => {
    const p = await createPortfolio();
    const answer = await call('POST', `/portfolios/${p.id}/trades`, {
      body: { symbol: 'aapl', side: 'buy', quantity: '2.5', fee: 1 },
    });
    expect(answer.status, answer.text).toBe(201);
    expect(answer.body).toMatchObject({
      portfolioId: p.id,
      kind: 'buy',
      symbol: 'AAPL',
      quantity: '2.5',
      price: '150.25',
      fee: '1',
      amount: '-376.625',
      cashAfter: '9623.375',
      idempotencyKey: null,
    });
    expect(answer.body).not.toHaveProperty('requestHash');
  });

  it('the Idempotency-Key replay answers as the first call did and stores one trade; another body under it is 422', async () => {
    const p = await createPortfolio();
    const path = `/portfolios/${p.id}/trades`;
    const headers = { 'idempotency-key': 'order-0001' };
    const body = { symbol: 'AAPL', side: 'buy', quantity: '3' };
    const first = await call('POST', path, { body, headers });
    expect(first.status).toBe(201);
    expect(first.body.idempotencyKey).toBe('order-0001');
    await t.clock.advance(1000);
    t.provider.setPrice('AAPL', '170');
    const replays = await Promise.all(Array.from({ length: 5 }, () => call('POST', path, { body, headers })));
    for (const replay of replays) {
      expect(replay.status).toBe(201);
      expect(replay.text).toBe(first.text);
    }
    const buys = await t.engine.listTransactions(p.id, { kinds: ['buy'] });
    expect(buys.items).toHaveLength(1);
    expect((await t.engine.getPortfolio(p.id)).cash).toBe(first.body.cashAfter);

    const before = await stateOf(p.id);
    const conflict = await call('POST', path, { body: { ...body, quantity: '4' }, headers });
    expectProblem(conflict, 422, 'IDEMPOTENCY_CONFLICT', 'idempotencyKey');
    const otherSide = await call('POST', path, { body: { ...body, side: 'sell' }, headers });
    expectProblem(otherSide, 422, 'IDEMPOTENCY_CONFLICT');
    expect(await stateOf(p.id)).toEqual(before);
  });

  it('concurrent duplicates under one key store one trade and answer identically', async () => {
    const p = await createPortfolio();
    const headers = { 'idempotency-key': 'burst-1' };
    const body = { symbol: 'MSFT', side: 'buy', quantity: '1', price: '300' };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => call('POST', `/portfolios/${p.id}/trades`, { body, headers })),
    );
    expect(new Set(answers.map((a) => `${a.status} ${a.text}`)).size).toBe(1);
    expect(answers[0]?.status).toBe(201);
    expect((await t.engine.listTransactions(p.id, { kinds: ['buy'] })).items).toHaveLength(1);
  });

  it("a key is scoped per caller and portfolio: another user's same key never answers someone else's trade", async () => {
    const alice = await createPortfolio();
    const bob = await createPortfolio({}, 'bob');
    const headers = { 'idempotency-key': 'shared-key' };
    const body = { symbol: 'AAPL', side: 'buy', quantity: '1' };
    const a = await call('POST', `/portfolios/${alice.id}/trades`, { body, headers });
    const b = await call('POST', `/portfolios/${bob.id}/trades`, { body, headers, user: 'bob' });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.body.id).not.toBe(a.body.id);
    expect(b.body.portfolioId).toBe(bob.id);
    expect((await t.engine.listTransactions(bob.id, { kinds: ['buy'] })).items).toHaveLength(1);
  });

  it('the key travels in the header only: a body idempotencyKey is refused', async () => {
    const p = await createPortfolio();
    const answer = await call('POST', `/portfolios/${p.id}/trades`, {
      body: { symbol: 'AAPL', side: 'buy', quantity: '1', idempotencyKey: 'k' },
    });
    expectProblem(answer, 422, 'VALIDATION_FAILED', 'idempotencyKey');
    const badHeader = await call('POST', `/portfolios/${p.id}/trades`, {
      body: { symbol: 'AAPL', side: 'buy', quantity: '1' },
      headers: { 'idempotency-key': 'has space' },
    });
    expectProblem(badHeader, 422, 'VALIDATION_FAILED', 'Idempotency-Key');
    expect((await t.engine.listTransactions(p.id, { kinds: ['buy'] })).items).toHaveLength(0);
  });

  it('a sell of more than held is 409, a buy beyond cash 409, and nothing changes', async () => {
    const p = await createPortfolio({ initialCash: '1000' });
    await call('POST', `/portfolios/${p.id}/trades`, { body: { symbol: 'AAPL', side: 'buy', quantity: '2' } });
    const before = await stateOf(p.id);
    const oversell = await call('POST', `/portfolios/${p.id}/trades`, {
      body: { symbol: 'AAPL', side: 'sell', quantity: '3' },
    });
    expectProblem(oversell, 409, 'INSUFFICIENT_QUANTITY');
    const overspend = await call('POST', `/portfolios/${p.id}/trades`, {
      body: { symbol: 'MSFT', side: 'buy', quantity: '10' },
    });
    expectProblem(overspend, 409, 'INSUFFICIENT_CASH');
    expect(await stateOf(p.id)).toEqual(before);

    const sell = await call('POST', `/portfolios/${p.id}/trades`, {
      body: { symbol: 'AAPL', side: 'sell', quantity: '1', price: '160.5' },
    });
    expect(sell.status).toBe(201);
    expect(sell.body).toMatchObject({ kind: 'sell', amount: '160.5', realizedPnl: '10.25', quantityAfter: '1' });
  });

  it('refuses bad trade bodies with 4xx problem+json naming the field, and changes nothing', async () => {
    const p = await createPortfolio();
    const path = `/portfolios/${p.id}/trades`;
    const valid = { symbol: 'AAPL', side: 'buy', quantity: '1' };
    const before = await stateOf(p.id);
    const cases: Array<[CallOptions, number, string, string?]> = [
      [{ raw: '{"symbol":"AAPL",' }, 400, 'MALFORMED_JSON'],
      [{ raw: 'null' }, 422, 'VALIDATION_FAILED'],
      [{}, 422, 'VALIDATION_FAILED'],
      [{ body: { ...valid, quantity: '-1' } }, 422, 'VALIDATION_FAILED', 'quantity'],
      [{ body: { ...valid, quantity: '0' } }, 422, 'VALIDATION_FAILED', 'quantity'],
      [{ body: { ...valid, quantity: '-0' } }, 422, 'VALIDATION_FAILED', 'quantity'],
      [{ body: { ...valid, quantity: 'NaN' } }, 422, 'VALIDATION_FAILED', 'quantity'],
      [{ body: { ...valid, quantity: 'Infinity' } }, 422, 'VALIDATION_FAILED', 'quantity'],
      [{ body: { ...valid, quantity: '1e309' } }, 422, 'VALIDATION_FAILED', 'quantity'],
      [{ raw: '{"symbol":"AAPL","side":"buy","quantity":1e309}' }, 422, 'VALIDATION_FAILED', 'quantity'],
      [{ raw: '{"symbol":"AAPL","side":"buy","quantity":9007199254740993}' }, 422, 'VALIDATION_FAILED', 'quantity'],
      [
        { body: { ...valid, quantity: '1234567890123456789012345678901234567890' } },
        422,
        'VALIDATION_FAILED',
        'quantity',
      ],
      [{ body: { ...valid, quantity: true } }, 422, 'VALIDATION_FAILED', 'quantity'],
      [{ body: { ...valid, quantity: ['1'] } }, 422, 'VALIDATION_FAILED', 'quantity'],
      [{ body: { ...valid, price: '-150' } }, 422, 'VALIDATION_FAILED', 'price'],
      [{ body: { ...valid, fee: '-1' } }, 422, 'VALIDATION_FAILED', 'fee'],
      [{ body: { ...valid, side: 'hold' } }, 422, 'VALIDATION_FAILED', 'side'],
      [{ body: { ...valid, symbol: "AAPL'; DROP TABLE portfolios;--" } }, 422, 'VALIDATION_FAILED', 'symbol'],
      [{ body: { ...valid, symbol: 'ZZZZ' } }, 422, 'UNKNOWN_SYMBOL', 'symbol'],
      [{ body: { ...valid, at: '2099-01-01T00:00:00.000Z' } }, 422, 'VALIDATION_FAILED', 'at'],
      [{ body: { ...valid, at: 'yesterday' } }, 422, 'VALIDATION_FAILED', 'at'],
      [{ body: { ...valid, ownerId: 'bob' } }, 422, 'VALIDATION_FAILED', 'ownerId'],
      [{ body: { ...valid, cash: '1' } }, 422, 'VALIDATION_FAILED', 'cash'],
    ];
    for (const [options, status, code, field] of cases) {
      expectProblem(await call('POST', path, options), status, code, field);
    }
    expectProblem(await call('POST', '/portfolios/pf_missing/trades', { body: valid }), 404, 'PORTFOLIO_NOT_FOUND');
    expectProblem(await call('POST', path, { body: valid, user: 'bob' }), 404, 'PORTFOLIO_NOT_FOUND');
    expect(await stateOf(p.id)).toEqual(before);
  });

  it('answers 503 when no price can be had for the fill, and changes nothing', async () => {
    const p = await createPortfolio();
    const before = await stateOf(p.id);
    t.provider.failing = true;
    const answer = await call('POST', `/portfolios/${p.id}/trades`, {
      body: { symbol: 'AAPL', side: 'buy', quantity: '1' },
    });
    expectProblem(answer, 503, 'PRICE_UNAVAILABLE');
    expect(await stateOf(p.id)).toEqual(before);
  });
});

describe('cash', () => {
  it('deposits and withdraws with 201; a replay answers the same; too much is 409', async () => {
    const p = await createPortfolio({ initialCash: '100' });
    const path = `/portfolios/${p.id}/cash`;
    const deposit = await call('POST', path, {
      body: { kind: 'deposit', amount: '0.1' },
      headers: { 'idempotency-key': 'd1' },
    });
    expect(deposit.status).toBe(201);
    expect(deposit.body).toMatchObject({ kind: 'deposit', amount: '0.1', cashAfter: '100.1', idempotencyKey: 'd1' });
    const replay = await call('POST', path, {
      body: { kind: 'deposit', amount: '0.1' },
      headers: { 'idempotency-key': 'd1' },
    });
    expect(replay.status).toBe(201);
    expect(replay.text).toBe(deposit.text);
    const conflict = await call('POST', path, {
      body: { kind: 'withdrawal', amount: '0.1' },
      headers: { 'idempotency-key': 'd1' },
    });
    expectProblem(conflict, 422, 'IDEMPOTENCY_CONFLICT');

    const withdrawal = await call('POST', path, { body: { kind: 'withdrawal', amount: 0.2 } });
    expect(withdrawal.status).toBe(201);
    expect(withdrawal.body).toMatchObject({ kind: 'withdrawal', amount: '-0.2', cashAfter: '99.9' });

    const before = await stateOf(p.id);
    expectProblem(await call('POST', path, { body: { kind: 'withdrawal', amount: '100' } }), 409, 'INSUFFICIENT_CASH');
    expect(await stateOf(p.id)).toEqual(before);
    expect((await t.engine.getPortfolio(p.id)).cash).toBe('99.9');
  });

  it('refuses bad cash bodies with 4xx problem+json, and changes nothing', async () => {
    const p = await createPortfolio();
    const path = `/portfolios/${p.id}/cash`;
    const before = await stateOf(p.id);
    const cases: Array<[CallOptions, number, string, string?]> = [
      [{ raw: '{"kind":' }, 400, 'MALFORMED_JSON'],
      [{ body: { amount: '10' } }, 422, 'VALIDATION_FAILED', 'kind'],
      [{ body: { kind: 'gift', amount: '10' } }, 422, 'VALIDATION_FAILED', 'kind'],
      [{ body: { kind: 'deposit' } }, 422, 'VALIDATION_FAILED', 'amount'],
      [{ body: { kind: 'deposit', amount: '0' } }, 422, 'VALIDATION_FAILED', 'amount'],
      [{ body: { kind: 'deposit', amount: -5 } }, 422, 'VALIDATION_FAILED', 'amount'],
      [{ body: { kind: 'deposit', amount: 'NaN' } }, 422, 'VALIDATION_FAILED', 'amount'],
      [{ raw: '{"kind":"deposit","amount":1e309}' }, 422, 'VALIDATION_FAILED', 'amount'],
      [
        { body: { kind: 'deposit', amount: '1234567890123456789012345678901234567890' } },
        422,
        'VALIDATION_FAILED',
        'amount',
      ],
      [{ body: { kind: 'deposit', amount: '0.0000000000000000000001' } }, 422, 'VALIDATION_FAILED', 'amount'],
      [{ body: { kind: 'deposit', amount: '10', idempotencyKey: 'k' } }, 422, 'VALIDATION_FAILED', 'idempotencyKey'],
      [{ body: { kind: 'deposit', amount: '10', at: '2099-01-01T00:00:00Z' } }, 422, 'VALIDATION_FAILED', 'at'],
      [{ body: { kind: 'deposit', amount: { value: '10' } } }, 422, 'VALIDATION_FAILED', 'amount'],
    ];
    for (const [options, status, code, field] of cases) {
      expectProblem(await call('POST', path, options), status, code, field);
    }
    expectProblem(
      await call('POST', path, { body: { kind: 'deposit', amount: '1' }, user: 'bob' }),
      404,
      'PORTFOLIO_NOT_FOUND',
    );
    expect(await stateOf(p.id)).toEqual(before);
  });
});

describe('transactions and voids', () => {
  it('lists the ledger newest first, paginated, filtered by kinds', async () => {
    const p = await createPortfolio({ initialCash: '1000' });
    for (let i = 1; i <= 3; i++) {
      await t.clock.advance(1000);
      await call('POST', `/portfolios/${p.id}/cash`, { body: { kind: 'deposit', amount: `${i}` } });
    }
    await t.clock.advance(1000);
    await call('POST', `/portfolios/${p.id}/trades`, { body: { symbol: 'AAPL', side: 'buy', quantity: '1' } });

    const amounts: string[] = [];
    let cursor: string | null = null;
    do {
      const answer = await call(
        'GET',
        `/portfolios/${p.id}/transactions?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(answer.status, answer.text).toBe(200);
      for (const tx of answer.body.items as Transaction[]) {
        expect(tx.amount).toMatch(DECIMAL);
        amounts.push(tx.amount);
      }
      cursor = answer.body.nextCursor;
    } while (cursor !== null);
    expect(amounts).toEqual(['-150.25', '3', '2', '1', '1000']);

    const deposits = await call('GET', `/portfolios/${p.id}/transactions?kinds=deposit`);
    expect(deposits.body.items.map((tx: Transaction) => tx.kind)).toEqual(['deposit', 'deposit', 'deposit', 'deposit']);
    const both = await call('GET', `/portfolios/${p.id}/transactions?kinds=buy,%20withdrawal,buy`);
    expect(both.body.items.map((tx: Transaction) => tx.kind)).toEqual(['buy']);

    for (const q of ['kinds=gift', 'kinds=', 'kinds=,', 'limit=501', 'limit=0', 'limit=NaN', 'cursor=%00', 'page=2']) {
      expectProblem(await call('GET', `/portfolios/${p.id}/transactions?${q}`), 422, 'VALIDATION_FAILED');
    }
    expectProblem(await call('GET', `/portfolios/${p.id}/transactions`, { user: 'bob' }), 404, 'PORTFOLIO_NOT_FOUND');
  });

  it('voids an entry (200, twice the same answer), 404 for an unknown entry, 409 when a later entry needs it', async () => {
    const p = await createPortfolio({ initialCash: '0' });
    const deposit = (await call('POST', `/portfolios/${p.id}/cash`, { body: { kind: 'deposit', amount: '500' } }))
      .body as Transaction;
    await t.clock.advance(1000);
    const extra = (await call('POST', `/portfolios/${p.id}/cash`, { body: { kind: 'deposit', amount: '50' } }))
      .body as Transaction;
    await t.clock.advance(1000);
    await call('POST', `/portfolios/${p.id}/trades`, { body: { symbol: 'AAPL', side: 'buy', quantity: '3' } });

    const voidPath = (id: string) => `/portfolios/${p.id}/transactions/${id}/void`;
    const before = await stateOf(p.id);
    expectProblem(await call('POST', voidPath(deposit.id)), 409, 'INSUFFICIENT_CASH');
    expectProblem(await call('POST', voidPath('tx_missing')), 404, 'NOT_FOUND');
    expectProblem(
      await call('POST', voidPath(extra.id), { body: { idempotencyKey: 'v' } }),
      422,
      'VALIDATION_FAILED',
      'idempotencyKey',
    );
    expectProblem(await call('POST', voidPath(extra.id), { raw: '{' }), 400, 'MALFORMED_JSON');
    expectProblem(await call('POST', voidPath(extra.id), { user: 'bob' }), 404, 'PORTFOLIO_NOT_FOUND');
    expect(await stateOf(p.id)).toEqual(before);

    const voided = await call('POST', voidPath(extra.id), { headers: { 'idempotency-key': 'void-1' } });
    expect(voided.status, voided.text).toBe(200);
    expect(voided.body).toMatchObject({ id: extra.id, amount: '50', voidKey: 'void-1' });
    expect(voided.body.voidedAt).toMatch(/Z$/);
    const again = await call('POST', voidPath(extra.id), { body: {}, headers: { 'idempotency-key': 'void-1' } });
    expect(again.status).toBe(200);
    expect(again.text).toBe(voided.text);
    expect((await t.engine.getPortfolio(p.id)).cash).toBe('49.25');
  });
});

describe('Idempotent-Replayed', () => {
  const REPLAYED = 'idempotent-replayed';

  it('marks the replay of a trade, a cash movement and a void, never a first call', async () => {
    const p = await createPortfolio({ initialCash: '1000' });
    const keyed = (key: string) => ({ 'idempotency-key': key });
    const calls: Array<[string, CallOptions, number]> = [
      [
        `/portfolios/${p.id}/trades`,
        { body: { symbol: 'AAPL', side: 'buy', quantity: '1' }, headers: keyed('t1') },
        201,
      ],
      [`/portfolios/${p.id}/cash`, { body: { kind: 'deposit', amount: '5' }, headers: keyed('c1') }, 201],
    ];
    for (const [path, options, status] of calls) {
      const first = await call('POST', path, options);
      expect(first.status, first.text).toBe(status);
      expect(first.headers.get(REPLAYED), path).toBeNull();
      const replay = await call('POST', path, options);
      expect(replay.status).toBe(status);
      expect(replay.text).toBe(first.text);
      expect(replay.headers.get(REPLAYED), path).toBe('true');
    }
    const deposit = (await call('POST', `/portfolios/${p.id}/cash`, { body: { kind: 'deposit', amount: '7' } }))
      .body as Transaction;
    const voidPath = `/portfolios/${p.id}/transactions/${deposit.id}/void`;
    const voided = await call('POST', voidPath, { headers: keyed('v1') });
    expect(voided.status, voided.text).toBe(200);
    expect(voided.headers.get(REPLAYED)).toBeNull();
    const again = await call('POST', voidPath, { headers: keyed('v1') });
    expect(again.status).toBe(200);
    expect(again.text).toBe(voided.text);
    expect(again.headers.get(REPLAYED)).toBe('true');
    // A keyless call is a first call every time.
    const keyless = await call('POST', `/portfolios/${p.id}/cash`, { body: { kind: 'deposit', amount: '1' } });
    expect(keyless.status).toBe(201);
    expect(keyless.headers.get(REPLAYED)).toBeNull();
  });

  it('documents the header on the idempotent routes', () => {
    for (const spec of tradingRoutes.filter((r) => r.idempotent)) {
      const replay = spec.responses.find((r) => r.status < 300);
      expect(replay?.headers?.['Idempotent-Replayed'], spec.operationId).toBeDefined();
    }
  });
});

describe('history', () => {
  it('answers the recorded series, downsampled by interval and filtered by kinds', async () => {
    const p = await createPortfolio({ initialCash: '1000' });
    await call('POST', `/portfolios/${p.id}/trades`, { body: { symbol: 'AAPL', side: 'buy', quantity: '2' } });
    await t.engine.recordSnapshot(p.id);
    await t.clock.advance(3_600_000);
    t.provider.setPrice('AAPL', '160');
    await t.engine.recordSnapshot(p.id);
    await t.clock.advance(3_600_000);
    await t.engine.recordSnapshot(p.id, 'daily');

    const raw = await call('GET', `/portfolios/${p.id}/history`);
    expect(raw.status, raw.text).toBe(200);
    expect(raw.body).toMatchObject({ portfolioId: p.id, interval: 'raw', truncated: false });
    expect(raw.body.items.length).toBeGreaterThanOrEqual(3);
    for (const s of raw.body.items) expect(s.totalValue).toMatch(DECIMAL);
    expect(raw.body.items.at(-1)).toMatchObject({
      kind: 'daily',
      marketValue: '320',
      cash: '699.5',
      totalValue: '1019.5',
    });

    const daily = await call('GET', `/portfolios/${p.id}/history?interval=1d&from=2026-01-01&to=2026-01-05`);
    expect(daily.status).toBe(200);
    expect(daily.body.items).toHaveLength(1);
    expect(daily.body).toMatchObject({ from: '2026-01-01T00:00:00.000Z', to: '2026-01-05T23:59:59.999Z' });

    const intervalOnly = await call('GET', `/portfolios/${p.id}/history?kinds=interval`);
    expect(intervalOnly.body.items.map((s: { kind: string }) => s.kind)).toEqual(['interval', 'interval']);
    const limited = await call('GET', `/portfolios/${p.id}/history?limit=1`);
    expect(limited.body).toMatchObject({ truncated: true });
    expect(limited.body.items).toHaveLength(1);
  });

  it('refuses bad ranges and parameters', async () => {
    const p = await createPortfolio();
    const path = `/portfolios/${p.id}/history`;
    expectProblem(
      await call('GET', `${path}?interval=1h&from=2024-01-01&to=2026-01-01`),
      422,
      'RANGE_TOO_LARGE',
      'from',
    );
    expectProblem(await call('GET', `${path}?from=2026-01-05&to=2026-01-01`), 422, 'VALIDATION_FAILED', 'from');
    for (const q of [
      'interval=1w',
      'kinds=weekly',
      'limit=Infinity',
      'limit=10001',
      'from=soon',
      'to=1e309',
      'foo=1',
    ]) {
      expectProblem(await call('GET', `${path}?${q}`), 422, 'VALIDATION_FAILED');
    }
    expectProblem(await call('GET', path, { user: 'bob' }), 404, 'PORTFOLIO_NOT_FOUND');
  });
});

describe('watchlist', () => {
  it('adds, lists and removes symbols; unknown or malformed symbols change nothing', async () => {
    const p = await createPortfolio();
    const path = `/portfolios/${p.id}/watchlist`;
    expect((await call('GET', path)).body).toEqual({ items: [] });

    const added = await call('POST', path, { body: { symbol: ' msft ' } });
    expect(added.status, added.text).toBe(200);
    expect(added.body.items.map((i: { symbol: string }) => i.symbol)).toEqual(['MSFT']);
    const twice = await call('POST', path, { body: { symbol: 'MSFT' } });
    expect(twice.body.items).toHaveLength(1);
    await call('POST', path, { body: { symbol: 'AAPL' } });

    const before = await stateOf(p.id);
    expectProblem(await call('POST', path, { body: { symbol: 'ZZZZ' } }), 422, 'UNKNOWN_SYMBOL', 'symbol');
    expectProblem(await call('POST', path, { body: { symbol: '$$$' } }), 422, 'VALIDATION_FAILED', 'symbol');
    expectProblem(await call('POST', path, { body: { symbol: 'MSFT', note: 'x' } }), 422, 'VALIDATION_FAILED', 'note');
    expectProblem(await call('POST', path, { body: { symbol: 7 } }), 422, 'VALIDATION_FAILED', 'symbol');
    expectProblem(await call('POST', path, { raw: '[' }), 400, 'MALFORMED_JSON');
    expectProblem(await call('POST', path, { body: { symbol: 'NVDA' }, user: 'bob' }), 404, 'PORTFOLIO_NOT_FOUND');
    expectProblem(await call('DELETE', `${path}/MSFT`, { user: 'bob' }), 404, 'PORTFOLIO_NOT_FOUND');
    expectProblem(await call('GET', path, { user: 'bob' }), 404, 'PORTFOLIO_NOT_FOUND');
    expectProblem(await call('DELETE', `${path}/${encodeURIComponent('a b')}`), 422, 'VALIDATION_FAILED', 'symbol');
    t.provider.failing = true;
    expectProblem(await call('POST', path, { body: { symbol: 'NVDA' } }), 503, 'PRICE_UNAVAILABLE');
    t.provider.failing = false;
    expect(await stateOf(p.id)).toEqual(before);

    const removed = await call('DELETE', `${path}/msft`);
    expect(removed.status).toBe(200);
    expect(removed.body.items.map((i: { symbol: string }) => i.symbol)).toEqual(['AAPL']);
    const absent = await call('DELETE', `${path}/MSFT`);
    expect(absent.status).toBe(200);
    expect(absent.body.items).toHaveLength(1);
  });
});

describe('prices', () => {
  it('one symbol, several, unknown ones listed as missing', async () => {
    const one = await call('GET', '/prices/aapl');
    expect(one.status, one.text).toBe(200);
    expect(one.body).toEqual({
      symbol: 'AAPL',
      price: '150.25',
      at: '2026-01-05T10:00:00.000Z',
      source: 'test',
      stale: false,
    });

    const many = await call('GET', '/prices?symbols=MSFT,zzzz,AAPL,msft');
    expect(many.status).toBe(200);
    expect(many.body).toEqual({
      items: [
        expect.objectContaining({ symbol: 'MSFT', price: '300.5' }),
        expect.objectContaining({ symbol: 'AAPL', price: '150.25' }),
      ],
      missing: ['ZZZZ'],
    });

    expectProblem(await call('GET', '/prices/ZZZZ'), 422, 'UNKNOWN_SYMBOL', 'symbol');
    expectProblem(await call('GET', '/prices/%24%24'), 422, 'VALIDATION_FAILED', 'symbol');
    const tooMany = Array.from({ length: MAX_PRICE_SYMBOLS + 1 }, (_, i) => `S${i}`).join(',');
    expectProblem(await call('GET', `/prices?symbols=${tooMany}`), 422, 'VALIDATION_FAILED', 'symbols');
    expectProblem(await call('GET', '/prices'), 422, 'VALIDATION_FAILED', 'symbols');
    expectProblem(await call('GET', '/prices?symbols=,,'), 422, 'VALIDATION_FAILED', 'symbols');
    expectProblem(await call('GET', '/prices?symbols=AAPL,b%20c'), 422, 'VALIDATION_FAILED');
    expectProblem(await call('GET', '/prices/AAPL', { user: null }), 401, 'UNAUTHORIZED');
  });

  it('a provider outage: the last known price flagged stale, else 503', async () => {
    expect((await call('GET', '/prices/AAPL')).status).toBe(200);
    t.provider.failing = true;
    await t.clock.advance(60_000);
    const stale = await call('GET', '/prices/AAPL');
    expect(stale.status).toBe(200);
    expect(stale.body).toMatchObject({ price: '150.25', stale: true });
    expectProblem(await call('GET', '/prices/MSFT'), 503, 'PRICE_UNAVAILABLE');
    const status = await call('GET', '/prices/status');
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ name: 'test', healthy: false, lastError: { code: 'PROVIDER_UNAVAILABLE' } });
    expect(status.body.lastError).not.toHaveProperty('message');
  });

  it("/prices/status is the provider's health, not a symbol", async () => {
    const status = await call('GET', '/prices/status');
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ name: 'test', healthy: true, errors: 0 });
    expectProblem(await call('GET', '/prices/status', { user: null }), 401, 'UNAUTHORIZED');
  });

  it('daily history of a symbol, with its range checked', async () => {
    t.provider.setHistory('AAPL', [
      { day: '2026-01-02', close: '148.1', open: '147', high: '149', low: '146.5', volume: '1000' },
      { day: '2025-12-31', close: '146.9' },
    ]);
    const answer = await call('GET', '/prices/aapl/history?from=2025-12-01&to=2026-01-04');
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toEqual({
      symbol: 'AAPL',
      source: 'test',
      bars: [
        { day: '2025-12-31', close: '146.9' },
        { day: '2026-01-02', close: '148.1', open: '147', high: '149', low: '146.5', volume: '1000' },
      ],
    });
    expectProblem(await call('GET', '/prices/AAPL/history?from=2026-01-04'), 422, 'VALIDATION_FAILED', 'to');
    expectProblem(
      await call('GET', '/prices/AAPL/history?from=2026-1-4&to=2026-01-04'),
      422,
      'VALIDATION_FAILED',
      'from',
    );
    expectProblem(
      await call('GET', '/prices/AAPL/history?from=2026-01-04&to=2026-01-01'),
      422,
      'VALIDATION_FAILED',
      'from',
    );
    expectProblem(
      await call('GET', '/prices/AAPL/history?from=2026-01-01&to=2030-01-01'),
      422,
      'VALIDATION_FAILED',
      'to',
    );
    expectProblem(await call('GET', '/prices/AAPL/history?from=2000-01-01&to=2026-01-01'), 422, 'RANGE_TOO_LARGE');
    expectProblem(await call('GET', '/prices/ZZZZ/history?from=2026-01-01&to=2026-01-02'), 422, 'UNKNOWN_SYMBOL');
  });
});

describe('health', () => {
  it('answers 200 while the store answers, without credentials', async () => {
    const answer = await call('GET', '/health', { user: null });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body).toMatchObject({
      status: 'ok',
      closed: false,
      store: { ok: true },
      scheduler: { running: false, jobs: [] },
      provider: { name: 'test', healthy: true },
    });
  });

  it('answers 503 once the engine and its store are closed, without error messages', async () => {
    await t.close();
    const answer = await call('GET', '/health', { user: null });
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ status: 'unavailable', closed: true, store: { ok: false } });
    expect(answer.body.store).not.toHaveProperty('error');
    expect(answer.text).not.toMatch(/closed store|Error:|stack/i);
  });

  it('answers 503 when only the store stops answering', async () => {
    await t.store.close();
    const answer = await call('GET', '/health', { user: null });
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ status: 'unavailable', closed: false, store: { ok: false } });
  });
});

describe('credentials', () => {
  it('every user route answers 401 without credentials, and health does not need them', async () => {
    const p = await createPortfolio();
    for (const spec of MY_ROUTES) {
      const path = spec.path.replace(':id', p.id).replace(':transactionId', 'tx_1').replace(':symbol', 'AAPL');
      const answer = await call(spec.method.toUpperCase(), path, { user: null });
      if (spec.policy === 'public') expect(answer.status, path).toBe(200);
      else expectProblem(answer, 401, 'UNAUTHORIZED');
    }
    expect((await t.engine.getPortfolio(p.id)).name).toBe('Main');
  });
});
