/**
 * The backtest runner on a real SQLite file store (and once on PostgreSQL): runs stored through
 * queued → running → succeeded with the same result as `runBacktest`, replayed in a worker thread;
 * progress events in order; a bounded queue; validation before anything is stored; cancels (of a
 * running run, over a late success, of a stuck worker), crashing workers, comparisons, the inline
 * fallback for a main-thread-only strategy, close, and a main thread that stays free meanwhile.
 * No timing is asserted: a long run is cancelled once its first progress event has arrived.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId as mainThreadId } from 'node:worker_threads';
import { createCsvProvider } from '@foliokit/providers';
import { createPostgresStore } from '@foliokit/store-postgres';
import { createSqliteStore } from '@foliokit/store-sqlite';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { BacktestCompletedEvent, BacktestProgressEvent, FoliokitEvent } from '../events.js';
import type { DailyBar, MarketDataProvider, Store } from '../ports/index.js';
import { codeOf, createTestEngine, errorOf, type TestEngine } from '../testing/index.js';
import { registerStrategy, unregisterStrategy } from './registry.js';
import { type BacktestResult, runBacktest } from './run.js';
import {
  type BacktestComparison,
  type BacktestRequest,
  type BacktestRunner,
  type BacktestRunnerOptions,
  createBacktestRunner,
} from './runner.js';
import './runner-test-strategies.js';
import { defineStrategy } from './strategy.js';

const here = dirname(fileURLToPath(import.meta.url));
const csv = createCsvProvider({ directory: join(here, 'fixtures') });
const testStrategies = new URL('./runner-test-strategies.ts', import.meta.url).href;
const brokenModule = new URL('./runner-test-broken.ts', import.meta.url).href;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The fixture request: sma-cross 2/3 on AAA and BBB (see run.test.ts). */
const fixture: BacktestRequest = {
  strategy: 'sma-cross',
  params: { fast: 2, slow: 3 },
  symbols: ['AAA', 'BBB'],
  from: '2025-03-01',
  to: '2025-03-31',
  initialCash: '2000',
  commission: { fixed: '1' },
};

/** `symbols` × `days` synthetic bars from 2000-01-01 (exact one-decimal prices): a long replay. */
function bigProvider(): MarketDataProvider {
  return {
    name: 'big',
    async getQuotes() {
      return { quotes: [], unknown: [] } as never;
    },
    async getDailyHistory(symbol, range) {
      const seed = [...symbol].reduce((a, c) => a + c.charCodeAt(0), 0);
      const out: DailyBar[] = [];
      const start = Date.UTC(2000, 0, 1);
      for (let i = 0; i < 6000; i++) {
        const day = new Date(start + i * 86_400_000).toISOString().slice(0, 10);
        if (day < range.from || day > range.to) continue;
        const close = (500 + ((i * 7919 + seed * 31) % 1000) / 10 + (i % 200)).toFixed(1);
        out.push({ day, open: close, close });
      }
      return out;
    },
  };
}
const big: BacktestRequest = {
  strategy: 'sma-cross',
  params: { fast: 5, slow: 20 },
  symbols: Array.from({ length: 40 }, (_, i) => `S${i}`),
  from: '2000-01-01',
  to: '2020-12-31',
  initialCash: '1000000',
};

type RunPatch = Parameters<NonNullable<Store['updateBacktestRun']>>[2];

/**
 * The store as it is, except that every `updateBacktestRun` is logged and first calls `before`
 * (to interleave a change at an exact point).
 */
function watchStore(real: Store, before?: (id: string, patch: RunPatch) => Promise<void>) {
  const updates: RunPatch[] = [];
  const store = new Proxy(real, {
    get(target, prop) {
      if (prop === 'updateBacktestRun') {
        return async (...args: Parameters<NonNullable<Store['updateBacktestRun']>>) => {
          updates.push(args[2]);
          await before?.(args[0], args[2]);
          return target.updateBacktestRun?.(...args);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store, updates };
}

interface Setup {
  t: TestEngine;
  runner: BacktestRunner;
  store: Store;
}
const open: Setup[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) {
    await s.runner.close();
    await s.t.close();
    await s.store.close();
  }
});

async function sqliteStore(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'foliokit-runner-'));
  dirs.push(dir);
  return createSqliteStore({ filename: join(dir, 'runs.db') });
}

