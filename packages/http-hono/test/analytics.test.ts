/**
 * The analytics routes (issue #12) through `app.request` on the real router over a real engine
 * (memory store, manual clock at 2026-01-05, test provider with a year of daily closes).
 *
 * Checked per route: the happy path (status, shape, amounts as decimal strings, statistics as
 * numbers), bad input (422 problem+json naming the field: query numbers are read from digits only,
 * unknown fields refused, the engine's own range checks surface with their field), another user's
 * portfolio (404, as a missing one), and the OpenAPI document listing every route under `Analytics`.
 */
import type { DailyBar } from '@foliokit/core';
import { createTestEngine, type TestEngine } from '@foliokit/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFoliokitRouter, type FoliokitRouter } from '../src/router.js';
import { analyticsRoutes } from '../src/routes/analytics.js';

/** A decimal string as the API writes one: plain notation, no exponent. */
const DECIMAL = /^-?\d+(\.\d+)?$/;

const resolve = async (request: Request) => {
  const userId = request.headers.get('x-test-user');
  return userId === null ? null : { userId, roles: [] };
};

/** Weekdays from `from` to `to`, inclusive. */
function weekdays(from: string, to: string): string[] {
  const out: string[] = [];
  for (let ms = Date.parse(`${from}T00:00:00Z`); ms <= Date.parse(`${to}T00:00:00Z`); ms += 86_400_000) {
    const wd = new Date(ms).getUTCDay();
    if (wd !== 0 && wd !== 6) out.push(new Date(ms).toISOString().slice(0, 10));
  }
  return out;
}

/** Deterministic closes: a drift and two sine waves of different periods per symbol (never random). */
function history(symbols: Record<string, { start: number; drift: number; wave: number }>): Record<string, DailyBar[]> {
  const days = weekdays('2024-12-01', '2026-01-02');
  const out: Record<string, DailyBar[]> = {};
  for (const [symbol, s] of Object.entries(symbols)) {
    out[symbol] = days.map((day, i) => {
      const close = s.start * (1 + s.drift * i) * (1 + s.wave * Math.sin(i / 3) + (s.wave / 2) * Math.cos(i / 7));
      return { day, close: close.toFixed(4) };
    });
  }
  return out;
}

const HISTORY = history({
  AAPL: { start: 140, drift: 0.0004, wave: 0.03 },
  MSFT: { start: 380, drift: 0.0002, wave: 0.02 },
  BND: { start: 72, drift: 0.00005, wave: 0.004 },
});

interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are read field by field
  body: any;
  text: string;
}

let t: TestEngine;
let app: FoliokitRouter;
let mine: string;

