import { FoliokitError } from '@foliokit/core';
import { codeOf, createManualClock, type ManualClock } from '@foliokit/core/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createYahooProvider, type RetryEvent, withRetry } from '../src/index.js';
import { startServer, type TestServer } from './helpers/http-server.js';
import { createScriptedProvider, unavailable } from './helpers/scripted-provider.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

/** Lets the pending call reach its first wait, then moves the clock. */
async function run(clock: ManualClock, ms: number): Promise<void> {
  await clock.advance(0);
  await clock.advance(ms);
}

const chart = (price: number) => ({
  chart: {
    result: [{ meta: { symbol: 'AAPL', currency: 'USD', regularMarketPrice: price, regularMarketTime: 1741636800 } }],
    error: null,
  },
});

describe('withRetry', () => {
  it('retries transient failures with exponential backoff and full jitter', async () => {
    const clock = createManualClock();
    const inner = createScriptedProvider('flaky');
    inner.script = [unavailable(), new FoliokitError('PROVIDER_TIMEOUT', 'slow'), unavailable()];
    const events: RetryEvent[] = [];
    const provider = withRetry(inner, { clock, random: () => 0.5, baseDelayMs: 100, onRetry: (e) => events.push(e) });
    const pending = provider.getQuotes(['AAPL']);
    await run(clock, 10_000);
    expect((await pending).quotes.AAPL?.price).toBe('100');
    expect(inner.calls).toHaveLength(4);
    expect(events.map((e) => [e.attempt, e.delayMs, e.error.code])).toEqual([
      [1, 50, 'PROVIDER_UNAVAILABLE'],
      [2, 100, 'PROVIDER_TIMEOUT'],
      [3, 200, 'PROVIDER_UNAVAILABLE'],
    ]);
  });

  it('waits the backoff on its clock before each attempt', async () => {
    const clock = createManualClock();
    const inner = createScriptedProvider('flaky');
    inner.script = [unavailable(), unavailable()];
    const provider = withRetry(inner, { clock, jitter: false, baseDelayMs: 1000 });
    const pending = provider.getQuotes(['AAPL']);
    await clock.advance(0);
    expect(inner.calls).toHaveLength(1);
    await clock.advance(999);
    expect(inner.calls).toHaveLength(1);
    await clock.advance(1);
    expect(inner.calls).toHaveLength(2);
    await clock.advance(1999);
    expect(inner.calls).toHaveLength(2);
    await clock.advance(1);
    expect(inner.calls).toHaveLength(3);
    await expect(pending).resolves.toMatchObject({ unknown: [] });
  });

  it('caps the backoff and gives up after the retries, with the last error', async () => {
    const clock = createManualClock();
    const inner = createScriptedProvider('down');
    inner.fallback = unavailable();
    const delays: number[] = [];
    const provider = withRetry(inner, {
      clock,
      retries: 6,
      jitter: false,
      baseDelayMs: 1000,
      maxDelayMs: 3000,
      onRetry: (e) => delays.push(e.delayMs),
    });
    const pending = codeOf(provider.getDailyHistory('AAPL', { from: '2025-01-01', to: '2025-01-31' }));
    await run(clock, 60_000);
    expect(await pending).toBe('PROVIDER_UNAVAILABLE');
    expect(inner.calls).toHaveLength(7);
    expect(delays).toEqual([1000, 2000, 3000, 3000, 3000, 3000]);
  });

  it('keeps jittered delays within [0, capped backoff)', async () => {
    const clock = createManualClock();
    const inner = createScriptedProvider('down');
    inner.fallback = unavailable();
    const delays: number[] = [];
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return (seed - 1) / 2147483646;
    };
    const provider = withRetry(inner, {
      clock,
      random,
      retries: 8,
      baseDelayMs: 100,
      maxDelayMs: 1000,
      onRetry: (e) => delays.push(e.delayMs),
    });
    const pending = codeOf(provider.getQuotes(['AAPL']));
    await run(clock, 60_000);
    expect(await pending).toBe('PROVIDER_UNAVAILABLE');
    delays.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(1000, 100 * 2 ** i));
    });
    expect(new Set(delays).size).toBeGreaterThan(4);
  });

  it('never retries other errors', async () => {
    for (const code of [
      'UNKNOWN_SYMBOL',
      'PROVIDER_INVALID_RESPONSE',
      'PROVIDER_ERROR',
      'VALIDATION_FAILED',
    ] as const) {
      const inner = createScriptedProvider('picky');
      inner.fallback = new FoliokitError(code, 'no');
      const provider = withRetry(inner, { baseDelayMs: 1 });
      expect(await codeOf(provider.getQuotes(['AAPL']))).toBe(code);
      expect(inner.calls).toHaveLength(1);
    }
  });

  it('honours retryAfterMs, and throws at once when it exceeds maxDelayMs', async () => {
    const clock = createManualClock();
    const inner = createScriptedProvider('limited');
    inner.script = [new FoliokitError('PROVIDER_RATE_LIMITED', 'slow down', { retryAfterMs: 2500 })];
    const provider = withRetry(inner, { clock, random: () => 0, baseDelayMs: 100 });
    const pending = provider.getQuotes(['AAPL']);
    await run(clock, 2499);
    expect(inner.calls).toHaveLength(1);
    await clock.advance(1);
    expect(inner.calls).toHaveLength(2);
    await expect(pending).resolves.toBeDefined();

    inner.calls.length = 0;
    inner.script = [new FoliokitError('PROVIDER_RATE_LIMITED', 'come back tomorrow', { retryAfterMs: 3_600_000 })];
    const error = await provider.getQuotes(['AAPL']).catch((e: FoliokitError) => e);
    expect(error).toMatchObject({ code: 'PROVIDER_RATE_LIMITED', details: { retryAfterMs: 3_600_000 } });
    expect(inner.calls).toHaveLength(1);
  });

  it('stops waiting when the caller aborts', async () => {
    const clock = createManualClock();
    const inner = createScriptedProvider('down');
    inner.fallback = unavailable();
    const provider = withRetry(inner, { clock, baseDelayMs: 1000, jitter: false });
    const controller = new AbortController();
    const pending = codeOf(provider.getQuotes(['AAPL'], { signal: controller.signal }));
    await clock.advance(500);
    controller.abort();
    expect(await pending).toBe('PROVIDER_UNAVAILABLE');
    await run(clock, 10_000);
    expect(inner.calls).toHaveLength(1);
  });

  it('gets through a real server answering 503, 503, 429 (Retry-After: 0), then 200', async () => {
    const replies = [
      { status: 503, body: 'busy' },
      { status: 503, body: 'busy' },
      { status: 429, body: 'Too Many Requests', headers: { 'retry-after': '0' } },
    ];
    server.handle(() => replies.shift() ?? { body: chart(123.45) });
    const provider = withRetry(createYahooProvider({ baseUrl: server.url }), { baseDelayMs: 2, maxDelayMs: 10 });
    const batch = await provider.getQuotes(['AAPL']);
    expect(batch.quotes.AAPL?.price).toBe('123.45');
    expect(server.requests).toHaveLength(4);
  });

  it('honours the Retry-After header of a real server', async () => {
    server.requests.length = 0;
    const replies = [{ status: 429, body: 'Too Many Requests', headers: { 'retry-after': '1' } }];
    server.handle(() => replies.shift() ?? { body: chart(1) });
    const clock = createManualClock();
    const events: RetryEvent[] = [];
    const provider = withRetry(createYahooProvider({ baseUrl: server.url }), {
      clock,
      baseDelayMs: 1,
      maxDelayMs: 5000,
      onRetry: (e) => events.push(e),
    });
    const pending = provider.getQuotes(['AAPL']);
    await vi.waitFor(() => expect(events).toHaveLength(1));
    expect(events[0]).toMatchObject({ delayMs: 1000, error: { code: 'PROVIDER_RATE_LIMITED' } });
    await clock.advance(999);
    expect(server.requests).toHaveLength(1);
    await clock.advance(1);
    expect((await pending).quotes.AAPL?.price).toBe('1');
    expect(server.requests).toHaveLength(2);
  });
});