/** An engine on a fresh SQLite file, with a runner whose bars come from `marketData` (default: the CSV fixtures). */
async function setup(options: BacktestRunnerOptions = {}, store?: Store): Promise<Setup> {
  const s = store ?? (await sqliteStore());
  const t = createTestEngine({ store: s, marketData: options.marketData ?? csv });
  const runner = createBacktestRunner(t.engine, { workerModules: [testStrategies], ...options });
  const setup = { t, runner, store: s };
  open.push(setup);
  return setup;
}

const progressOf = (events: readonly FoliokitEvent[], runId: string) =>
  events.filter((e): e is BacktestProgressEvent => e.type === 'backtest.progress' && e.runId === runId);
const completedOf = (events: readonly FoliokitEvent[], runId: string) =>
  events.filter((e): e is BacktestCompletedEvent => e.type === 'backtest.completed' && e.runId === runId);

/** Resolves on the run's first progress event. */
function firstProgress(t: TestEngine, runId: string): Promise<void> {
  return new Promise((resolve) => {
    if (progressOf(t.events, runId).length > 0) return resolve();
    const off = t.engine.on('backtest.progress', (e) => {
      if (e.runId === runId) {
        off();
        resolve();
      }
    });
  });
}

describe('a run', () => {
  it('goes queued → running → succeeded in a worker thread, with the result runBacktest gives', async () => {
    const { t, runner, store } = await setup();
    const submitted = await runner.submit(fixture, { ownerId: 'u1' });
    expect(submitted).toMatchObject({ status: 'queued', ownerId: 'u1', kind: 'single', result: null, error: null });
    expect(submitted.request).toEqual(fixture);
    const done = await runner.wait(submitted.id);
    expect(done.status).toBe('succeeded');
    const expected = await runBacktest({ ...fixture, marketData: csv });
    expect(done.result).toEqual(expected);
    // Read back from the store, not from memory.
    const row = await store.getBacktestRun?.(submitted.id);
    expect(row?.result).toEqual(expected);
    expect(row?.status).toBe('succeeded');
    expect(row?.startedAt).not.toBeNull();
    expect(row?.finishedAt).not.toBeNull();
    expect(done.execution?.mode).toBe('worker');
    expect(done.execution?.threadId).not.toBe(mainThreadId);
    const progress = progressOf(t.events, submitted.id);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ done: expected.bars, total: expected.bars, ownerId: 'u1' });
    expect(done.progress).toEqual({ done: expected.bars, total: expected.bars });
    expect(completedOf(t.events, submitted.id)).toEqual([
      { type: 'backtest.completed', runId: submitted.id, ownerId: 'u1', status: 'succeeded' },
    ]);
    expect(runner.stats()).toEqual({
      running: 0,
      queued: 0,
      concurrency: 1,
      maxQueued: 16,
      maxQueuedPerOwner: 8,
      mode: 'worker',
    });
  });

  it('is seen running while it replays, progress events arrive in order and end at the total', async () => {
    const { store, updates } = watchStore(await sqliteStore());
    const { t, runner } = await setup({ marketData: bigProvider() }, store);
    const run = await runner.submit(big);
    await firstProgress(t, run.id);
    expect((await runner.get(run.id)).status).toBe('running');
    expect(runner.stats()).toMatchObject({ running: 1, queued: 0 });
    const done = await runner.wait(run.id);
    expect(done.status).toBe('succeeded');
    const result = done.result as BacktestResult;
    const progress = progressOf(t.events, run.id);
    expect(progress.length).toBeGreaterThan(10);
    expect(progress.length).toBeLessThanOrEqual(101);
    for (let i = 1; i < progress.length; i++) {
      expect((progress[i] as BacktestProgressEvent).done).toBeGreaterThan(
        (progress[i - 1] as BacktestProgressEvent).done,
      );
    }
    expect(progress.at(-1)).toMatchObject({ done: result.bars, total: result.bars });
    // The completion comes after the last progress event.
    const types = t.events.filter((e) => 'runId' in e && e.runId === run.id).map((e) => e.type);
    expect(types.at(-1)).toBe('backtest.completed');
    expect(types.filter((x) => x === 'backtest.completed')).toHaveLength(1);
    // The store got the progress every tenth, not every event: running, ≤ 9 progress writes, the end.
    const progressWrites = updates.filter((u) => u.status === undefined);
    expect(progressWrites.length).toBeGreaterThan(0);
    expect(progressWrites.length).toBeLessThanOrEqual(9);
    expect(updates.map((u) => u.status).filter(Boolean)).toEqual(['running', 'succeeded']);
  });

  it('pages newest first with an opaque cursor', async () => {
    const { runner } = await setup();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await runner.submit(fixture, { ownerId: 'u1' })).id);
    await runner.submit(fixture, { ownerId: 'u2' });
    for (const id of ids) await runner.wait(id);
    const first = await runner.list({ ownerId: 'u1', limit: 2 });
    expect(first.items.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await runner.list({ ownerId: 'u1', limit: 2, cursor: first.nextCursor });
    expect(second.items.map((r) => r.id)).toEqual([ids[0]]);
    expect(second.nextCursor).toBeNull();
    expect((await runner.list()).items).toHaveLength(4);
    expect((await runner.list({ status: ['failed'] })).items).toHaveLength(0);
    expect((await errorOf(runner.list({ cursor: 'not a cursor!' }))).details.field).toBe('cursor');
    expect((await errorOf(runner.list({ limit: 101 }))).details.field).toBe('limit');
    expect((await errorOf(runner.get('bt_nope'))).toJSON()).toMatchObject({
      code: 'NOT_FOUND',
      details: { field: 'id' },
    });
  });
});

