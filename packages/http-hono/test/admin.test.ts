/**
 * The admin routes through the real router (`app.request`) on a real engine (memory store, manual
 * clock, test provider with daily history): the policy matrix (no caller 401, user 403, admin
 * 2xx), daily snapshots, backfill jobs (running → completed with progress and the report, a
 * failing one → failed with a problem), refusals before any job, the bounded job registry, the
 * scheduler and provider status, and the metrics in JSON and Prometheus text.
 */
import type { DailyBar, MarketDataProvider, Portfolio } from '@foliokit/core';
import { createTestEngine, listAllSnapshots, type TestEngine } from '@foliokit/core/testing';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AdminJob, createAdminJobs } from '../src/admin-jobs.js';
import { PROMETHEUS_CONTENT_TYPE } from '../src/metrics.js';
import { createFoliokitRouter, type FoliokitRouter, listRoutes } from '../src/router.js';
import { wantsPrometheus } from '../src/routes/admin.js';

/** Callers from test headers: `x-test-user` and `x-test-roles` (comma separated). */
const resolve = async (request: Request) => {
  const userId = request.headers.get('x-test-user');
  if (userId === null) return null;
  const roles = request.headers.get('x-test-roles');
  return { userId, roles: roles ? roles.split(',') : [] };
};

const ADMIN = { 'x-test-user': 'root', 'x-test-roles': 'admin' };
const USER = { 'x-test-user': 'alice', 'x-test-roles': 'trader' };
const NOBODY = {};

/** Daily closes of a symbol for every day of December 2025 (close = 100 + day of month). */
function decemberBars(): DailyBar[] {
  const bars: DailyBar[] = [];
  for (let d = 1; d <= 31; d++) bars.push({ day: `2025-12-${String(d).padStart(2, '0')}`, close: String(100 + d) });
  return bars;
}

/**
 * The test provider behind a gate on daily history: while held, `getDailyHistory` waits, so a
 * backfill job is observably running (no sleeping, no timing).
 */
function gated(inner: MarketDataProvider) {
  let open: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  const provider: MarketDataProvider = {
    name: inner.name,
    getQuotes: (symbols, options) => inner.getQuotes(symbols, options),
    async getDailyHistory(symbol, range, options) {
      await gate;
      return inner.getDailyHistory(symbol, range, options);
    },
  };
  return {
    provider,
    hold() {
      gate = new Promise<void>((r) => {
        open = r;
      });
    },
    release: () => open(),
  };
}

let t: TestEngine;
let gate: ReturnType<typeof gated>;
let app: FoliokitRouter;

function makeApp(): FoliokitRouter {
  return createFoliokitRouter(t.engine, {
    auth: { resolve },
    rateLimits: { admin: { windowMs: 60_000, max: 1_000_000 } },
  });
}

beforeEach(() => {
  const base = createTestEngine({ prices: { AAPL: '150' }, history: { AAPL: decemberBars() } });
  gate = gated(base.provider);
  // A second engine on the same memory store and clock, reading history through the gate.
  t = createTestEngine({ store: base.store, clock: base.clock, provider: base.provider, marketData: gate.provider });
  const closeBase = base.close;
  const closeGated = t.close;
  t.close = async () => {
    await closeGated();
    await closeBase();
  };
  app = makeApp();
});

afterEach(async () => {
  gate.release();
  await app.close();
  await t.close();
});

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers are checked field by field
  json: any;
}