async function call(
  method: string,
  path: string,
  options: { user?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { 'x-test-user': options.user ?? 'alice', ...options.headers };
  const init: RequestInit = { method, headers };
  if (options.body !== undefined) {
    init.body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const response = await app.request(path, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? null : JSON.parse(text), text };
}

/** Asserts a problem+json answer with `status` and `code`, naming `field` when given. */
function expectProblem(answer: Answer, status: number, code: string, field?: string): void {
  expect({ status: answer.status, code: answer.body?.code }, answer.text).toEqual({ status, code });
  expect(answer.headers.get('content-type')).toContain('application/problem+json');
  if (field !== undefined) {
    const fields = (answer.body.fields ?? []).map((f: { path: string }) => f.path);
    expect(fields, answer.text).toContain(field);
  }
}

beforeEach(async () => {
  t = createTestEngine({ prices: { AAPL: '150', MSFT: '400', BND: '72' }, history: HISTORY });
  app = createFoliokitRouter(t.engine, {
    auth: { resolve },
    rateLimits: { trades: { windowMs: 60_000, max: 100_000 }, market: { windowMs: 60_000, max: 100_000 } },
  });
  const p = await t.engine.createPortfolio({ name: 'Main', ownerId: 'alice', initialCash: '10000' });
  mine = p.id;
  await t.engine.trade(mine, { symbol: 'AAPL', side: 'buy', quantity: '20' });
  await t.engine.trade(mine, { symbol: 'MSFT', side: 'buy', quantity: '10' });
});

afterEach(async () => {
  await app.close();
  await t.close();
});

describe('GET /portfolios/:id/performance', () => {
  it('answers the report: statistics as numbers or null with a reason, gains as decimal strings', async () => {
    const res = await call('GET', `/portfolios/${mine}/performance?period=ytd&riskFreeRate=0.03&interval=1d`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.portfolioId).toBe(mine);
    expect(res.body.period).toBe('ytd');
    expect(res.body.twr.method).toBe('ttwror');
    for (const amount of Object.values(res.body.gain)) expect(amount).toMatch(DECIMAL);
    const cumulative = res.body.twr.cumulative;
    if (cumulative === null) expect(typeof res.body.twr.reason).toBe('string');
    else expect(typeof cumulative).toBe('number');
    expect(Array.isArray(res.body.series)).toBe(true);
  });

  it('refuses a malformed number, an unknown period, an unknown parameter and the engine range (422 naming the field)', async () => {
    const base = `/portfolios/${mine}/performance`;
    expectProblem(await call('GET', `${base}?riskFreeRate=1e-2`), 422, 'VALIDATION_FAILED', 'riskFreeRate');
    expectProblem(await call('GET', `${base}?riskFreeRate=Infinity`), 422, 'VALIDATION_FAILED', 'riskFreeRate');
    expectProblem(await call('GET', `${base}?period=2y`), 422, 'VALIDATION_FAILED', 'period');
    expectProblem(await call('GET', `${base}?from=2026-1-1`), 422, 'VALIDATION_FAILED', 'from');
    expectProblem(await call('GET', `${base}?colour=red`), 422, 'VALIDATION_FAILED', 'colour');
    expectProblem(await call('GET', `${base}?riskFreeRate=11`), 422, 'VALIDATION_FAILED', 'riskFreeRate');
    expectProblem(await call('GET', `${base}?period=ytd&from=2025-06-01`), 422, 'VALIDATION_FAILED', 'period');
  });
});

describe('GET /portfolios/:id/risk', () => {
  it('answers VaR and expected shortfall as decimal strings, with the parameters read from the query', async () => {
    const res = await call(
      'GET',
      `/portfolios/${mine}/risk?confidence=0.99&horizonDays=10&lookbackDays=365&method=all&paths=1000&seed=7`,
    );
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ portfolioId: mine, confidence: 0.99, horizonDays: 10, lookbackDays: 365 });
    expect(res.body.value).toMatch(DECIMAL);
    expect(res.body.monteCarlo).toMatchObject({ paths: 1000, seed: 7 });
    for (const estimate of [res.body.historical, res.body.parametric, res.body.monteCarlo]) {
      if (estimate.var === null) expect(typeof estimate.reason).toBe('string');
      else expect(estimate.var).toMatch(DECIMAL);
    }
    expect(res.body.historical.var).toMatch(DECIMAL);
  });

  it('refuses bad parameters (422 naming the field)', async () => {
    const base = `/portfolios/${mine}/risk`;
    expectProblem(await call('GET', `${base}?confidence=abc`), 422, 'VALIDATION_FAILED', 'confidence');
    expectProblem(await call('GET', `${base}?horizonDays=1.5`), 422, 'VALIDATION_FAILED', 'horizonDays');
    expectProblem(await call('GET', `${base}?paths=1e4`), 422, 'VALIDATION_FAILED', 'paths');
    expectProblem(await call('GET', `${base}?method=magic`), 422, 'VALIDATION_FAILED', 'method');
    expectProblem(await call('GET', `${base}?confidence=0.2`), 422, 'VALIDATION_FAILED', 'confidence');
    expectProblem(await call('GET', `${base}?lookbackDays=5`), 422, 'VALIDATION_FAILED', 'lookbackDays');
  });
});