describe('the queue', () => {
  it('refuses a run beyond maxQueued with QUEUE_FULL and stores nothing', async () => {
    const { runner } = await setup({ concurrency: 1, maxQueued: 1, marketData: bigProvider() });
    const a = await runner.submit(big);
    const b = await runner.submit(big);
    const error = await errorOf(runner.submit(big));
    expect(error.code).toBe('QUEUE_FULL');
    expect(error.details).toMatchObject({ scope: 'runner', maxQueued: 1 });
    expect((await runner.list()).items.map((r) => r.id)).toEqual([b.id, a.id]);
    // A cancelled waiting run frees its place at once.
    await runner.cancel(b.id);
    const c = await runner.submit(big);
    expect((await runner.list()).items.map((r) => r.id)).toEqual([c.id, b.id, a.id]);
  });

  it('refuses an owner who already holds maxQueuedPerOwner runs, while others still get in', async () => {
    const { t, runner } = await setup({
      concurrency: 1,
      maxQueued: 6,
      maxQueuedPerOwner: 2,
      marketData: bigProvider(),
    });
    expect(runner.stats().maxQueuedPerOwner).toBe(2);
    const a = await runner.submit(big, { ownerId: 'greedy' });
    await firstProgress(t, a.id); // one running…
    const { strategy: _s, params: _p, ...shared } = big;
    const pair = { ...shared, variants: [{ strategy: 'sma-cross' }, { strategy: 'momentum' }] };
    const b = await runner.compare(pair, { ownerId: 'greedy' }); // …and one queued: the owner holds 2
    for (const attempt of [
      () => runner.submit(big, { ownerId: 'greedy' }),
      () => runner.compare(pair, { ownerId: 'greedy' }),
    ]) {
      const error = await errorOf(attempt());
      expect(error.code).toBe('QUEUE_FULL');
      expect(error.details).toEqual({ scope: 'owner', maxQueuedPerOwner: 2, held: 2 });
    }
    // Nothing was stored for the refused runs; another owner, and the host (no owner), still get in.
    const other = await runner.submit(big, { ownerId: 'other' });
    const host = await runner.submit(big);
    const host2 = await runner.submit(big);
    expect((await runner.list({ ownerId: 'greedy' })).items.map((r) => r.id)).toEqual([b.id, a.id]);
    expect((await runner.list()).items).toHaveLength(5);
    expect([other, host, host2].every((r) => r.status === 'queued')).toBe(true);
    // A final run frees the owner's place at once.
    await runner.cancel(b.id);
    const c = await runner.submit(big, { ownerId: 'greedy' });
    expect(c.status).toBe('queued');
    expect((await errorOf(runner.submit(big, { ownerId: 'greedy' }))).details.scope).toBe('owner');
  });

  it('defaults maxQueuedPerOwner to half of what the runner holds, at least 1', async () => {
    const cases: Array<[BacktestRunnerOptions, number]> = [
      [{}, 8],
      [{ concurrency: 4, maxQueued: 0 }, 2],
      [{ concurrency: 1, maxQueued: 0 }, 1],
      [{ concurrency: 2, maxQueued: 100 }, 51],
    ];
    for (const [options, expected] of cases) {
      const { runner } = await setup(options);
      expect(runner.stats().maxQueuedPerOwner, JSON.stringify(options)).toBe(expected);
    }
    const { t } = await setup();
    for (const bad of [0, 1.5, 10_001]) {
      expect(
        await codeOf(Promise.resolve().then(() => createBacktestRunner(t.engine, { maxQueuedPerOwner: bad }))),
      ).toBe('VALIDATION_FAILED');
    }
  });

  it('validates before storing: the field at fault, nothing stored', async () => {
    const { runner } = await setup();
    const cases: Array<[unknown, string]> = [
      [{ ...fixture, params: { fast: 'x', slow: 3 } }, 'params.fast'],
      [{ ...fixture, strategy: 'no-such-strategy' }, 'strategy'],
      [{ ...fixture, from: '2025-02-30' }, 'from'],
      [{ ...fixture, symbols: [] }, 'symbols'],
      [{ ...fixture, initialCash: '-1' }, 'initialCash'],
      [{ ...fixture, marketData: csv }, 'marketData'],
      [{ ...fixture, bogus: 1 }, 'options'],
    ];
    for (const [request, field] of cases) {
      const error = await errorOf(runner.submit(request as BacktestRequest));
      expect(error.code, field).toBe('VALIDATION_FAILED');
      expect(String(error.details.field), JSON.stringify(request)).toContain(field === 'options' ? '' : field);
    }
    const { strategy: _s, params: _p, ...shared } = fixture;
    const bad = await errorOf(
      runner.compare({
        ...shared,
        variants: [{ strategy: 'sma-cross' }, { strategy: 'sma-cross', params: { fast: 0 } }],
      }),
    );
    expect(bad.details.field).toBe('variants.1.params.fast');
    expect((await errorOf(runner.compare({ ...shared, variants: [{ strategy: 'sma-cross' }] }))).details.field).toBe(
      'variants',
    );
    const twice = await errorOf(
      runner.compare({
        ...shared,
        variants: [
          { strategy: 'sma-cross', label: 'a' },
          { strategy: 'momentum', label: 'a' },
        ],
      }),
    );
    expect(twice.details.field).toBe('variants.1.label');
    expect((await errorOf(runner.submit(fixture, { ownerId: '' }))).details.field).toBe('ownerId');
    expect((await runner.list()).items).toEqual([]);
  });
});