async function call(
  method: 'GET' | 'POST',
  path: string,
  headers: Record<string, string>,
  body?: unknown,
  on: Hono = app,
): Promise<Answer> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await on.request(path, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A portfolio with December history: cash from Dec 1, 10 AAPL bought Dec 10. */
async function portfolioWithHistory(ownerId = 'alice'): Promise<Portfolio> {
  const { engine } = t;
  const p = await engine.createPortfolio({
    name: 'Backdated',
    ownerId,
    initialCash: '10000',
    initialCashAt: '2025-12-01T12:00:00.000Z',
  });
  await engine.trade(p.id, {
    symbol: 'AAPL',
    side: 'buy',
    quantity: '10',
    price: '110',
    at: '2025-12-10T15:00:00.000Z',
  });
  return p;
}

/** Polls a job until it is no longer running (bounded by turns of the event loop, not by time). */
async function settled(path: string, on: Hono = app): Promise<Answer> {
  for (let i = 0; i < 10_000; i++) {
    const a = await call('GET', path, ADMIN, undefined, on);
    if (a.status !== 200 || a.json.status !== 'running') return a;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`job at ${path} still running`);
}

describe('admin policy', () => {
  const routes = [
    ['POST', '/admin/snapshots/daily', {}],
    ['POST', '/admin/portfolios/:pf/backfill', { from: '2025-12-01', to: '2025-12-31' }],
    ['POST', '/admin/backfill', { from: '2025-12-01', to: '2025-12-31' }],
    ['GET', '/admin/jobs/:job', undefined],
    ['GET', '/admin/scheduler', undefined],
    ['GET', '/admin/providers', undefined],
    ['GET', '/admin/metrics', undefined],
  ] as const;

  it('lists every admin route in the router table with policy admin and the admin rate limit', () => {
    const admin = listRoutes(app).filter((r) => r.path.startsWith('/admin'));
    expect(admin.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort()).toEqual(
      routes.map(([m, p]) => `${m} ${p.replace(':pf', ':id').replace(':job', ':id')}`).sort(),
    );
    for (const r of admin) {
      expect(r.policy, r.path).toBe('admin');
      expect(r.rateLimit, r.path).toBe('admin');
      expect(r.tag, r.path).toBe('Admin');
      expect(r.owned ?? false, r.path).toBe(false);
    }
  });

  it('answers 401 without a caller, 403 to a user, and 2xx to an admin on every admin route', async () => {
    const p = await portfolioWithHistory();
    const started = await call('POST', `/admin/portfolios/${p.id}/backfill`, ADMIN, {
      from: '2025-12-01',
      to: '2025-12-02',
    });
    expect(started.status).toBe(202);
    for (const [method, pattern, body] of routes) {
      const path = pattern.replace(':pf', p.id).replace(':job', started.json.id);
      const anonymous = await call(method, path, NOBODY, body);
      expect(anonymous.status, `${method} ${path} anonymous`).toBe(401);
      expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
      expect(anonymous.headers.get('www-authenticate')).toContain('Bearer');
      const user = await call(method, path, USER, body);
      expect(user.status, `${method} ${path} user`).toBe(403);
      expect(user.json.code).toBe('FORBIDDEN');
      const admin = await call(method, path, ADMIN, body);
      expect([200, 202], `${method} ${path} admin`).toContain(admin.status);
    }
  });
});

describe('POST /admin/snapshots/daily', () => {
  it('records one daily snapshot per portfolio for the day and answers 200 with the report', async () => {
    const { engine, store } = t;
    const a = await engine.createPortfolio({ name: 'A', ownerId: 'alice', initialCash: '1000' });
    const b = await engine.createPortfolio({ name: 'B', ownerId: 'bob', initialCash: '500' });
    await engine.trade(b.id, { symbol: 'AAPL', side: 'buy', quantity: '2' });

    const res = await call('POST', '/admin/snapshots/daily', ADMIN, { day: '2026-01-05' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ day: '2026-01-05', processed: 2, succeeded: 2, failedCount: 0, failed: [] });
    const daily = await listAllSnapshots(store, { kinds: ['daily'] });
    expect(daily.map((s) => [s.portfolioId, s.day]).sort()).toEqual(
      [
        [a.id, '2026-01-05'],
        [b.id, '2026-01-05'],
      ].sort(),
    );
    expect(daily.find((s) => s.portfolioId === b.id)?.totalValue).toBe('500');

    // A rerun replaces, never duplicates.
    expect((await call('POST', '/admin/snapshots/daily', ADMIN, { day: '2026-01-05' })).status).toBe(200);
    expect(await listAllSnapshots(store, { kinds: ['daily'] })).toHaveLength(2);
  });

  it('defaults to yesterday (UTC) with an empty body or none', async () => {
    await t.engine.createPortfolio({ name: 'A', initialCash: '1', initialCashAt: '2026-01-01T00:00:00.000Z' });
    const empty = await call('POST', '/admin/snapshots/daily', ADMIN, {});
    expect(empty.status).toBe(200);
    expect(empty.json.day).toBe('2026-01-04');
    const none = await call('POST', '/admin/snapshots/daily', ADMIN);
    expect(none.status).toBe(200);
    expect(none.json.day).toBe('2026-01-04');
  });

  it('refuses a malformed day, a future day and unknown fields with a 422 problem', async () => {
    for (const body of [{ day: '2026-1-5' }, { day: 20260105 }, { day: '2026-01-06' }, { day: '2026-01-05', x: 1 }]) {
      const res = await call('POST', '/admin/snapshots/daily', ADMIN, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.json.code).toBe('VALIDATION_FAILED');
      expect(res.json.fields.length).toBeGreaterThan(0);
    }
    expect(await listAllSnapshots(t.store, { kinds: ['daily'] })).toHaveLength(0);
  });
});

describe('backfill jobs', () => {
  it('runs a portfolio backfill as a job: 202 + Location, running with progress, then completed with the report', async () => {
    const p = await portfolioWithHistory();
    gate.hold();
    const res = await call('POST', `/admin/portfolios/${p.id}/backfill`, ADMIN, {
      from: '2025-12-01',
      to: '2025-12-31',
    });
    expect(res.status).toBe(202);
    // Long work answers { id, status, links: { self } } (HTTP.md), nothing more.
    expect(Object.keys(res.json).sort()).toEqual(['id', 'links', 'status']);
    expect(res.json).toMatchObject({ status: 'running' });
    const jobId = res.json.id as string;
    expect(jobId).toMatch(/^job_/);
    expect(res.headers.get('location')).toBe(`/admin/jobs/${jobId}`);
    expect(res.json.links.self).toBe(`/admin/jobs/${jobId}`);

    const running = await call('GET', `/admin/jobs/${jobId}`, ADMIN);
    expect(running.status).toBe(200);
    expect(running.json).toMatchObject({
      id: jobId,
      kind: 'backfill',
      status: 'running',
      portfolioId: p.id,
      finishedAt: null,
      progress: { unit: 'days', done: 0, total: 31 },
    });
    expect(running.json.report).toBeUndefined();
    expect(running.json.error).toBeUndefined();

    gate.release();
    const done = await settled(`/admin/jobs/${jobId}`);
    expect(done.json).toMatchObject({
      id: jobId,
      status: 'completed',
      progress: { unit: 'days', done: 31, total: 31 },
      report: { portfolioId: p.id, from: '2025-12-01', to: '2025-12-31', firstDay: '2025-12-01', written: 31 },
    });
    expect(done.json.finishedAt).toEqual(expect.any(String));
    const rows = await t.store.listSnapshots(p.id, { kinds: ['backfill'] });
    expect(rows).toHaveLength(31);
    // Dec 31: 10000 − 1100 cash + 10 × 131.
    expect(rows.find((r) => r.day === '2025-12-31')?.totalValue).toBe('10210');
  });

  it('backfills every portfolio as a job, counting portfolios', async () => {
    await portfolioWithHistory('alice');
    await portfolioWithHistory('bob');
    const res = await call('POST', '/admin/backfill', ADMIN, { from: '2025-12-01', to: '2025-12-31' });
    expect(res.status).toBe(202);
    const done = await settled(res.headers.get('location') as string);
    expect(done.json).toMatchObject({
      kind: 'backfill-all',
      status: 'completed',
      portfolioId: null,
      progress: { unit: 'portfolios', done: 2, total: 2 },
      report: { processed: 2, succeeded: 2, written: 62, failedCount: 0 },
    });
  });

  it('puts the mount point in Location when the router is mounted under a prefix', async () => {
    const host = new Hono();
    host.route('/api', app);
    const p = await portfolioWithHistory();
    const res = await call(
      'POST',
      `/api/admin/portfolios/${p.id}/backfill`,
      ADMIN,
      { from: '2025-12-01', to: '2025-12-02' },
      host,
    );
    expect(res.status).toBe(202);
    const location = res.headers.get('location') as string;
    expect(location).toBe(`/api/admin/jobs/${res.json.id}`);
    expect((await settled(location, host)).json.status).toBe('completed');
  });

  it('marks a job that fails mid-run as failed, with a problem body', async () => {
    const p = await portfolioWithHistory();
    // The provider is down and the store keeps no December closes: history cannot price AAPL.
    t.provider.failing = true;
    const res = await call('POST', `/admin/portfolios/${p.id}/backfill`, ADMIN, {
      from: '2025-12-01',
      to: '2025-12-31',
    });
    expect(res.status).toBe(202);
    const failed = await settled(`/admin/jobs/${res.json.id}`);
    expect(failed.status).toBe(200);
    expect(failed.json).toMatchObject({
      status: 'failed',
      progress: { unit: 'days', done: 0, total: 31 },
      error: {
        type: 'urn:foliokit:problem:price-unavailable',
        title: 'Price unavailable',
        status: 503,
        code: 'PRICE_UNAVAILABLE',
        requestId: expect.any(String),
      },
    });
    expect(failed.json.error.detail).toContain('AAPL');
    expect(failed.json.report).toBeUndefined();
    expect(await t.store.listSnapshots(p.id, { kinds: ['backfill'] })).toHaveLength(0);
  });

  it('answers a refused backfill at once, with no job: bad range, too large, unknown portfolio', async () => {
    const p = await portfolioWithHistory();
    t.events.length = 0;
    const cases: Array<[string, unknown, number, string]> = [
      [`/admin/portfolios/${p.id}/backfill`, { from: '2025-12-31', to: '2025-12-01' }, 422, 'VALIDATION_FAILED'],
      [`/admin/portfolios/${p.id}/backfill`, { from: '2025-12-01', to: '2026-02-01' }, 422, 'VALIDATION_FAILED'],
      [`/admin/portfolios/${p.id}/backfill`, { from: '2010-01-01', to: '2025-12-31' }, 422, 'RANGE_TOO_LARGE'],
      [`/admin/portfolios/${p.id}/backfill`, { from: '2025-12-01' }, 422, 'VALIDATION_FAILED'],
      [`/admin/portfolios/${p.id}/backfill`, { from: '2025-12-01', to: '2025-12-31', x: 1 }, 422, 'VALIDATION_FAILED'],
      ['/admin/portfolios/pf_missing/backfill', { from: '2025-12-01', to: '2025-12-31' }, 404, 'PORTFOLIO_NOT_FOUND'],
      ['/admin/backfill', { from: '2025-12-31', to: '2025-12-01' }, 422, 'VALIDATION_FAILED'],
      ['/admin/backfill', { from: '2010-01-01', to: '2025-12-31' }, 422, 'RANGE_TOO_LARGE'],
    ];
    for (const [path, body, status, code] of cases) {
      const res = await call('POST', path, ADMIN, body);
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(status);
      expect(res.json.code).toBe(code);
      expect(res.headers.get('location')).toBeNull();
    }
    expect(t.events.filter((e) => e.type.startsWith('backfill.'))).toEqual([]);
  });

  it('lets an admin backfill any user’s portfolio (admin routes are not owned)', async () => {
    const p = await portfolioWithHistory('someone-else');
    const res = await call('POST', `/admin/portfolios/${p.id}/backfill`, ADMIN, {
      from: '2025-12-01',
      to: '2025-12-05',
    });
    expect(res.status).toBe(202);
    expect((await settled(`/admin/jobs/${res.json.id}`)).json.report.written).toBe(5);
  });

  it('answers 404 for an unknown job id', async () => {
    const res = await call('GET', '/admin/jobs/job_nope', ADMIN);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.json.code).toBe('NOT_FOUND');
  });
});