describe('targets and drift', () => {
  it('stores targets with PUT, answers them with GET, and measures the drift in decimal strings', async () => {
    const empty = await call('GET', `/portfolios/${mine}/targets`);
    expect(empty.status, empty.text).toBe(200);
    expect(empty.body).toEqual({ items: [] });

    const body = { targets: [{ symbol: 'aapl', weight: '0.5' }, { symbol: 'MSFT', weight: 0.3 }, { symbol: 'BND' }] };
    const put = await call('PUT', `/portfolios/${mine}/targets`, { body });
    expect(put.status, put.text).toBe(200);
    const symbols = put.body.items.map((i: { symbol: string }) => i.symbol).sort();
    expect(symbols).toEqual(['AAPL', 'BND', 'MSFT']);
    for (const item of put.body.items) expect(item.weight).toMatch(DECIMAL);

    const get = await call('GET', `/portfolios/${mine}/targets`);
    expect(get.body).toEqual(put.body);

    const drift = await call('GET', `/portfolios/${mine}/drift`);
    expect(drift.status, drift.text).toBe(200);
    expect(drift.body.portfolioId).toBe(mine);
    expect(drift.body.totalValue).toMatch(DECIMAL);
    expect(drift.body.positions.length).toBeGreaterThan(0);
    for (const row of drift.body.positions) {
      expect(row.targetWeight).toMatch(DECIMAL);
      expect(row.difference).toMatch(DECIMAL);
    }
  });

  it('refuses bad targets (422 naming the field) and stores nothing', async () => {
    const path = `/portfolios/${mine}/targets`;
    expectProblem(
      await call('PUT', path, { body: { targets: [{ symbol: 'AAPL', weight: 'lots' }] } }),
      422,
      'VALIDATION_FAILED',
    );
    expectProblem(
      await call('PUT', path, { body: { targets: [{ symbol: 'AAPL', share: '1' }] } }),
      422,
      'VALIDATION_FAILED',
      'targets.0.share',
    );
    expectProblem(await call('PUT', path, { body: { items: [] } }), 422, 'VALIDATION_FAILED', 'items');
    expectProblem(
      await call('PUT', path, { body: { targets: [{ symbol: 'AAPL', weight: '1.5' }] } }),
      422,
      'VALIDATION_FAILED',
    );
    expect((await call('GET', path)).body).toEqual({ items: [] });
  });
});

