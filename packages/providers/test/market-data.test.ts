/**
 * createMarketData: one option points at a real source (here, local servers speaking
 * Yahoo's and Alpha Vantage's documented shapes), with failover, retry and caching composed.
 */
import { createManualClock } from '@foliokit/core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMarketData } from '../src/index.js';
import { startServer, type TestServer } from './helpers/http-server.js';

let yahoo: TestServer;
let av: TestServer;
let yahooDown = false;

beforeAll(async () => {
  yahoo = await startServer((req) => {
    if (yahooDown) return { status: 503, body: 'Service Unavailable' };
    const symbol = decodeURIComponent(req.path.split('/').pop() ?? '');
    if (symbol !== 'AAPL') {
      return {
        status: 404,
        body: { chart: { result: null, error: { code: 'Not Found', description: 'No data found' } } },
      };
    }
    return {
      body: {
        chart: {
          result: [{ meta: { currency: 'USD', symbol, regularMarketPrice: 187.44, regularMarketTime: 1741636800 } }],
          error: null,
        },
      },
    };
  });
  av = await startServer((req) => ({
    body: {
      'Global Quote': {
        '01. symbol': req.query.get('symbol'),
        '05. price': '186.9000',
        '07. latest trading day': '2025-03-10',
      },
    },
  }));
});
afterAll(async () => {
  await yahoo.close();
  await av.close();
});
beforeEach(() => {
  av.requests.length = 0;
});

/** How a promise stands once the work already under way has run: its value, its error code, or pending. */
async function stateOf(promise: Promise<unknown>): Promise<unknown> {
  const pending = Symbol('pending');
  const settled = promise.then(
    (value) => value,
    (error: { code?: string }) => error.code,
  );
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  const state = await Promise.race([settled, Promise.resolve(pending)]);
  return state === pending ? 'pending' : state;
}

describe('createMarketData', () => {
  it('points at Yahoo with one option', async () => {
    const marketData = createMarketData({ source: { source: 'yahoo', baseUrl: yahoo.url } });
    const batch = await marketData.getQuotes(['AAPL', 'NOPE']);
    expect(batch.quotes.AAPL).toMatchObject({ price: '187.44', currency: 'USD' });
    expect(batch.unknown).toEqual(['NOPE']);
    expect(marketData.suggestedPollIntervalMs).toBe(15 * 60_000);
  });

  it('fails over to Alpha Vantage while Yahoo is down, and caches quotes', async () => {
    const clock = createManualClock('2025-03-10T15:00:00Z');
    const marketData = createMarketData({
      source: [
        { source: 'yahoo', baseUrl: yahoo.url },
        { source: 'alpha-vantage', apiKey: 'demo-key', baseUrl: av.url },
      ],
      retries: 0,
      clock,
    });
    yahooDown = true;
    try {
      const first = await marketData.getQuotes(['AAPL']);
      expect(first.quotes.AAPL?.price).toBe('186.9');
      const status = marketData.getStatus();
      expect(status[0]).toMatchObject({ state: 'open', healthy: false });
      expect(status[1]).toMatchObject({ state: 'closed', healthy: true });
      const avCalls = av.requests.length;
      await marketData.getQuotes(['AAPL']);
      expect(av.requests.length).toBe(avCalls);
      expect(JSON.stringify(status)).not.toContain('demo-key');
    } finally {
      yahooDown = false;
    }
  });

  it('counts each Alpha Vantage request against its rate limit, not each batch', async () => {
    const marketData = createMarketData({
      source: { source: 'alpha-vantage', apiKey: 'a-key', baseUrl: av.url, callsPerMinute: 2 },
      retries: 0,
      clock: createManualClock('2025-03-10T15:00:00Z'),
    });
    const controller = new AbortController();
    const batch = marketData.getQuotes(['AAPL', 'MSFT', 'IBM'], { signal: controller.signal });
    await vi.waitFor(() => expect(av.requests.length).toBeGreaterThanOrEqual(2));
    // Two calls a minute: the third request waits for the next minute (a real one: p-queue's timers).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(av.requests.map((request) => request.query.get('symbol'))).toEqual(['AAPL', 'MSFT']);
    controller.abort();
    await expect(batch).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE', details: { aborted: true } });
  });

  it('starts the timeout when the request starts, not while it waits for the rate limit', async () => {
    const clock = createManualClock('2025-03-10T15:00:00Z');
    const marketData = createMarketData({
      source: { source: 'alpha-vantage', apiKey: 'a-key', baseUrl: av.url, callsPerMinute: 1 },
      retries: 0,
      timeoutMs: 1_000,
      clock,
    });
    expect((await marketData.getQuotes(['AAPL'])).quotes.AAPL?.price).toBe('186.9');
    const controller = new AbortController();
    const waiting = marketData.getQuotes(['MSFT'], { signal: controller.signal });
    await clock.advance(5_000);
    expect(await stateOf(waiting)).toBe('pending');
    expect(av.requests).toHaveLength(1);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE', details: { aborted: true } });
  });

  it('refuses a bad configuration naming the field', () => {
    expect(() => createMarketData({ source: [] })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIGURATION' }));
    expect(() => createMarketData({ source: { source: 'alpha-vantage', apiKey: '' } })).toThrow(
      expect.objectContaining({ details: { field: 'source.apiKey' } }),
    );
    expect(() => createMarketData({ source: ['yahoo', { source: 'bloomberg' } as never] })).toThrow(
      expect.objectContaining({ details: { field: 'source.1' } }),
    );
  });

  it('simulated needs no network and suggests a fast poll', () => {
    const sim = createMarketData({ source: 'simulated' });
    expect(sim.suggestedPollIntervalMs).toBeLessThanOrEqual(10_000);
  });
});