describe('createAdminJobs', () => {
  it('keeps the last 100 jobs, forgetting finished ones before running ones', async () => {
    const jobs = createAdminJobs(t.engine);
    let finishFirst: (v: unknown) => void = () => {};
    const first = await new Promise<AdminJob>((accept) => {
      void jobs
        .start({
          kind: 'backfill-all',
          portfolioId: null,
          requestId: 'r0',
          run: () => {
            // Reports progress, then waits: a job that is still running.
            queueMicrotask(() =>
              t.engine.emit({ type: 'backfill.progress', portfolioId: null, unit: 'portfolios', done: 0, total: null }),
            );
            return new Promise((r) => {
              finishFirst = r;
            });
          },
        })
        .then(accept);
    });
    expect(first.status).toBe('running');
    const finished: AdminJob[] = [];
    for (let i = 0; i < 100; i++) {
      finished.push(
        await jobs.start({
          kind: 'backfill',
          portfolioId: `pf_${i}`,
          requestId: `r${i + 1}`,
          run: async () => ({ i }),
        }),
      );
    }
    expect(finished.every((j) => j.status === 'completed')).toBe(true);
    // 101 started: the oldest finished one went, the older running one stayed.
    expect(jobs.get(first.id)?.status).toBe('running');
    expect(jobs.get((finished[0] as AdminJob).id)).toBeUndefined();
    expect(jobs.get((finished[1] as AdminJob).id)?.report).toEqual({ i: 1 });
    expect(jobs.running()).toBe(1);
    finishFirst({ ok: true });
    await new Promise((r) => setImmediate(r));
    expect(jobs.get(first.id)).toMatchObject({ status: 'completed', report: { ok: true } });
  });

  it('rejects, and keeps nothing, when the run fails before any progress', async () => {
    const jobs = createAdminJobs(t.engine, { maxJobs: 5 });
    const failing = jobs.start({
      kind: 'backfill',
      portfolioId: 'pf_x',
      requestId: 'r',
      run: async () => {
        throw new Error('driver said no');
      },
    });
    await expect(failing).rejects.toMatchObject({ name: 'FoliokitError', code: 'STORE_ERROR' });
    expect(jobs.running()).toBe(0);
  });
});