describe('cancel', () => {
  it('stops a running run in its worker, which then runs the next one', async () => {
    const { t, runner } = await setup({ marketData: bigProvider() });
    const run = await runner.submit(big);
    await firstProgress(t, run.id);
    const cancelled = await runner.cancel(run.id);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.error).toMatchObject({ code: 'CONFLICT', details: { aborted: true } });
    const waited = await runner.wait(run.id);
    expect(waited.status).toBe('cancelled');
    expect(waited.result).toBeNull();
    expect(completedOf(t.events, run.id)).toHaveLength(1);
    expect(await runner.cancel(run.id)).toMatchObject({ status: 'cancelled' }); // final: answered as is
    const next = await runner.wait((await runner.submit({ ...big, symbols: ['S1'] })).id);
    expect(next.status).toBe('succeeded');
    expect(next.execution?.threadId).toBe(waited.execution?.threadId); // the same worker, reused
  });

  it('wins over a late success', async () => {
    const real = await sqliteStore();
    let runner: BacktestRunner | undefined;
    let raced = 0;
    // Right before the runner stores a success, the run is cancelled.
    const { store } = watchStore(real, async (id, patch) => {
      if (patch.status === 'succeeded' && runner) {
        raced++;
        await runner.cancel(id);
      }
    });
    const s = await setup({}, store);
    runner = s.runner;
    const run = await runner.submit(fixture);
    const done = await runner.wait(run.id);
    expect(raced).toBe(1);
    expect(done.status).toBe('cancelled');
    expect(done.result).toBeNull();
    await runner.close(); // waits for the run's task to end: its late write has been tried
    expect((await real.getBacktestRun?.(run.id))?.status).toBe('cancelled');
    expect(completedOf(s.t.events, run.id).map((e) => e.status)).toEqual(['cancelled']);
  });

  it('terminates a worker that does not stop, and replaces it', async () => {
    const { t, runner } = await setup({ cancelGraceMs: 50 });
    const run = await runner.submit({ ...fixture, strategy: 'runner-stuck', params: {} });
    // The worker spins on the first bar: wait until the run is replaying, then cancel.
    while ((await runner.get(run.id)).execution === null) await new Promise((r) => setTimeout(r, 10));
    const stuckThread = (await runner.get(run.id)).execution?.threadId;
    expect((await runner.cancel(run.id)).status).toBe('cancelled');
    const next = await runner.wait((await runner.submit(fixture)).id);
    expect(next.status).toBe('succeeded');
    expect(next.execution?.threadId).not.toBe(stuckThread);
    expect(completedOf(t.events, run.id)).toHaveLength(1);
  });
});

