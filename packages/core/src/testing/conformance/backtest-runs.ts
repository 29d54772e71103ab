/**
 * Conformance, backtests: the optional store members a backtest runner and saved strategy
 * parameters use — runs saved and read back exactly (their JSON untouched: decimal strings stay
 * the strings they were), listed newest first with every filter, updated only from the expected
 * statuses (compare-and-set, one winner among concurrent claims), and each user's parameters per
 * strategy. A store without the members gets the checks skipped, with the reason in their titles.
 */
import type { BacktestRunRow, Store } from '../../ports/index.js';
import { vitest } from '../runtime.js';
import { type ConformanceContext, itWhen, withMembers } from './context.js';

const RUN_MEMBERS = ['saveBacktestRun', 'getBacktestRun', 'listBacktestRuns', 'updateBacktestRun'] as const;
const PARAM_MEMBERS = ['getStrategyParams', 'setStrategyParams'] as const;

const optional = (members: readonly string[]) => `store has no ${members.join(', ')} (optional capability)`;

/** Which of the two backtest capabilities a store has. */
interface BacktestCapabilities {
  runs: boolean;
  params: boolean;
}

const has = (store: Store, members: readonly (keyof Store)[]) => members.every((m) => typeof store[m] === 'function');

/** One probe per suite run: a store opened and closed to see what it has. */
const probes = new WeakMap<ConformanceContext, Promise<BacktestCapabilities>>();
function probe(ctx: ConformanceContext): Promise<BacktestCapabilities> {
  let found = probes.get(ctx);
  if (!found) {
    found = (async () => {
      const store = await ctx.createStore();
      try {
        return { runs: has(store, RUN_MEMBERS), params: has(store, PARAM_MEMBERS) };
      } finally {
        await ctx.closeStore(store);
      }
    })();
    probes.set(ctx, found);
  }
  return found;
}

/** A request as a runner stores it: nested objects and arrays, decimal strings, unicode. */
const REQUEST = {
  strategy: 'sma-cross',
  params: { fast: 5, slow: 20 },
  symbols: ['AAPL', 'BRK.B'],
  from: '2025-01-02',
  to: '2025-12-31',
  initialCash: '10000.00',
  commission: { fixed: '0', rate: '0.0005' },
  label: 'café ✓ 📈 日本語 «quoted» \\ "and" \n new line',
};

/** A result: decimal strings with trailing zeros and extreme scales, floats, nulls, empties. */
const RESULT = {
  finalValue: '10234.56780000',
  fills: [
    { day: '2025-02-03', symbol: 'TINY', quantity: '123456789012345678.123456789', price: '0.00000001' },
    { day: '2025-02-04', symbol: 'AAPL', quantity: '-1', price: '1e-12' },
  ],
  metrics: { totalReturn: 0.1234567890123456, sharpe: null, volatility: 1 / 3, trades: 2, flat: true },
  equity: [
    ['2025-01-02', '10000'],
    ['2025-01-03', '10000.10'],
  ],
  notes: [],
  extra: {},
};

const ERROR = { code: 'VALIDATION_FAILED', message: 'params.fast: zu groß — 🚫', details: { field: 'params.fast' } };

const T0 = '2026-03-02T15:00:00.000Z';
const T1 = '2026-03-02T15:00:01.250Z';
const T2 = '2026-03-02T15:00:02.999Z';

/** A queued run (override any field). */
function run(id: string, over: Partial<BacktestRunRow> = {}): BacktestRunRow {
  return {
    id,
    ownerId: 'user-1',
    kind: 'single',
    status: 'queued',
    request: REQUEST,
    progressDone: 0,
    progressTotal: 0,
    result: null,
    error: null,
    createdAt: T0,
    startedAt: null,
    finishedAt: null,
    ...over,
  };
}

