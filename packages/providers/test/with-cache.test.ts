import { isFoliokitError } from '@foliokit/core';
import { createManualClock } from '@foliokit/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createYahooProvider, withCache } from '../src/index.js';
import { startServer, type TestServer } from './helpers/http-server.js';
import { createScriptedProvider, unavailable } from './helpers/scripted-provider.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('withCache', () => {
  it('coalesces 100 concurrent requests for one symbol into one upstream HTTP call', async () => {
    server.handle(async () => {
      await sleep(30);
      return {
        body: {
          chart: {
            result: [
              { meta: { symbol: 'AAPL', currency: 'USD', regularMarketPrice: 201.5, regularMarketTime: 1741636800 } },
            ],
            error: null,
          },
        },
      };
    });
    const provider = withCache(createYahooProvider({ baseUrl: server.url }));
    const batches = await Promise.all(Array.from({ length: 100 }, () => provider.getQuotes(['AAPL'])));
    expect(server.requests).toHaveLength(1);
    expect(new Set(batches.map((b) => b.quotes.AAPL?.price))).toEqual(new Set(['201.5']));
    await provider.getQuotes(['AAPL']);
    expect(server.requests).toHaveLength(1);
  });

  it('serves quotes for ttlMs, then asks again', async () => {
    const clock = createManualClock();
    const inner = createScriptedProvider('upstream');
    const provider = withCache(inner, { clock, ttlMs: 1000 });
    await provider.getQuotes(['AAPL']);
    clock.set(clock.now() + 999);
    await provider.getQuotes(['AAPL']);
    expect(inner.calls).toHaveLength(1);
    inner.prices.AAPL = '101';
    clock.set(clock.now() + 1);
    expect((await provider.getQuotes(['AAPL'])).quotes.AAPL?.price).toBe('101');
    expect(inner.calls).toHaveLength(2);
  });

  it('asks upstream only for symbols neither cached nor in flight', async () => {
    const inner = createScriptedProvider('upstream', { AAPL: '1', MSFT: '2', KO: '3' });
    const provider = withCache(inner);
    await provider.getQuotes(['AAPL']);
    inner.script = [
      async () => {
        await sleep(20);
        return undefined;
      },
    ];
    const [a, b] = await Promise.all([
      provider.getQuotes(['AAPL', 'MSFT', 'NOPE']),
      provider.getQuotes(['MSFT', 'KO', 'NOPE']),
    ]);
    expect(inner.calls.map((c) => c.symbols)).toEqual([['AAPL'], ['MSFT', 'NOPE'], ['KO']]);
    expect(a).toEqual({ quotes: { AAPL: expect.any(Object), MSFT: expect.any(Object) }, unknown: ['NOPE'] });
    expect(Object.keys(b.quotes)).toEqual(['MSFT', 'KO']);
    expect(b.unknown).toEqual(['NOPE']);
    // Unknown symbols are remembered too.
    await provider.getQuotes(['NOPE']);
    expect(inner.calls).toHaveLength(3);
  });

  it('does not cache failures, and shares a failure with every waiter', async () => {
    const inner = createScriptedProvider('upstream');
    inner.script = [
      async () => {
        await sleep(10);
        throw unavailable();
      },
    ];
    const provider = withCache(inner);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => provider.getQuotes(['AAPL'])));
    expect(
      results.every(
        (r) => r.status === 'rejected' && isFoliokitError(r.reason) && r.reason.code === 'PROVIDER_UNAVAILABLE',
      ),
    ).toBe(true);
    expect(inner.calls).toHaveLength(1);
    expect((await provider.getQuotes(['AAPL'])).quotes.AAPL?.price).toBe('100');
    expect(inner.calls).toHaveLength(2);
  });

  it('never caches nor passes on an invalid price', async () => {
    const inner = createScriptedProvider('upstream', { AAPL: '-5' });
    const provider = withCache(inner);
    await expect(provider.getQuotes(['AAPL'])).rejects.toMatchObject({ code: 'PROVIDER_INVALID_RESPONSE' });
    inner.prices.AAPL = '5';
    expect((await provider.getQuotes(['AAPL'])).quotes.AAPL?.price).toBe('5');
  });

  it('lets an aborted caller go while the others get the answer', async () => {
    const inner = createScriptedProvider('upstream');
    inner.script = [
      async () => {
        await sleep(20);
        return undefined;
      },
    ];
    const provider = withCache(inner);
    const controller = new AbortController();
    const leaving = provider.getQuotes(['AAPL'], { signal: controller.signal });
    const staying = provider.getQuotes(['AAPL']);
    controller.abort();
    await expect(leaving).rejects.toMatchObject({ details: { aborted: true } });
    expect((await staying).quotes.AAPL?.price).toBe('100');
  });

  it('caches history per symbol and range, coalescing concurrent requests', async () => {
    const clock = createManualClock();
    const inner = createScriptedProvider('upstream');
    inner.history.AAPL = [
      { day: '2025-01-02', close: '10' },
      { day: '2025-01-03', close: '11' },
    ];
    const provider = withCache(inner, { clock, historyTtlMs: 60_000 });
    const range = { from: '2025-01-01', to: '2025-01-31' };
    const all = await Promise.all(Array.from({ length: 10 }, () => provider.getDailyHistory('AAPL', range)));
    expect(all.every((bars) => bars.length === 2)).toBe(true);
    (all[0] as Array<{ close: string }>)[0]!.close = 'tampered';
    expect((await provider.getDailyHistory('AAPL', range))[0]?.close).toBe('10');
    await provider.getDailyHistory('AAPL', { from: '2025-01-03', to: '2025-01-31' });
    expect(inner.calls).toHaveLength(2);
    clock.set(clock.now() + 60_000);
    await provider.getDailyHistory('AAPL', range);
    expect(inner.calls).toHaveLength(3);
    provider.clear('AAPL');
    await provider.getDailyHistory('AAPL', range);
    expect(inner.calls).toHaveLength(4);
    await expect(provider.getDailyHistory('NOPE', range)).rejects.toMatchObject({ code: 'UNKNOWN_SYMBOL' });
  });
});