describe('failures', () => {
  it('a worker that exits fails its run; the next run works in a new worker', async () => {
    const { t, runner } = await setup();
    const crashed = await runner.wait((await runner.submit({ ...fixture, strategy: 'runner-exit', params: {} })).id);
    expect(crashed.status).toBe('failed');
    expect(crashed.error).toMatchObject({ code: 'WORKER_EXITED', details: { exitCode: 7 } });
    expect(completedOf(t.events, crashed.id)).toMatchObject([{ status: 'failed', error: { code: 'WORKER_EXITED' } }]);
    const next = await runner.wait((await runner.submit(fixture)).id);
    expect(next.status).toBe('succeeded');
    expect(next.execution?.mode).toBe('worker');
    expect(next.execution?.threadId).not.toBe(crashed.execution?.threadId);
  });

  it('a worker module that throws at import fails the run with INVALID_CONFIGURATION', async () => {
    const { runner } = await setup({ workerModules: [brokenModule] });
    const run = await runner.wait((await runner.submit(fixture)).id);
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'INVALID_CONFIGURATION', details: { module: brokenModule } });
    expect(run.error?.message).toContain('broken on purpose');
  });

  it('an error of the replay (a symbol the provider does not know) fails the run with its code', async () => {
    const { runner } = await setup();
    const run = await runner.wait((await runner.submit({ ...fixture, symbols: ['AAA', 'ZZZ'] })).id);
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe(await codeOf(runBacktest({ ...fixture, symbols: ['AAA', 'ZZZ'], marketData: csv })));
  });
});

describe('compare and inline', () => {
  it('replays 3 variants on the same bars, each equal to its own runBacktest', async () => {
    const { t, runner } = await setup();
    const { strategy: _s, params: _p, ...shared } = fixture;
    const variants = [
      { strategy: 'sma-cross', params: { fast: 2, slow: 3 } },
      { strategy: 'sma-cross', params: { fast: 2, slow: 4 } },
      { label: 'hold', strategy: 'buy-and-hold' },
    ];
    const run = await runner.compare({ ...shared, variants });
    expect(run.kind).toBe('compare');
    const done = await runner.wait(run.id);
    expect(done.status).toBe('succeeded');
    const comparison = done.result as BacktestComparison;
    expect(comparison.variants.map((v) => v.label)).toEqual(['sma-cross #1', 'sma-cross #2', 'hold']);
    for (const [i, { label: _label, ...v }] of variants.entries()) {
      const expected = await runBacktest({ ...shared, ...v, marketData: csv });
      expect(comparison.variants[i]?.result).toEqual(expected);
      expect(comparison.variants[i]?.params).toEqual(expected.params);
    }
    const bars = comparison.variants[0]?.result.bars as number;
    expect(progressOf(t.events, run.id).at(-1)).toMatchObject({ done: 3 * bars, total: 3 * bars });
  });

  it('runs a strategy only the main thread knows inline, and says so', async () => {
    const mainOnly = defineStrategy({
      name: 'runner-main-only',
      description: 'Test: registered on the main thread only.',
      params: z.strictObject({}),
      onBar(ctx) {
        if (ctx.index === 1) ctx.buy();
      },
    });
    registerStrategy(mainOnly);
    try {
      const { runner } = await setup();
      const request = { ...fixture, strategy: 'runner-main-only', params: {} };
      const done = await runner.wait((await runner.submit(request)).id);
      expect(done.status).toBe('succeeded');
      expect(done.execution).toEqual({ mode: 'inline', threadId: mainThreadId, reason: 'strategy-not-in-worker' });
      expect(done.result).toEqual(await runBacktest({ ...request, marketData: csv }));
      // A built-in still runs in the worker.
      expect((await runner.wait((await runner.submit(fixture)).id)).execution?.mode).toBe('worker');
    } finally {
      unregisterStrategy('runner-main-only');
    }
  });

  it('runs everything inline when worker is false', async () => {
    const { runner } = await setup({ worker: false });
    expect(runner.stats().mode).toBe('inline');
    const done = await runner.wait((await runner.submit(fixture)).id);
    expect(done.execution).toEqual({ mode: 'inline', threadId: mainThreadId, reason: 'worker-disabled' });
    expect(done.result).toEqual(await runBacktest({ ...fixture, marketData: csv }));
  });
});