describe('GET /admin/scheduler and /admin/providers', () => {
  it("answers the engine's scheduler status", async () => {
    const res = await call('GET', '/admin/scheduler', ADMIN);
    expect(res.status).toBe(200);
    expect(res.json).toEqual(JSON.parse(JSON.stringify(t.engine.getSchedulerStatus())));
    t.engine.startScheduler();
    const started = await call('GET', '/admin/scheduler', ADMIN);
    expect(started.json.running).toBe(true);
    expect(started.json.jobs.map((j: { name: string }) => j.name)).toContain('daily-snapshots');
    await t.engine.stopScheduler();
  });

  it("answers the provider's status, errors included", async () => {
    await t.engine.refreshPrices(['AAPL']);
    t.provider.failing = true;
    await t.engine.refreshPrices(['AAPL']).catch(() => undefined);
    const res = await call('GET', '/admin/providers', ADMIN);
    expect(res.status).toBe(200);
    expect(res.json).toEqual(JSON.parse(JSON.stringify(t.engine.getProviderStatus())));
    expect(res.json).toMatchObject({ name: 'test', healthy: false });
    expect(res.json.errors).toBeGreaterThan(0);
  });
});

describe('GET /admin/metrics', () => {
  it('answers JSON by default and the Prometheus text format when asked', async () => {
    const p = await t.engine.createPortfolio({ name: 'M', initialCash: '1000' });
    await t.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: '1' });
    await call('GET', '/admin/jobs/job_a', ADMIN);
    await call('GET', '/admin/jobs/job_b', ADMIN);

    const json = await call('GET', '/admin/metrics', ADMIN);
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toContain('application/json');
    expect(json.json.foliokit_trades_total.samples).toEqual([{ labels: { side: 'buy' }, value: 1 }]);
    // The route pattern labels requests, never the raw URL.
    const routes = json.json.foliokit_http_requests_total.samples.map(
      (s: { labels: { route: string } }) => s.labels.route,
    );
    expect(routes).toContain('/admin/jobs/:id');
    expect(routes.some((r: string) => r.includes('job_a'))).toBe(false);
    expect(json.json.foliokit_http_requests_total.samples).toContainEqual({
      labels: { route: '/admin/jobs/:id', method: 'GET', status: '404' },
      value: 2,
    });

    for (const [query, accept] of [
      ['?format=prometheus', undefined],
      ['', 'text/plain'],
      ['', 'application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1'],
    ] as const) {
      const text = await call('GET', `/admin/metrics${query}`, { ...ADMIN, ...(accept ? { accept } : {}) });
      expect(text.status, `${query} ${accept}`).toBe(200);
      expect(text.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
      expect(text.text).toContain('# TYPE foliokit_trades_total counter');
      expect(text.text).toContain('foliokit_trades_total{side="buy"} 1');
      expect(text.text).toContain(
        'foliokit_http_request_duration_seconds_bucket{route="/admin/jobs/:id",method="GET",status="404",le="+Inf"} 2',
      );
    }
    const forcedJson = await call('GET', '/admin/metrics?format=json', { ...ADMIN, accept: 'text/plain' });
    expect(forcedJson.headers.get('content-type')).toContain('application/json');
    const axios = await call('GET', '/admin/metrics', { ...ADMIN, accept: 'application/json, text/plain, */*' });
    expect(axios.headers.get('content-type')).toContain('application/json');
    const bad = await call('GET', '/admin/metrics?format=xml', ADMIN);
    expect(bad.status).toBe(422);
  });
});

describe('wantsPrometheus', () => {
  it('lets format decide, else Accept by quality with ties to JSON', () => {
    expect(wantsPrometheus('prometheus', 'application/json')).toBe(true);
    expect(wantsPrometheus('json', 'text/plain')).toBe(false);
    expect(wantsPrometheus(undefined, undefined)).toBe(false);
    expect(wantsPrometheus(undefined, '*/*')).toBe(false);
    expect(wantsPrometheus(undefined, 'text/plain')).toBe(true);
    expect(wantsPrometheus(undefined, 'text/plain; version=0.0.4')).toBe(true);
    expect(wantsPrometheus(undefined, 'application/json;q=0.9, text/plain')).toBe(true);
    expect(wantsPrometheus(undefined, 'application/json, text/plain;q=0.9')).toBe(false);
    expect(wantsPrometheus(undefined, 'text/plain;q=abc')).toBe(false);
  });
});
