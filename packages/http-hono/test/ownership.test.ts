/**
 * Ownership and policies, over the router's own route table (`listRoutes(router)`), so a route added
 * later is covered without touching this file:
 * - every route declares a policy, and every `user` route with an `:id` is `owned`;
 * - on every owned route × every method, another user (an admin too) gets 404, with the same body
 *   as for a missing id, and nothing changes (no event, same state); the owner gets through;
 * - every admin route answers 403 to a user; every non-public route answers 401 without a token;
 * - stream routes (`/stream/portfolios/:id`) included.
 * A real engine (memory store, manual clock); callers are resolved by `auth: { resolve }`.
 */
import type { Portfolio } from '@foliokit/core';
import { createTestEngine, type TestEngine } from '@foliokit/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyRouteSpec } from '../src/route-table.js';
import { createFoliokitRouter, type FoliokitRouter, listRoutes } from '../src/router.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
type Method = (typeof METHODS)[number];

/** Callers, resolved from test headers: `x-test-user`, and `x-test-roles` (comma separated). */
const resolve = async (request: Request) => {
  const userId = request.headers.get('x-test-user');
  if (userId === null) return null;
  const roles = request.headers.get('x-test-roles');
  return { userId, roles: roles ? roles.split(',') : [] };
};

const ALICE = { 'x-test-user': 'alice' };
const BOB = { 'x-test-user': 'bob' };
const ROOT = { 'x-test-user': 'root', 'x-test-roles': 'admin' };

/** Plausible valid bodies of known write routes, so a refusal is about ownership, not input. */
const BODIES: Record<string, unknown> = {
  'post /portfolios/:id/trades': { symbol: 'AAPL', side: 'buy', quantity: '1' },
  'post /portfolios/:id/cash': { kind: 'withdrawal', amount: '10' },
  'patch /portfolios/:id': { name: 'Taken over' },
  'post /portfolios/:id/watchlist': { symbol: 'MSFT' },
  'put /portfolios/:id/targets': { targets: [{ symbol: 'AAPL', weight: '0.5' }] },
  'post /portfolios/:id/rebalance': { dryRun: true },
};

/** What fills a path parameter other than `:id`. */
interface Fixture {
  transactionId: string;
  symbol: string;
}

/** The route's path with `:id` = `id` and the other parameters from the fixture. */
function fill(path: string, id: string, fixture: Fixture): string {
  return path.replace(/:(\w+)/g, (_m, name: string) => {
    if (name === 'id') return id;
    return (fixture as unknown as Record<string, string>)[name] ?? 'x';
  });
}

const key = (method: string, path: string) => `${method} ${path}`;