describe('POST /portfolios/:id/rebalance', () => {
  async function setTargets(): Promise<void> {
    const res = await call('PUT', `/portfolios/${mine}/targets`, {
      body: {
        targets: [
          { symbol: 'AAPL', weight: '0.3' },
          { symbol: 'MSFT', weight: '0.3' },
          { symbol: 'BND', weight: '0.3' },
        ],
      },
    });
    expect(res.status, res.text).toBe(200);
  }

  it('plans without trading on dryRun: orders in decimal strings', async () => {
    await setTargets();
    const before = await t.engine.listTransactions(mine, { limit: 100 });
    const res = await call('POST', `/portfolios/${mine}/rebalance`, { body: { dryRun: true, fractional: false } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.orders.length).toBeGreaterThan(0);
    for (const order of res.body.orders) {
      expect(['buy', 'sell']).toContain(order.side);
      for (const amount of [order.quantity, order.price, order.value]) expect(amount).toMatch(DECIMAL);
    }
    expect(res.body.transactions).toBeUndefined();
    expect(await t.engine.listTransactions(mine, { limit: 100 })).toEqual(before);
  });

  it('executes the plan; a retry with the same Idempotency-Key trades nothing twice', async () => {
    await setTargets();
    const headers = { 'idempotency-key': 'rebalance-1' };
    const first = await call('POST', `/portfolios/${mine}/rebalance`, { body: { fractional: false }, headers });
    expect(first.status, first.text).toBe(200);
    expect(first.body.transactions.length).toBe(first.body.orders.length);
    expect(first.body.transactions.length).toBeGreaterThan(0);
    expect(first.body.replayed).toBe(false);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    for (const tx of first.body.transactions) {
      expect(tx.quantity).toMatch(DECIMAL);
      expect(tx.idempotencyKey).toMatch(/^rebalance:/);
    }
    const count = (await t.engine.listTransactions(mine, { limit: 100 })).items.length;

    // the holdings are on target now: the retry plans nothing, so nothing is traded again
    const again = await call('POST', `/portfolios/${mine}/rebalance`, { body: { fractional: false }, headers });
    expect(again.status, again.text).toBe(200);
    expect(again.body.orders).toEqual([]);
    expect(again.body.transactions).toEqual([]);
    expect((await t.engine.listTransactions(mine, { limit: 100 })).items.length).toBe(count);
  });

  it('refuses bad options and an idempotency key in the body (422 naming the field)', async () => {
    const path = `/portfolios/${mine}/rebalance`;
    expectProblem(await call('POST', path, { body: { dryRun: 'yes' } }), 422, 'VALIDATION_FAILED', 'dryRun');
    expectProblem(
      await call('POST', path, { body: { idempotencyKey: 'k' } }),
      422,
      'VALIDATION_FAILED',
      'idempotencyKey',
    );
    expectProblem(
      await call('POST', path, { body: { dryRun: true, threshold: '-1' } }),
      422,
      'VALIDATION_FAILED',
      'threshold',
    );
  });
});

describe('POST /analytics/optimize', () => {
  it('answers long-only weights summing to 1 as decimal strings', async () => {
    const res = await call('POST', '/analytics/optimize', {
      body: { symbols: ['AAPL', 'MSFT', 'BND'], objective: 'min-variance', lookbackDays: 365, maxWeight: 0.8 },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.objective).toBe('min-variance');
    expect(res.body.weights, res.text).not.toBeNull();
    let units = 0;
    for (const w of res.body.weights) {
      expect(w.weight).toMatch(DECIMAL);
      units += Math.round(Number(w.weight) * 1e6);
    }
    expect(units).toBe(1e6);
    expect(typeof res.body.volatility).toBe('number');
  });

  it('refuses bad input (422 naming the field)', async () => {
    const path = '/analytics/optimize';
    expectProblem(
      await call('POST', path, { body: { symbols: ['AAPL', 'MSFT'], objective: 'max-return' } }),
      422,
      'VALIDATION_FAILED',
      'objective',
    );
    expectProblem(
      await call('POST', path, { body: { symbols: ['AAPL'], objective: 'min-variance' } }),
      422,
      'VALIDATION_FAILED',
      'symbols',
    );
    expectProblem(
      await call('POST', path, { body: { symbols: ['AAPL', 'MSFT'], objective: 'min-variance', lookbackDays: '365' } }),
      422,
      'VALIDATION_FAILED',
      'lookbackDays',
    );
    expectProblem(
      await call('POST', path, { body: { symbols: ['AAPL', 'MSFT'], objective: 'min-variance', maxWeight: 2 } }),
      422,
      'VALIDATION_FAILED',
      'maxWeight',
    );
  });
});

describe('ownership and the document', () => {
  it("answers 404 on another user's portfolio, as on a missing one, on every owned analytics route", async () => {
    const theirs = (await t.engine.createPortfolio({ name: 'Bob', ownerId: 'bob', initialCash: '100' })).id;
    const bodies: Record<string, unknown> = {
      'put /portfolios/:id/targets': { targets: [] },
      'post /portfolios/:id/rebalance': { dryRun: true },
    };
    for (const spec of analyticsRoutes.filter((r) => r.owned)) {
      const res = await call(spec.method.toUpperCase(), spec.path.replace(':id', theirs), {
        body: bodies[`${spec.method} ${spec.path}`],
      });
      expectProblem(res, 404, 'PORTFOLIO_NOT_FOUND');
    }
    expect(await t.engine.getTargets(theirs)).toEqual([]);
  });

  it('lists every analytics route in the OpenAPI document under the Analytics tag, with an example', async () => {
    const res = await call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    const tags = (res.body.tags as Array<{ name: string }>).map((tag) => tag.name);
    expect(tags).toContain('Analytics');
    for (const spec of analyticsRoutes) {
      const path = spec.path.replace(/:(\w+)/g, '{$1}');
      const op = res.body.paths[path]?.[spec.method];
      expect(op, `${spec.method} ${path}`).toBeDefined();
      expect(op.tags).toEqual(['Analytics']);
      expect(op.responses['200'].content['application/json'].example).toBeDefined();
      if (spec.body) expect(op.requestBody.content['application/json'].example).toBeDefined();
    }
  });
});