describe('the main thread', () => {
  it('keeps serving timers and HTTP requests while a long backtest replays in the worker', async () => {
    const { t, runner } = await setup({ marketData: bigProvider() });
    const server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const run = await runner.submit({ ...big, symbols: [...big.symbols, ...big.symbols.map((s) => `${s}X`)] });
      await firstProgress(t, run.id);
      // Far more turns of the event loop than a replay on this thread would allow (it yields ~100 times).
      let ticks = 0;
      await new Promise<void>((resolve) => {
        const tick = () => (++ticks >= 2_000 ? resolve() : setImmediate(tick));
        setImmediate(tick);
      });
      for (let i = 0; i < 30; i++) {
        expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
      }
      expect((await runner.get(run.id)).status).toBe('running');
      expect(completedOf(t.events, run.id)).toHaveLength(0);
      await runner.cancel(run.id);
    } finally {
      server.close();
    }
  });
});

describe('close', () => {
  it('cancels what runs and waits with ENGINE_CLOSED, and refuses new runs', async () => {
    const { t, runner, store } = await setup({ marketData: bigProvider() });
    const running = await runner.submit(big);
    const queued = await runner.submit(big);
    await firstProgress(t, running.id);
    const waits = [runner.wait(running.id), runner.wait(queued.id)];
    await runner.close();
    for (const run of await Promise.all(waits)) {
      expect(run.status).toBe('cancelled');
      expect(run.error?.code).toBe('ENGINE_CLOSED');
      expect((await store.getBacktestRun?.(run.id))?.status).toBe('cancelled');
    }
    expect(await codeOf(runner.submit(big))).toBe('ENGINE_CLOSED');
    await runner.close(); // idempotent
    expect(runner.stats()).toMatchObject({ running: 0, queued: 0 });
  });

  it('recoverInterrupted marks runs a stopped process left live as failed, never its own', async () => {
    const store = await sqliteStore();
    const first = await setup({ marketData: bigProvider() }, store);
    const left = await first.runner.submit(big);
    // The process "dies": its run stays live in the store (a runner that is simply dropped).
    const row = await store.getBacktestRun?.(left.id);
    expect(row?.status).toMatch(/queued|running/);
    const second = createBacktestRunner(first.t.engine, { marketData: bigProvider() });
    const own = await second.submit({ ...big, symbols: ['S1'] });
    const recovered = await second.recoverInterrupted();
    expect(recovered.map((r) => r.id)).toEqual([left.id]);
    expect(recovered[0]?.error).toMatchObject({ code: 'ENGINE_CLOSED', details: { interrupted: true } });
    expect((await second.wait(own.id)).status).toBe('succeeded');
    // The first runner notices at its next progress write (or its final write) and leaves it failed.
    expect((await first.runner.wait(left.id)).status).toBe('failed');
    await second.close();
  });
});

describe('on PostgreSQL', () => {
  it('a run submitted on one runner is read, listed and awaited through another on the same database', async () => {
    const connectionString = process.env.FOLIOKIT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const schema = `fk_runner_${randomBytes(5).toString('hex')}`;
    const a = await setup({}, await createPostgresStore({ connectionString, schema }));
    const b = await setup({}, await createPostgresStore({ connectionString, schema }));
    try {
      const run = await a.runner.submit(fixture, { ownerId: 'u1' });
      const seen = await b.runner.wait(run.id); // polled through the store
      expect(seen.status).toBe('succeeded');
      expect(seen.result).toEqual(await runBacktest({ ...fixture, marketData: csv }));
      expect(seen.execution).toBeNull(); // b did not run it
      expect(await b.runner.get(run.id)).toEqual({ ...(await a.runner.get(run.id)), execution: null });
      expect((await b.runner.list({ ownerId: 'u1' })).items.map((r) => r.id)).toEqual([run.id]);
    } finally {
      for (const s of open.splice(0)) {
        await s.runner.close();
        await s.t.close();
        await s.store.close();
      }
      const admin = await createPostgresStore({ connectionString, schema, migrate: false });
      await admin.db.schema.dropSchema(schema).ifExists().cascade().execute();
      await admin.close();
    }
  });
});