describe('ownership and policies over the route table', () => {
  let test: TestEngine;
  let app: FoliokitRouter;
  let routes: readonly AnyRouteSpec[];
  let alicePortfolio: Portfolio;
  let fixture: Fixture;
  let missingId: string;

  /** Calls the router; a streaming answer's body is cancelled once its head is read. */
  async function call(
    method: Method,
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<{ status: number; contentType: string; text: string; headers: Headers }> {
    const init: RequestInit = { method: method.toUpperCase(), headers: { ...headers, 'idempotency-key': 'k-1' } };
    if (method === 'post' || method === 'put' || method === 'patch') {
      init.body = JSON.stringify(body ?? {});
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const res = await app.request(path, init);
    const contentType = res.headers.get('content-type') ?? '';
    if (contentType.includes('text/event-stream')) {
      await res.body?.cancel();
      return { status: res.status, contentType, text: '', headers: res.headers };
    }
    return { status: res.status, contentType, text: await res.text(), headers: res.headers };
  }

  /** A problem body with the ids replaced and the request id dropped, to compare two answers. */
  function normalized(text: string): unknown {
    const replaced = text.replaceAll(alicePortfolio.id, '<ID>').replaceAll(missingId, '<ID>');
    const body = JSON.parse(replaced) as Record<string, unknown>;
    delete body.requestId;
    delete body.instance;
    return body;
  }

  /** Everything of Alice's a request could change. */
  async function aliceState() {
    const id = alicePortfolio.id;
    const { engine } = test;
    return {
      portfolio: await engine.getPortfolio(id),
      positions: await engine.getPositions(id),
      transactions: (await engine.listTransactions(id, { limit: 100 })).items,
      watchlist: await engine.getWatchlist(id),
      portfolios: (await engine.listPortfolios({ ownerId: 'alice' })).items.map((p) => p.id),
    };
  }

  beforeAll(async () => {
    test = createTestEngine({ prices: { AAPL: '150', MSFT: '300' } });
    app = createFoliokitRouter(test.engine, {
      auth: { resolve },
      rateLimits: {
        trades: { windowMs: 60_000, max: 1_000_000 },
        market: { windowMs: 60_000, max: 1_000_000 },
        admin: { windowMs: 60_000, max: 1_000_000 },
      },
    });
    routes = listRoutes(app);
    const { engine } = test;
    alicePortfolio = await engine.createPortfolio({ name: 'Alice', ownerId: 'alice', initialCash: '1000' });
    const deposit = await engine.deposit(alicePortfolio.id, { amount: '500' });
    await engine.trade(alicePortfolio.id, { symbol: 'AAPL', side: 'buy', quantity: '2' });
    await engine.addToWatchlist(alicePortfolio.id, 'AAPL');
    await engine.createPortfolio({ name: 'Bob', ownerId: 'bob', initialCash: '10' });
    fixture = { transactionId: deposit.id, symbol: 'AAPL' };
    const last = alicePortfolio.id.at(-1);
    missingId = `${alicePortfolio.id.slice(0, -1)}${last === '0' ? '1' : '0'}`;
  });
  afterAll(async () => {
    await app.close();
    await test.close();
  });

  it('has a table that covers the portfolio stream and the admin routes', () => {
    expect(routes.length).toBeGreaterThan(0);
    const keys = routes.map((r) => key(r.method, r.path));
    expect(keys).toContain('get /stream/portfolios/:id');
    expect(keys).toContain('get /portfolios/:id');
    expect(routes.some((r) => r.policy === 'admin')).toBe(true);
  });

  it('declares a policy on every route, and ownership on every user route with an :id', () => {
    const problems: string[] = [];
    for (const r of routes) {
      if (!['public', 'user', 'admin'].includes(r.policy)) problems.push(`${key(r.method, r.path)}: no policy`);
      if (r.policy === 'user' && r.path.includes(':id') && r.owned !== true) {
        problems.push(`${key(r.method, r.path)}: a user route with an :id that is not owned`);
      }
      if (r.owned && r.policy === 'public') problems.push(`${key(r.method, r.path)}: owned but public`);
    }
    expect(problems).toEqual([]);
  });

  it('answers 404 to another user on every owned route, identical to a missing id, and changes nothing', async () => {
    const owned = routes.filter((r) => r.owned);
    expect(owned.length).toBeGreaterThan(0);
    const before = await aliceState();
    const eventsBefore = test.events.length;
    const failures: string[] = [];
    for (const r of owned) {
      const body = BODIES[key(r.method, r.path)];
      for (const intruder of [BOB, ROOT]) {
        const theirs = await call(r.method, fill(r.path, alicePortfolio.id, fixture), intruder, body);
        const missing = await call(r.method, fill(r.path, missingId, fixture), intruder, body);
        const where = `${key(r.method, r.path)} as ${intruder['x-test-user']}`;
        if (theirs.status !== 404) failures.push(`${where}: ${theirs.status} ${theirs.text.slice(0, 200)}`);
        else if (!theirs.contentType.includes('application/problem+json')) failures.push(`${where}: not problem+json`);
        else if (JSON.stringify(normalized(theirs.text)) !== JSON.stringify(normalized(missing.text))) {
          failures.push(`${where}: body differs from a missing id's\n  ${theirs.text}\n  ${missing.text}`);
        } else if (missing.status !== 404) failures.push(`${where}: a missing id answers ${missing.status}`);
      }
    }
    expect(failures).toEqual([]);
    expect(test.events.length).toBe(eventsBefore);
    expect(await aliceState()).toEqual(before);
  });

  it('answers the same to another user as to a missing id on every method of every owned path', async () => {
    const paths = [...new Set(routes.filter((r) => r.owned).map((r) => r.path))];
    const before = await aliceState();
    const failures: string[] = [];
    for (const path of paths) {
      for (const method of METHODS) {
        const theirs = await call(method, fill(path, alicePortfolio.id, fixture), BOB);
        const missing = await call(method, fill(path, missingId, fixture), BOB);
        const where = key(method, path);
        if (theirs.status !== missing.status) failures.push(`${where}: ${theirs.status} vs missing ${missing.status}`);
        else if (JSON.stringify(normalized(theirs.text)) !== JSON.stringify(normalized(missing.text))) {
          failures.push(`${where}: body differs from a missing id's`);
        }
        if (theirs.status === 403 || (theirs.status >= 200 && theirs.status < 300)) {
          failures.push(`${where}: answered ${theirs.status} to another user`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(await aliceState()).toEqual(before);
  });

  it('lets the owner through every owned route (the 404s above are about ownership)', async () => {
    const failures: string[] = [];
    for (const r of routes.filter((r) => r.owned)) {
      // a fresh portfolio per route, so a DELETE or a trade changes nothing the other checks use
      const own = await test.engine.createPortfolio({ name: 'Own', ownerId: 'alice', initialCash: '1000' });
      const tx = await test.engine.deposit(own.id, { amount: '100' });
      await test.engine.addToWatchlist(own.id, 'AAPL');
      const res = await call(
        r.method,
        fill(r.path, own.id, { ...fixture, transactionId: tx.id }),
        ALICE,
        BODIES[key(r.method, r.path)],
      );
      const code = res.text === '' ? undefined : (JSON.parse(res.text) as { code?: string }).code;
      if (res.status === 401 || res.status === 403 || code === 'PORTFOLIO_NOT_FOUND') {
        failures.push(`${key(r.method, r.path)}: ${res.status} ${res.text.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('does not list or accept another owner over the collection routes', async () => {
    const list = routes.find((r) => r.method === 'get' && r.path === '/portfolios');
    if (list) {
      const res = await call('get', '/portfolios', BOB);
      expect(res.status).toBe(200);
      const ids = (JSON.parse(res.text) as { items: Array<{ id: string }> }).items.map((p) => p.id);
      expect(ids).not.toContain(alicePortfolio.id);
      expect(ids.length).toBeGreaterThan(0);
    }
    const create = routes.find((r) => r.method === 'post' && r.path === '/portfolios');
    if (create) {
      const before = await aliceState();
      const res = await call('post', '/portfolios', BOB, { name: 'Planted', ownerId: 'alice' });
      expect(res.status).toBe(422);
      expect(await aliceState()).toEqual(before);
    }
  });

  it('answers 403 to a user on every admin route', async () => {
    const admin = routes.filter((r) => r.policy === 'admin');
    const failures: string[] = [];
    for (const r of admin) {
      const res = await call(r.method, fill(r.path, alicePortfolio.id, fixture), BOB, {});
      if (res.status !== 403 || !res.contentType.includes('application/problem+json')) {
        failures.push(`${key(r.method, r.path)}: ${res.status}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('answers 401 with WWW-Authenticate on every non-public route without credentials', async () => {
    const failures: string[] = [];
    for (const r of routes.filter((r) => r.policy !== 'public')) {
      const res = await call(r.method, fill(r.path, alicePortfolio.id, fixture), {}, BODIES[key(r.method, r.path)]);
      if (res.status !== 401 || !/^Bearer/i.test(res.headers.get('www-authenticate') ?? '')) {
        failures.push(`${key(r.method, r.path)}: ${res.status}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('serves public routes without credentials', async () => {
    const failures: string[] = [];
    for (const r of routes.filter((r) => r.policy === 'public' && r.method === 'get' && !r.path.includes(':'))) {
      const res = await call('get', r.path, {});
      if (res.status === 401 || res.status === 403) failures.push(`${key(r.method, r.path)}: ${res.status}`);
    }
    expect(failures).toEqual([]);
  });
});