/** Registers the backtest checks. Probes the store's capabilities first (one store opened and closed). */
export function describeBacktestRuns(ctx: ConformanceContext): void {
  const { describe, expect } = vitest();
  describe('backtests', async () => {
    const can = await probe(ctx);

    describe('backtest runs', () => {
      const h = ctx.useFixture();
      const runs = () => withMembers(h.store, ...RUN_MEMBERS);

      itWhen(can.runs, optional(RUN_MEMBERS), 'reads a run back exactly as saved, JSON included', async () => {
        const s = runs();
        const done = run('bt_rt_1', {
          kind: 'compare',
          status: 'succeeded',
          progressDone: 250,
          progressTotal: 250,
          result: RESULT,
          startedAt: T1,
          finishedAt: T2,
        });
        const failed = run('bt_rt_2', { ownerId: null, status: 'failed', error: ERROR, finishedAt: T1 });
        await s.saveBacktestRun(done);
        await s.saveBacktestRun(failed);
        const back = await s.getBacktestRun('bt_rt_1');
        expect(back).toEqual(done);
        // Exactly: the same JSON text, so no decimal string became a number or lost a zero.
        expect(JSON.stringify(back?.result)).toBe(JSON.stringify(RESULT));
        expect(JSON.stringify(back?.request)).toBe(JSON.stringify(REQUEST));
        expect(await s.getBacktestRun('bt_rt_2')).toEqual(failed);
        expect(await s.getBacktestRun('bt_rt_missing')).toBeNull();
        // A copy: changing what came back changes nothing stored.
        (back?.result as { finalValue: string }).finalValue = '0';
        expect((await s.getBacktestRun('bt_rt_1'))?.result).toEqual(RESULT);
      });

      itWhen(can.runs, optional(RUN_MEMBERS), 'a save with an existing id replaces the whole run', async () => {
        const s = runs();
        await s.saveBacktestRun(run('bt_re_1', { result: { a: '1' } }));
        const replaced = run('bt_re_1', {
          ownerId: 'user-2',
          status: 'cancelled',
          request: { other: ['x'] },
          result: null,
          error: { code: 'CANCELLED', message: 'cancelled' },
          finishedAt: T2,
        });
        await s.saveBacktestRun(replaced);
        expect(await s.getBacktestRun('bt_re_1')).toEqual(replaced);
        const all = await s.listBacktestRuns({ limit: 1000 });
        expect(all.filter((r) => r.id === 'bt_re_1')).toHaveLength(1);
      });

      itWhen(
        can.runs,
        optional(RUN_MEMBERS),
        'updates a run only from the given statuses, and only the fields given',
        async () => {
          const s = runs();
          const queued = run('bt_up_1', { result: { keep: '1.10' } });
          await s.saveBacktestRun(queued);

          // From a status it is not in: false, and nothing changes.
          expect(await s.updateBacktestRun('bt_up_1', ['running'], { status: 'succeeded', finishedAt: T2 })).toBe(
            false,
          );
          expect(await s.getBacktestRun('bt_up_1')).toEqual(queued);
          expect(await s.updateBacktestRun('bt_up_1', [], { status: 'running' })).toBe(false);
          expect(await s.getBacktestRun('bt_up_1')).toEqual(queued);
          expect(await s.updateBacktestRun('bt_up_missing', ['queued'], { status: 'running' })).toBe(false);
          expect(await s.getBacktestRun('bt_up_missing')).toBeNull();

          // From its status: true, the fields given change and the others stay.
          expect(
            await s.updateBacktestRun('bt_up_1', ['queued'], { status: 'running', startedAt: T1, progressTotal: 500 }),
          ).toBe(true);
          const running = { ...queued, status: 'running' as const, startedAt: T1, progressTotal: 500 };
          expect(await s.getBacktestRun('bt_up_1')).toEqual(running);
          expect(await s.updateBacktestRun('bt_up_1', ['running'], { progressDone: 120, result: undefined })).toBe(
            true,
          );
          expect(await s.getBacktestRun('bt_up_1')).toEqual({ ...running, progressDone: 120 });

          // Cancelled is final for a caller that only moves queued or running runs.
          expect(
            await s.updateBacktestRun('bt_up_1', ['queued', 'running'], {
              status: 'cancelled',
              finishedAt: T2,
              result: null,
              error: { code: 'CANCELLED', message: 'cancelled by the user' },
            }),
          ).toBe(true);
          const cancelled = {
            ...running,
            progressDone: 120,
            status: 'cancelled' as const,
            finishedAt: T2,
            result: null,
            error: { code: 'CANCELLED', message: 'cancelled by the user' },
          };
          expect(await s.getBacktestRun('bt_up_1')).toEqual(cancelled);
          expect(
            await s.updateBacktestRun('bt_up_1', ['queued', 'running'], { status: 'succeeded', result: RESULT }),
          ).toBe(false);
          expect(await s.getBacktestRun('bt_up_1')).toEqual(cancelled);
        },
      );

      itWhen(can.runs, optional(RUN_MEMBERS), 'of concurrent claims of a queued run, exactly one wins', async () => {
        const s = runs();
        for (let i = 0; i < 5; i++) {
          const id = `bt_claim_${i}`;
          await s.saveBacktestRun(run(id));
          const claims = await Promise.all(
            ['a', 'b', 'c'].map((who) =>
              s.updateBacktestRun(id, ['queued'], { status: 'running', startedAt: T1, error: { by: who } }),
            ),
          );
          expect(claims.filter(Boolean)).toHaveLength(1);
          const winner = ['a', 'b', 'c'][claims.indexOf(true)];
          const after = await s.getBacktestRun(id);
          expect(after?.status).toBe('running');
          expect(after?.error).toEqual({ by: winner });
        }
      });
    });

    describe('backtest run lists', () => {
      const h = ctx.useFixture();
      const ids = (rows: readonly BacktestRunRow[]) => rows.map((r) => r.id);

      itWhen(
        can.runs,
        optional(RUN_MEMBERS),
        'lists newest first (id descending) by owner, owner null, statuses, beforeId and limit',
        async () => {
          const s = withMembers(h.store, ...RUN_MEMBERS);
          // Saved out of id order: the order comes from the ids, not from the saves.
          const saved = [
            run('bt_03', { ownerId: null, status: 'failed', error: ERROR }),
            run('bt_01', { ownerId: 'u1', status: 'succeeded', result: RESULT }),
            run('bt_05', { ownerId: 'u1', status: 'queued' }),
            run('bt_02', { ownerId: 'u2', status: 'queued' }),
            run('bt_06', { ownerId: null, status: 'queued' }),
            run('bt_04', { ownerId: 'u1', status: 'running', startedAt: T1 }),
          ];
          for (const r of saved) await s.saveBacktestRun(r);

          const all = await s.listBacktestRuns({ limit: 100 });
          expect(ids(all)).toEqual(['bt_06', 'bt_05', 'bt_04', 'bt_03', 'bt_02', 'bt_01']);
          expect(all.find((r) => r.id === 'bt_01')).toEqual(saved[1]);
          expect(ids(await s.listBacktestRuns({ ownerId: 'u1', limit: 100 }))).toEqual(['bt_05', 'bt_04', 'bt_01']);
          expect(ids(await s.listBacktestRuns({ ownerId: null, limit: 100 }))).toEqual(['bt_06', 'bt_03']);
          expect(ids(await s.listBacktestRuns({ ownerId: 'nobody', limit: 100 }))).toEqual([]);
          expect(ids(await s.listBacktestRuns({ statuses: ['queued', 'running'], limit: 100 }))).toEqual([
            'bt_06',
            'bt_05',
            'bt_04',
            'bt_02',
          ]);
          expect(ids(await s.listBacktestRuns({ ownerId: 'u1', statuses: ['queued'], limit: 100 }))).toEqual(['bt_05']);
          expect(ids(await s.listBacktestRuns({ beforeId: 'bt_05', limit: 2 }))).toEqual(['bt_04', 'bt_03']);
          expect(ids(await s.listBacktestRuns({ ownerId: 'u1', beforeId: 'bt_04', limit: 100 }))).toEqual(['bt_01']);
          expect(ids(await s.listBacktestRuns({ beforeId: 'bt_01', limit: 100 }))).toEqual([]);
          expect(ids(await s.listBacktestRuns({ limit: 1 }))).toEqual(['bt_06']);

          // Pages of two, each after the last id of the one before, visit every run once in order.
          const paged: string[] = [];
          let beforeId: string | undefined;
          for (;;) {
            const page = await s.listBacktestRuns({ limit: 2, ...(beforeId ? { beforeId } : {}) });
            if (page.length === 0) break;
            paged.push(...ids(page));
            beforeId = page[page.length - 1]?.id;
          }
          expect(paged).toEqual(ids(all));
        },
      );
    });

    describe('strategy parameters', () => {
      const h = ctx.useFixture();

      itWhen(
        can.params,
        optional(PARAM_MEMBERS),
        'keeps one row per (owner, strategy), replaced by a later set, read back exactly',
        async () => {
          const s = withMembers(h.store, ...PARAM_MEMBERS);
          expect(await s.getStrategyParams('u1', 'sma-cross')).toBeNull();

          const first = {
            ownerId: 'u1',
            strategy: 'sma-cross',
            params: { fast: 5, slow: 20, band: '0.10', tag: 'ünïcødé 📈' },
            updatedAt: T0,
          };
          await s.setStrategyParams(first);
          expect(await s.getStrategyParams('u1', 'sma-cross')).toEqual(first);
          expect(JSON.stringify((await s.getStrategyParams('u1', 'sma-cross'))?.params)).toBe(
            JSON.stringify(first.params),
          );

          // Per owner and per strategy.
          const other = { ownerId: 'u2', strategy: 'sma-cross', params: { fast: 7, slow: 9 }, updatedAt: T1 };
          await s.setStrategyParams(other);
          const momentum = { ownerId: 'u1', strategy: 'momentum', params: {}, updatedAt: T1 };
          await s.setStrategyParams(momentum);
          expect(await s.getStrategyParams('u1', 'sma-cross')).toEqual(first);
          expect(await s.getStrategyParams('u2', 'sma-cross')).toEqual(other);
          expect(await s.getStrategyParams('u1', 'momentum')).toEqual(momentum);
          expect(await s.getStrategyParams('u2', 'momentum')).toBeNull();
          expect(await s.getStrategyParams('u3', 'sma-cross')).toBeNull();

          // A later set replaces the whole row: nothing of the old params is merged in.
          const second = { ...first, params: { fast: 8, slow: 21 }, updatedAt: T2 };
          await s.setStrategyParams(second);
          expect(await s.getStrategyParams('u1', 'sma-cross')).toEqual(second);
          expect(await s.getStrategyParams('u2', 'sma-cross')).toEqual(other);
          expect(await s.getStrategyParams('u1', 'momentum')).toEqual(momentum);
        },
      );
    });
  });
}
