import { isFoliokitError } from '@foliokit/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { withRateLimit } from '../src/index.js';
import { createScriptedProvider } from './helpers/scripted-provider.js';

// p-queue runs on the global timers and Date: fake them, so the test moves time instead of waiting.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The start of each call to `inner`, in ms after `origin`. */
const startsOf = (inner: ReturnType<typeof createScriptedProvider>, origin: number) =>
  inner.calls.map((c) => c.at - origin);

describe('withRateLimit', () => {
  it('starts at most intervalCap calls in any interval', async () => {
    const inner = createScriptedProvider('limited', { AAPL: '1', MSFT: '2' });
    const provider = withRateLimit(inner, { intervalCap: 2, interval: 100 });
    const origin = Date.now();
    const pending = Promise.all(Array.from({ length: 6 }, () => provider.getQuotes(['AAPL'])));
    await vi.advanceTimersByTimeAsync(300);
    const results = await pending;
    expect(results.every((r) => r.quotes.AAPL?.price === '1')).toBe(true);
    expect(startsOf(inner, origin)).toEqual([0, 0, 100, 100, 200, 200]);
  });

  it('allows no burst across a window boundary (sliding window)', async () => {
    const inner = createScriptedProvider('limited');
    const provider = withRateLimit(inner, { intervalCap: 2, interval: 100 });
    const origin = Date.now();
    await provider.getQuotes(['AAPL']);
    await vi.advanceTimersByTimeAsync(70);
    const pending = Promise.all([
      provider.getQuotes(['AAPL']),
      provider.getQuotes(['AAPL']),
      provider.getQuotes(['AAPL']),
    ]);
    await vi.advanceTimersByTimeAsync(300);
    await pending;
    const starts = startsOf(inner, origin);
    expect(starts).toHaveLength(4);
    for (const start of starts) {
      expect(starts.filter((other) => other >= start && other < start + 100).length).toBeLessThanOrEqual(2);
    }
  });

  it('keeps at most `concurrency` calls in flight', async () => {
    const inner = createScriptedProvider('slow');
    let running = 0;
    let peak = 0;
    inner.fallback = async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(15);
      running--;
      return undefined;
    };
    const provider = withRateLimit(inner, { intervalCap: 100, interval: 1000, concurrency: 2 });
    const pending = Promise.all(
      Array.from({ length: 8 }, () =>
        provider.getDailyHistory('AAPL', { from: '2025-01-01', to: '2025-01-02' }).catch(() => null),
      ),
    );
    await vi.advanceTimersByTimeAsync(100);
    await pending;
    expect(inner.calls).toHaveLength(8);
    expect(peak).toBe(2);
  });

  it('counts each symbol of a batch with perSymbol', async () => {
    const inner = createScriptedProvider('per-symbol', { A: '1', B: '2', C: '3' });
    const provider = withRateLimit(inner, { intervalCap: 2, interval: 100, perSymbol: true });
    const origin = Date.now();
    const pending = provider.getQuotes(['A', 'B', 'C', 'D']);
    await vi.advanceTimersByTimeAsync(100);
    const batch = await pending;
    expect(Object.keys(batch.quotes).sort()).toEqual(['A', 'B', 'C']);
    expect(batch.unknown).toEqual(['D']);
    expect(inner.calls.map((c) => c.symbols)).toEqual([['A'], ['B'], ['C'], ['D']]);
    expect(startsOf(inner, origin)).toEqual([0, 0, 100, 100]);
  });

  it('refuses a call when the queue is full, and drops a waiting call whose signal aborts', async () => {
    const inner = createScriptedProvider('busy');
    const provider = withRateLimit(inner, { intervalCap: 1, interval: 200, maxQueueSize: 1 });
    const first = provider.getQuotes(['AAPL']);
    const controller = new AbortController();
    const second = provider.getQuotes(['AAPL'], { signal: controller.signal });
    const third = await provider.getQuotes(['AAPL']).catch((e: unknown) => e);
    expect(isFoliokitError(third) && third.code).toBe('PROVIDER_RATE_LIMITED');
    controller.abort();
    await expect(second).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE', details: { aborted: true } });
    await first;
    await vi.advanceTimersByTimeAsync(250);
    expect(inner.calls).toHaveLength(1);
  });
});
