import { codeOf, createManualClock } from '@foliokit/core/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createYahooProvider, withTimeout } from '../src/index.js';
import { startServer, type TestServer } from './helpers/http-server.js';
import { createScriptedProvider } from './helpers/scripted-provider.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer(() => ({ hang: true }));
});
afterAll(async () => {
  await server.close();
});

describe('withTimeout', () => {
  it('rejects with PROVIDER_TIMEOUT when the deadline passes, and aborts the signal passed down', async () => {
    const clock = createManualClock();
    const inner = createScriptedProvider('slow');
    inner.fallback = 'hang';
    const provider = withTimeout(inner, 1000, { clock });
    expect(provider.name).toBe('slow');
    const pending = codeOf(provider.getQuotes(['AAPL']));
    await clock.advance(999);
    expect(inner.calls[0]?.signal?.aborted).toBe(false);
    await clock.advance(1);
    expect(await pending).toBe('PROVIDER_TIMEOUT');
    expect(inner.calls[0]?.signal?.aborted).toBe(true);
    const history = codeOf(provider.getDailyHistory('AAPL', { from: '2025-01-01', to: '2025-01-31' }));
    await clock.advance(1000);
    expect(await history).toBe('PROVIDER_TIMEOUT');
  });

  it('passes a fast answer through and clears its timer', async () => {
    const clock = createManualClock();
    const provider = withTimeout(createScriptedProvider('fast'), 1000, { clock });
    const batch = await provider.getQuotes(['AAPL', 'NOPE']);
    expect(batch.quotes.AAPL?.price).toBe('100');
    expect(batch.unknown).toEqual(['NOPE']);
    expect(clock.pending()).toBe(0);
  });

  it('lets the caller abort first', async () => {
    const inner = createScriptedProvider('slow');
    inner.fallback = 'hang';
    const provider = withTimeout(inner, 60_000);
    const controller = new AbortController();
    const pending = provider.getQuotes(['AAPL'], { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE', details: { aborted: true } });
    expect(await codeOf(provider.getQuotes(['AAPL'], { signal: AbortSignal.timeout(5) }))).toBe('PROVIDER_TIMEOUT');
  });

  it('gives up on a hanging HTTP server at the deadline', async () => {
    server.requests.length = 0;
    const clock = createManualClock();
    const provider = withTimeout(createYahooProvider({ baseUrl: server.url }), 50, { clock });
    const pending = codeOf(provider.getQuotes(['AAPL']));
    await vi.waitFor(() => expect(server.requests).toHaveLength(1));
    await clock.advance(50);
    expect(await pending).toBe('PROVIDER_TIMEOUT');
    expect(server.requests).toHaveLength(1);
  });

  it('refuses an invalid answer from the provider it wraps', async () => {
    const inner = createScriptedProvider('bad', { AAPL: 'NaN', MSFT: '-1', KO: '0' });
    const provider = withTimeout(inner, 1000);
    for (const symbol of ['AAPL', 'MSFT', 'KO']) {
      expect(await codeOf(provider.getQuotes([symbol]))).toBe('PROVIDER_INVALID_RESPONSE');
    }
  });

  it('turns a foreign error into PROVIDER_ERROR with the cause', async () => {
    const inner = createScriptedProvider('buggy');
    inner.fallback = new TypeError('undefined is not a function');
    await expect(withTimeout(inner, 1000).getQuotes(['AAPL'])).rejects.toMatchObject({
      code: 'PROVIDER_ERROR',
      cause: expect.any(TypeError),
    });
  });
});
