import { isFoliokitError } from '@foliokit/core';
import { describe, expect, it } from 'vitest';
import { withRateLimit } from '../src/index.js';
import { createScriptedProvider } from './helpers/scripted-provider.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('withRateLimit', () => {
  it('starts at most intervalCap calls in any interval', async () => {
    const inner = createScriptedProvider('limited', { AAPL: '1', MSFT: '2' });
    const provider = withRateLimit(inner, { intervalCap: 2, interval: 100 });
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 6 }, () => provider.getQuotes(['AAPL'])));
    expect(results.every((r) => r.quotes.AAPL?.price === '1')).toBe(true);
    const starts = inner.calls.map((c) => c.at - started);
    expect(starts).toHaveLength(6);
    // Sliding window: call i+2 starts at least one interval after call i.
    for (let i = 0; i + 2 < starts.length; i++) {
      expect((starts[i + 2] as number) - (starts[i] as number)).toBeGreaterThanOrEqual(85);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('allows no burst across a window boundary (sliding window)', async () => {
    const inner = createScriptedProvider('limited');
    const provider = withRateLimit(inner, { intervalCap: 2, interval: 100 });
    const started = Date.now();
    await provider.getQuotes(['AAPL']);
    await sleep(70);
    await Promise.all([provider.getQuotes(['AAPL']), provider.getQuotes(['AAPL']), provider.getQuotes(['AAPL'])]);
    const starts = inner.calls.map((c) => c.at - started);
    for (const start of starts) {
      const inWindow = starts.filter((other) => other >= start && other < start + 85);
      expect(inWindow.length).toBeLessThanOrEqual(2);
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
    await Promise.all(
      Array.from({ length: 8 }, () =>
        provider.getDailyHistory('AAPL', { from: '2025-01-01', to: '2025-01-02' }).catch(() => null),
      ),
    );
    expect(inner.calls).toHaveLength(8);
    expect(peak).toBe(2);
  });

  it('counts each symbol of a batch with perSymbol', async () => {
    const inner = createScriptedProvider('per-symbol', { A: '1', B: '2', C: '3' });
    const provider = withRateLimit(inner, { intervalCap: 2, interval: 100, perSymbol: true });
    const started = Date.now();
    const batch = await provider.getQuotes(['A', 'B', 'C', 'D']);
    expect(Object.keys(batch.quotes).sort()).toEqual(['A', 'B', 'C']);
    expect(batch.unknown).toEqual(['D']);
    expect(inner.calls.map((c) => c.symbols)).toEqual([['A'], ['B'], ['C'], ['D']]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(85);
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
    await sleep(250);
    expect(inner.calls).toHaveLength(1);
  });
});
