import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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

/** `[major, minor, patch]` of `9.1.1`. */
const versionOf = (text: string): number[] => text.split('.').map(Number);

/** Negative, zero or positive as `a` is below, equal to or above `b`. */
const compareVersions = (a: number[], b: number[]): number =>
  (a[0] ?? 0) - (b[0] ?? 0) || (a[1] ?? 0) - (b[1] ?? 0) || (a[2] ?? 0) - (b[2] ?? 0);

describe('p-queue, which withRateLimit runs on', () => {
  /**
   * The first version with all withRateLimit relies on: the `strict` sliding window (9.1.0; 9.0.x
   * ignores the option and allows a burst of 2 × intervalCap across a window boundary) and a waiting
   * task that leaves the queue as soon as its signal aborts (9.1.1; before, only when its turn came).
   * The two tests above fail on 9.0.1, the second also on 9.1.0.
   */
  const RELIED_ON = versionOf('9.1.1');

  it('is declared at a range whose every version has what the limiter relies on, and installed at one', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const range = manifest.dependencies['p-queue'] ?? '';
    const floor = /^\^(\d+\.\d+\.\d+)$/.exec(range)?.[1];
    expect(floor, `a caret range, not ${range}`).toBeDefined();
    const lowest = versionOf(floor as string);
    expect(lowest[0]).toBe(RELIED_ON[0]);
    expect(
      compareVersions(lowest, RELIED_ON),
      `${range} admits versions before ${RELIED_ON.join('.')}`,
    ).toBeGreaterThanOrEqual(0);

    const entry = createRequire(import.meta.url).resolve('p-queue');
    const installed = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as {
      name: string;
      version: string;
    };
    expect(installed.name).toBe('p-queue');
    const version = versionOf(installed.version);
    expect(version[0]).toBe(lowest[0]);
    expect(compareVersions(version, lowest)).toBeGreaterThanOrEqual(0);
  });
});
