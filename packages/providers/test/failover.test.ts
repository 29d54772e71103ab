import { FoliokitError } from '@foliokit/core';
import { codeOf, createManualClock } from '@foliokit/core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createFailoverProvider,
  createStaticProvider,
  createYahooProvider,
  withCache,
  withRetry,
  withTimeout,
} from '../src/index.js';
import { type Reply, startServer, type TestServer } from './helpers/http-server.js';
import { createScriptedProvider, unavailable } from './helpers/scripted-provider.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

const chartOk = (symbol: string, price: number): Reply => ({
  body: {
    chart: {
      result: [{ meta: { symbol, currency: 'USD', regularMarketPrice: price, regularMarketTime: 1741636800 } }],
      error: null,
    },
  },
});

describe('createFailoverProvider', () => {
  it('answers from the secondary while the primary is down, and goes back after the cool-down', async () => {
    const clock = createManualClock('2025-03-10T15:00:00Z');
    let down = true;
    server.handle((request) =>
      down ? { status: 503, body: 'down' } : chartOk(request.path.split('/').pop() as string, 150),
    );
    const primary = createYahooProvider({ baseUrl: server.url, clock });
    const secondary = createStaticProvider({ prices: { AAPL: '149' }, clock, name: 'backup' });
    const market = createFailoverProvider([primary, secondary], { clock, cooldownMs: 30_000 });

    const first = await market.getQuotes(['AAPL']);
    expect(first.quotes.AAPL).toMatchObject({ price: '149', source: 'backup' });
    expect(server.requests).toHaveLength(1);
    expect(market.getStatus()).toEqual([
      {
        name: 'yahoo',
        healthy: false,
        state: 'open',
        lastSuccessAt: null,
        lastError: {
          code: 'PROVIDER_UNAVAILABLE',
          message: 'yahoo: server error (HTTP 503)',
          at: '2025-03-10T15:00:00.000Z',
        },
        retryAt: '2025-03-10T15:00:30.000Z',
        consecutiveFailures: 1,
        totalFailures: 1,
        totalCalls: 1,
      },
      {
        name: 'backup',
        healthy: true,
        state: 'closed',
        lastSuccessAt: '2025-03-10T15:00:00.000Z',
        lastError: null,
        retryAt: null,
        consecutiveFailures: 0,
        totalFailures: 0,
        totalCalls: 1,
      },
    ]);

    // During the cool-down the primary is not even asked.
    clock.set('2025-03-10T15:00:29.999Z');
    await market.getQuotes(['AAPL']);
    expect(server.requests).toHaveLength(1);

    // After it, one trial call; it fails again, the circuit reopens.
    clock.set('2025-03-10T15:00:30Z');
    expect(market.getStatus()[0]?.state).toBe('half-open');
    expect((await market.getQuotes(['AAPL'])).quotes.AAPL?.source).toBe('backup');
    expect(server.requests).toHaveLength(2);
    expect(market.getStatus()[0]).toMatchObject({
      state: 'open',
      consecutiveFailures: 2,
      retryAt: '2025-03-10T15:01:00.000Z',
    });

    // The primary recovers: the next trial closes the circuit.
    down = false;
    clock.set('2025-03-10T15:01:00Z');
    expect((await market.getQuotes(['AAPL'])).quotes.AAPL).toMatchObject({ price: '150', source: 'yahoo' });
    expect(market.getStatus()[0]).toMatchObject({
      state: 'closed',
      healthy: true,
      consecutiveFailures: 0,
      totalFailures: 2,
      totalCalls: 3,
    });
    await market.getQuotes(['AAPL']);
    expect(server.requests).toHaveLength(4);
  });

  it('asks the next provider only for the symbols the first did not know', async () => {
    const a = createScriptedProvider('a', { AAPL: '1' });
    const b = createScriptedProvider('b', { MSFT: '2', AAPL: '999' });
    const c = createScriptedProvider('c', { KO: '3' });
    const market = createFailoverProvider([a, b, c]);
    const batch = await market.getQuotes(['AAPL', 'MSFT', 'KO', 'NOPE']);
    expect(Object.fromEntries(Object.entries(batch.quotes).map(([s, q]) => [s, [q.price, q.source]]))).toEqual({
      AAPL: ['1', 'a'],
      MSFT: ['2', 'b'],
      KO: ['3', 'c'],
    });
    expect(batch.unknown).toEqual(['NOPE']);
    expect([a, b, c].map((p) => p.calls.map((call) => call.symbols))).toEqual([
      [['AAPL', 'MSFT', 'KO', 'NOPE']],
      [['MSFT', 'KO', 'NOPE']],
      [['KO', 'NOPE']],
    ]);
  });

  it('opens a circuit after failureThreshold consecutive failures', async () => {
    const clock = createManualClock();
    const a = createScriptedProvider('a');
    const b = createScriptedProvider('b');
    a.fallback = unavailable();
    const market = createFailoverProvider([a, b], { clock, failureThreshold: 3, cooldownMs: 1000 });
    for (let i = 0; i < 5; i++) await market.getQuotes(['AAPL']);
    expect(a.calls).toHaveLength(3);
    expect(b.calls).toHaveLength(5);
    expect(market.getStatus()[0]).toMatchObject({ state: 'open', consecutiveFailures: 3, totalCalls: 3 });
  });

  it('counts invalid answers as failures: an invalid price never gets through', async () => {
    const a = createScriptedProvider('a', { AAPL: '0' });
    const b = createScriptedProvider('b', { AAPL: '5' });
    const market = createFailoverProvider([a, b]);
    expect((await market.getQuotes(['AAPL'])).quotes.AAPL?.price).toBe('5');
    expect(market.getStatus()[0]?.lastError?.code).toBe('PROVIDER_INVALID_RESPONSE');
  });

  it('keeps a longer Retry-After than the cool-down', async () => {
    const clock = createManualClock('2025-03-10T15:00:00Z');
    const a = createScriptedProvider('a');
    a.script = [new FoliokitError('PROVIDER_RATE_LIMITED', 'slow down', { retryAfterMs: 120_000 })];
    const market = createFailoverProvider([a, createScriptedProvider('b')], { clock, cooldownMs: 30_000 });
    await market.getQuotes(['AAPL']);
    expect(market.getStatus()[0]?.retryAt).toBe('2025-03-10T15:02:00.000Z');
  });

  it('fails fast while every circuit is open, then tries again', async () => {
    const clock = createManualClock();
    const a = createScriptedProvider('a');
    const b = createScriptedProvider('b');
    a.script = [unavailable()];
    b.script = [unavailable()];
    const market = createFailoverProvider([a, b], { clock, cooldownMs: 5000 });
    const error = await market.getQuotes(['AAPL']).catch((e: FoliokitError) => e);
    expect(error).toMatchObject({
      code: 'PROVIDER_UNAVAILABLE',
      details: { attempts: [{ provider: 'a' }, { provider: 'b' }] },
    });
    const fast = await market.getQuotes(['AAPL']).catch((e: FoliokitError) => e);
    expect(fast).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', details: { retryAfterMs: 5000 } });
    expect(a.calls.length + b.calls.length).toBe(2);
    clock.set(clock.now() + 5000);
    expect((await market.getQuotes(['AAPL'])).quotes.AAPL?.source).toBe('a');
  });

  it('sends one trial call to a half-open provider, however many calls arrive', async () => {
    const clock = createManualClock();
    const a = createScriptedProvider('a');
    const b = createScriptedProvider('b');
    a.script = [unavailable(), async () => new Promise((resolve) => setTimeout(() => resolve(undefined), 20))];
    const market = createFailoverProvider([a, b], { clock, cooldownMs: 1000 });
    await market.getQuotes(['AAPL']);
    clock.set(clock.now() + 1000);
    const batches = await Promise.all(Array.from({ length: 10 }, () => market.getQuotes(['AAPL'])));
    expect(a.calls).toHaveLength(2);
    expect(batches.filter((batch) => batch.quotes.AAPL?.source === 'a')).toHaveLength(1);
    expect(market.getStatus()[0]?.state).toBe('closed');
  });

  it('fails history over on failure or unknown symbol, and reports UNKNOWN_SYMBOL when nobody knows it', async () => {
    const a = createScriptedProvider('a');
    const b = createScriptedProvider('b');
    b.history.AAPL = [{ day: '2025-01-02', close: '10' }];
    const market = createFailoverProvider([a, b]);
    const range = { from: '2025-01-01', to: '2025-01-31' };
    expect(await market.getDailyHistory('AAPL', range)).toEqual([{ day: '2025-01-02', close: '10' }]);
    expect(market.getStatus()[0]?.healthy).toBe(true);
    expect(await codeOf(market.getDailyHistory('NOPE', range))).toBe('UNKNOWN_SYMBOL');
    a.history.AAPL = [{ day: '2025-01-02', close: 'NaN' }];
    expect(await market.getDailyHistory('AAPL', range)).toEqual([{ day: '2025-01-02', close: '10' }]);
    expect(market.getStatus()[0]?.lastError?.code).toBe('PROVIDER_INVALID_RESPONSE');
    expect(await codeOf(market.getDailyHistory('AAPL', { from: 'bad', to: '2025-01-31' }))).toBe('VALIDATION_FAILED');
  });

  it('composes: cache over failover over retry and timeout, with a hanging primary', async () => {
    server.handle(() => ({ hang: true }));
    const yahoo = withRetry(withTimeout(createYahooProvider({ baseUrl: server.url }), 30), {
      retries: 1,
      baseDelayMs: 1,
    });
    const backup = createStaticProvider({ prices: { AAPL: '149.5' }, name: 'backup' });
    const market = withCache(createFailoverProvider([yahoo, backup]), { ttlMs: 60_000 });
    const batches = await Promise.all(Array.from({ length: 20 }, () => market.getQuotes(['AAPL'])));
    expect(batches.every((b) => b.quotes.AAPL?.price === '149.5' && b.quotes.AAPL.source === 'backup')).toBe(true);
    expect(server.requests).toHaveLength(2);
  });

  it('requires at least one provider', () => {
    expect(() => createFailoverProvider([])).toThrow(FoliokitError);
  });
});
