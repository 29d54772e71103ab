/**
 * The backtest routes over real HTTP (127.0.0.1) on a real SQLite file store, with the runner the
 * router creates (worker threads) or one the host passes: 202 then the run succeeds with exactly
 * core's `runBacktest` result; 422 naming the field (nothing stored); another user's run answers
 * as a missing one; the list pages newest first without results; a full queue, or a caller at their
 * share of it (`maxQueuedPerOwner`), is 429 with `Retry-After`; cancel; compare; and HTTP requests
 * keep answering while a long backtest runs in the worker (proved by order: every answer came while the run was still `running`).
 */
import {
  type BacktestProgressEvent,
  type BacktestRunner,
  createBacktestRunner,
  type DailyBar,
  runBacktest,
} from '@foliokit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, type ServedRouter, serveRouter, syntheticBars } from './support/served-router.js';

/** 40 symbols × 5,000 weekday bars from 2000: long enough that a run is still going after many requests. */
const LONG_SYMBOLS = Array.from({ length: 40 }, (_, i) => `L${String(i).padStart(2, '0')}`);
const LONG_HISTORY: Record<string, DailyBar[]> = Object.fromEntries(
  LONG_SYMBOLS.map((symbol, i) => [symbol, syntheticBars('2000-01-03', 5000, i)]),
);
const LONG_PRICES = Object.fromEntries(LONG_SYMBOLS.map((symbol) => [symbol, '100']));
const LONG_REQUEST = {
  strategy: 'sma-cross',
  params: { fast: 3, slow: 8 },
  symbols: LONG_SYMBOLS,
  from: '2000-01-03',
  to: '2019-12-31',
  initialCash: '1000000',
};

const SHORT_REQUEST = {
  strategy: 'sma-cross',
  params: { fast: 2, slow: 3 },
  symbols: ['AAA', 'BBB'],
  from: '2025-03-03',
  to: '2025-03-18',
  initialCash: '10000',
  commission: { fixed: '1', rate: '0.001' },
};

/** Resolves at the first progress event of a run whose id `id()` answers (subscribe before submitting). */
function firstProgress(s: ServedRouter, id: () => string | undefined): Promise<BacktestProgressEvent> {
  return new Promise((resolve) => {
    const off = s.engine.on('backtest.progress', (e) => {
      if (e.runId === id() && e.done > 0) {
        off();
        resolve(e);
      }
    });
  });
}

/** A problem body without its request id, ids replaced. */
function comparable(a: Answer, ...ids: string[]): string {
  let text = JSON.stringify({ ...a.body, requestId: undefined });
  for (const id of ids) text = text.replaceAll(id, '<ID>');
  return text;
}

