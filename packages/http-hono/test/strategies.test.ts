/**
 * The strategy routes over real HTTP (127.0.0.1) on a real SQLite file store: the list, a
 * strategy's detail (JSON Schema of its params, defaults, the caller's saved params), saving
 * params per user (B never sees A's), and signals over core's CSV fixtures (equal to core's
 * `getSignals`, with the caller's saved params by default or `params` from the query), the range
 * cap, the latest signal per symbol, and a failing provider answering 503 (never placeholder data).
 */
import { getSignals } from '@foliokit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServedRouter, serveRouter, syntheticBars } from './support/served-router.js';

let s: ServedRouter;

beforeAll(async () => {
  // LONG: weekdays from 2024-06-03 to after the clock's today (2026-01-05): the latest bars are recent
  s = await serveRouter({ history: { LONG: syntheticBars('2024-06-03', 420, 0) } });
});
afterAll(async () => {
  await s.close();
});

describe('strategies', () => {
  it('lists the registered strategies', async () => {
    const res = await s.request('GET', '/strategies');
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    const names = res.body.items.map((i: { name: string }) => i.name);
    expect(names).toEqual(expect.arrayContaining(['sma-cross', 'momentum', 'mean-reversion', 'buy-and-hold']));
    expect(res.body.items.find((i: { name: string }) => i.name === 'sma-cross')).toEqual({
      name: 'sma-cross',
      description: expect.any(String),
      builtIn: true,
    });
  });

  it('describes a strategy with its params JSON Schema and defaults', async () => {
    const res = await s.request('GET', '/strategies/sma-cross', { user: 'erin' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'sma-cross', builtIn: true, saved: false, updatedAt: null });
    expect(res.body.defaults).toEqual({ fast: 10, slow: 30 });
    expect(res.body.params).toEqual({ fast: 10, slow: 30 });
    expect(res.body.paramsSchema.type).toBe('object');
    expect(Object.keys(res.body.paramsSchema.properties)).toEqual(expect.arrayContaining(['fast', 'slow']));
    const missing = await s.request('GET', '/strategies/no-such-strategy');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('NOT_FOUND');
  });

  it("saves params per user: B does not see A's", async () => {
    const saved = await s.request('PUT', '/strategies/sma-cross/params', {
      user: 'alice',
      json: { params: { fast: 2 } },
    });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ strategy: 'sma-cross', params: { fast: 2, slow: 30 }, saved: true });
    expect(saved.body.updatedAt).toBe('2026-01-05T10:00:00.000Z');
    const a = await s.request('GET', '/strategies/sma-cross', { user: 'alice' });
    expect(a.body).toMatchObject({ params: { fast: 2, slow: 30 }, saved: true });
    const b = await s.request('GET', '/strategies/sma-cross', { user: 'bob' });
    expect(b.body).toMatchObject({ params: { fast: 10, slow: 30 }, saved: false });

    const bad = await s.request('PUT', '/strategies/sma-cross/params', {
      user: 'alice',
      json: { params: { fast: 0 } },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.fields[0].path).toBe('params.fast');
    expect((await s.request('GET', '/strategies/sma-cross', { user: 'alice' })).body.params).toEqual({
      fast: 2,
      slow: 30,
    });
    const unknown = await s.request('PUT', '/strategies/nope/params', { json: { params: {} } });
    expect(unknown.status).toBe(404);
  });
});

describe('signals', () => {
  const range = 'symbols=AAA,BBB&from=2025-03-03&to=2025-03-18';

  it("answers core's getSignals over the fixtures, with the caller's saved params by default", async () => {
    await s.request('PUT', '/strategies/sma-cross/params', { user: 'frank', json: { params: { fast: 2, slow: 3 } } });
    const res = await s.request('GET', `/strategies/sma-cross/signals?${range}`, { user: 'frank' });
    expect(res.status).toBe(200);
    const expected = await getSignals(s.engine, 'sma-cross', {
      symbols: ['AAA', 'BBB'],
      from: '2025-03-03',
      to: '2025-03-18',
      params: { fast: 2, slow: 3 },
    });
    expect(res.body).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(
      res.body.rows
        .flatMap((r: { cells: Array<{ signal: string | null }> }) => r.cells)
        .some((c: { signal: string | null }) => c.signal !== null),
    ).toBe(true);
    // another user without saved params gets the defaults
    const other = await s.request('GET', `/strategies/sma-cross/signals?${range}`, { user: 'gina' });
    expect(other.body.params).toEqual({ fast: 10, slow: 30 });
  });

  it('takes params from the query instead of the saved ones', async () => {
    const params = encodeURIComponent(JSON.stringify({ fast: 1, slow: 2 }));
    const res = await s.request('GET', `/strategies/sma-cross/signals?${range}&params=${params}`, { user: 'frank' });
    expect(res.status).toBe(200);
    expect(res.body.params).toEqual({ fast: 1, slow: 2 });
    const bad = await s.request('GET', `/strategies/sma-cross/signals?${range}&params=%5B1%5D`);
    expect(bad.status).toBe(422);
    expect(bad.body.fields[0].path).toBe('params');
    const badValue = await s.request(
      'GET',
      `/strategies/sma-cross/signals?${range}&params=${encodeURIComponent('{"fast":0}')}`,
    );
    expect(badValue.status).toBe(422);
    expect(badValue.body.fields[0].path).toBe('params.fast');
  });

  it('caps the range (RANGE_TOO_LARGE) and names bad query fields', async () => {
    const big = await s.request('GET', '/strategies/sma-cross/signals?symbols=AAA&from=2010-01-01&to=2025-01-01');
    expect(big.status).toBe(422);
    expect(big.body.code).toBe('RANGE_TOO_LARGE');
    const noSymbols = await s.request('GET', '/strategies/sma-cross/signals?from=2025-03-03&to=2025-03-18');
    expect(noSymbols.status).toBe(422);
    expect(noSymbols.body.fields[0].path).toBe('symbols');
  });

  it('answers the latest signal per symbol over the look-back window', async () => {
    const res = await s.request('GET', '/strategies/sma-cross/signals/latest?symbols=LONG', { user: 'frank' });
    expect(res.status).toBe(200);
    const full = await getSignals(s.engine, 'sma-cross', {
      symbols: ['LONG'],
      from: '2024-12-02',
      to: '2026-01-05',
      params: { fast: 2, slow: 3 },
    });
    const cells = full.rows[0]?.cells ?? [];
    const last = cells.at(-1);
    const lastSignal = [...cells].reverse().find((c) => c.signal !== null) ?? null;
    expect(res.body.from).toBe('2024-12-02');
    expect(res.body.to).toBe('2026-01-05');
    expect(res.body.items).toEqual([
      { symbol: 'LONG', day: last?.day, signal: last?.signal, strength: last?.strength, lastSignal },
    ]);
    expect(lastSignal).not.toBeNull();
  });

  it('answers 503 when the provider fails, never placeholder data', async () => {
    s.provider.failing = true;
    try {
      const res = await s.request('GET', `/strategies/sma-cross/signals?${range}`);
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      const latest = await s.request('GET', '/strategies/sma-cross/signals/latest?symbols=LONG');
      expect(latest.status).toBe(503);
    } finally {
      s.provider.failing = false;
    }
  });
});