describe('backtests on the router’s own runner (worker threads)', () => {
  let s: ServedRouter;
  let runner: BacktestRunner;

  beforeAll(async () => {
    s = await serveRouter({ history: LONG_HISTORY, prices: LONG_PRICES });
    runner = s.router.deps.backtests;
  });
  afterAll(async () => {
    await s.close();
  });

  it('answers 202 with the link, and the run succeeds with exactly runBacktest’s result', async () => {
    const res = await s.request('POST', '/backtests', { json: SHORT_REQUEST });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      id: expect.any(String),
      status: 'queued',
      links: { self: `/backtests/${res.body.id}` },
    });
    expect(res.headers.get('location')).toBe(`/backtests/${res.body.id}`);
    await runner.wait(res.body.id);
    const run = await s.request('GET', res.body.links.self);
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ id: res.body.id, kind: 'single', status: 'succeeded', error: null });
    expect(run.body.progress.done).toBe(run.body.progress.total);
    const expected = await runBacktest({ ...SHORT_REQUEST, marketData: s.engine.marketData });
    expect(run.body.result).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(run.body.result.fills.length).toBeGreaterThan(0);
    expect(typeof run.body.result.finalValue).toBe('string');
  });

  it('refuses bad input with 422 naming the field, and stores nothing', async () => {
    const before = (await runner.list({ limit: 100 })).items.length;
    const cases: Array<[unknown, string]> = [
      [{ ...SHORT_REQUEST, params: { fast: 0 } }, 'params.fast'],
      [{ ...SHORT_REQUEST, to: '2026-02-01' }, 'to'],
      [{ ...SHORT_REQUEST, strategy: 'no-such-strategy' }, 'strategy'],
      [{ ...SHORT_REQUEST, initialCash: '-5' }, 'initialCash'],
      [{ ...SHORT_REQUEST, symbols: [] }, 'symbols'],
      [{ ...SHORT_REQUEST, ownerId: 'bob' }, 'ownerId'],
      [{ ...SHORT_REQUEST, symbols: ['AAA', 'NOPE'] }, 'symbols.1'],
    ];
    for (const [json, field] of cases) {
      const res = await s.request('POST', '/backtests', { json });
      expect(res.status, field).toBe(422);
      expect(res.body.code, field).toBe(field === 'symbols.1' ? 'UNKNOWN_SYMBOL' : 'VALIDATION_FAILED');
      expect(res.body.fields[0].path, field).toBe(field);
    }
    expect((await runner.list({ limit: 100 })).items.length).toBe(before);
  });

  it("answers another user's run exactly as a missing one (get and cancel)", async () => {
    const res = await s.request('POST', '/backtests', { json: SHORT_REQUEST });
    const id = res.body.id as string;
    await runner.wait(id);
    const missing = `${id.slice(0, -1)}${id.endsWith('0') ? '1' : '0'}`;
    for (const [method, suffix] of [
      ['GET', ''],
      ['POST', '/cancel'],
    ] as const) {
      const theirs = await s.request(method, `/backtests/${id}${suffix}`, { user: 'bob' });
      const none = await s.request(method, `/backtests/${missing}${suffix}`, { user: 'bob' });
      expect(theirs.status, method).toBe(404);
      expect(theirs.body.code).toBe('NOT_FOUND');
      expect(comparable(theirs, id, missing)).toBe(comparable(none, id, missing));
    }
    expect((await s.request('GET', `/backtests/${id}`)).body.status).toBe('succeeded');
    const bobs = await s.request('GET', '/backtests', { user: 'bob' });
    expect(bobs.body).toEqual({ items: [], nextCursor: null });
  });

  it("lists the caller's runs newest first, in pages, without results", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await s.request('POST', '/backtests', { user: 'lister', json: SHORT_REQUEST });
      ids.push(res.body.id);
    }
    for (const id of ids) await runner.wait(id);
    const first = await s.request('GET', '/backtests?limit=2', { user: 'lister' });
    expect(first.status).toBe(200);
    expect(first.body.items.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[1]]);
    expect(first.body.items[0].result).toBeUndefined();
    expect(first.body.items[0].links.self).toBe(`/backtests/${ids[2]}`);
    const second = await s.request('GET', `/backtests?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`, {
      user: 'lister',
    });
    expect(second.body.items.map((r: { id: string }) => r.id)).toEqual([ids[0]]);
    expect(second.body.nextCursor).toBeNull();
    const failed = await s.request('GET', '/backtests?status=failed', { user: 'lister' });
    expect(failed.body.items).toEqual([]);
    const bad = await s.request('GET', '/backtests?status=done', { user: 'lister' });
    expect(bad.status).toBe(422);
    expect(bad.body.fields[0].path).toMatch(/^status/);
  });

  it('compares variants on the same bars', async () => {
    const { strategy: _s, params: _p, ...shared } = SHORT_REQUEST;
    const res = await s.request('POST', '/backtests/compare', {
      json: {
        ...shared,
        variants: [
          { label: 'fast', strategy: 'sma-cross', params: { fast: 1, slow: 2 } },
          { label: 'slow', strategy: 'sma-cross', params: { fast: 2, slow: 3 } },
          { strategy: 'buy-and-hold' },
        ],
      },
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/backtests/${res.body.id}`);
    await runner.wait(res.body.id);
    const run = await s.request('GET', `/backtests/${res.body.id}`);
    expect(run.body).toMatchObject({ kind: 'compare', status: 'succeeded' });
    const variants = run.body.result.variants as Array<{ label: string; result: unknown }>;
    expect(variants.map((v) => v.label).slice(0, 2)).toEqual(['fast', 'slow']);
    expect(variants).toHaveLength(3);
    const slow = await runBacktest({ ...SHORT_REQUEST, marketData: s.engine.marketData });
    expect(variants[1]?.result).toEqual(JSON.parse(JSON.stringify(slow)));
    const one = await s.request('POST', '/backtests/compare', {
      json: { ...shared, variants: [{ strategy: 'momentum' }] },
    });
    expect(one.status).toBe(422);
    expect(one.body.fields[0].path).toBe('variants');
  });

  it('keeps answering HTTP requests while a long backtest runs in the worker', async () => {
    let id: string | undefined;
    const started = firstProgress(s, () => id);
    const res = await s.request('POST', '/backtests', { user: 'long', json: LONG_REQUEST });
    expect(res.status).toBe(202);
    id = res.body.id as string;
    await started;
    const seen: string[] = [];
    for (let i = 0; i < 50; i++) {
      const answer = await s.request('GET', `/backtests/${id}`, { user: 'long' });
      expect(answer.status).toBe(200);
      seen.push(answer.body.status);
    }
    // the run was still going after the last answer: every answer above came while it ran
    const after = await runner.get(id);
    expect(after.status).toBe('running');
    expect(after.progress.done).toBeLessThan(after.progress.total);
    expect(seen.every((status) => status === 'running')).toBe(true);
    expect(runner.stats().mode).toBe('worker');

    const cancelled = await s.request('POST', `/backtests/${id}/cancel`, { user: 'long' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(cancelled.body.error.code).toEqual(expect.any(String));
    const final = await runner.wait(id);
    expect(final.status).toBe('cancelled');
    // a final run is answered as it is
    const again = await s.request('POST', `/backtests/${id}/cancel`, { user: 'long', json: {} });
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('cancelled');
  });
});

describe('a full queue', () => {
  let s: ServedRouter;
  let runner: BacktestRunner;

  beforeAll(async () => {
    s = await serveRouter({
      history: LONG_HISTORY,
      prices: LONG_PRICES,
      router: (t) => {
        runner = createBacktestRunner(t.engine, { concurrency: 1, maxQueued: 1 });
        return { backtests: runner };
      },
    });
  });
  afterAll(async () => {
    await s.close();
    await runner.close();
  });

  it('answers 429 QUEUE_FULL with Retry-After for a full runner and for a caller at their share, storing nothing', async () => {
    let first: string | undefined;
    const started = firstProgress(s, () => first);
    const a = await s.request('POST', '/backtests', { json: LONG_REQUEST });
    expect(a.status).toBe(202);
    first = a.body.id as string;
    await started;
    // alice holds the running run: with maxQueued 1 she may hold only that one (her share is 1)
    const own = await s.request('POST', '/backtests', { json: SHORT_REQUEST });
    expect(own.status).toBe(429);
    expect(own.body).toMatchObject({ code: 'QUEUE_FULL', scope: 'owner', maxQueuedPerOwner: 1, held: 1 });
    expect(Number(own.headers.get('retry-after'))).toBeGreaterThan(0);
    // another user takes the one waiting place; a third finds the runner full
    const b = await s.request('POST', '/backtests', { json: SHORT_REQUEST, user: 'bob' });
    expect(b.status).toBe(202);
    const c = await s.request('POST', '/backtests', { json: SHORT_REQUEST, user: 'carol' });
    expect(c.status).toBe(429);
    expect(c.body.code).toBe('QUEUE_FULL');
    expect(c.body.scope).toBe('runner');
    expect(c.headers.get('content-type')).toBe('application/problem+json');
    expect(Number(c.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await runner.list({ limit: 100 })).items.map((r) => r.id).sort()).toEqual([a.body.id, b.body.id].sort());

    // the router did not create (or close) a runner of its own: the host's is the one in use
    expect(s.router.deps.backtests).toBe(runner);
    await s.request('POST', `/backtests/${first}/cancel`);
    expect((await runner.wait(b.body.id)).status).toBe('succeeded');
  });
});
