/**
 * Per-user strategy parameters on a real SQLite file store, through an engine (the host the HTTP
 * routes hand in), and the store checks of the backtest run and parameter functions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '@foliokit/store-sqlite';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FoliokitError } from '../errors.js';
import type { Store } from '../ports/index.js';
import { createTestEngine, errorOf, type TestEngine } from '../testing/index.js';
import { registerStrategy, unregisterStrategy } from './registry.js';
import { backtestRunStore } from './runs-store.js';
import { defineStrategy } from './strategy.js';
import { getStrategyParams, MAX_STRATEGY_PARAMS_BYTES, saveStrategyParams } from './strategy-params.js';

const dir = mkdtempSync(join(tmpdir(), 'foliokit-strategy-params-'));
let n = 0;
const opened: TestEngine[] = [];
afterAll(async () => {
  for (const t of opened) {
    await t.engine.close();
    await t.store.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

/** An engine on a fresh SQLite file. */
async function engineOnFile(): Promise<TestEngine> {
  const store = await createSqliteStore({ filename: join(dir, `params-${++n}.db`) });
  const t = createTestEngine({ store, start: '2026-03-02T15:00:00.000Z' });
  opened.push(t);
  return t;
}

const noop = () => {};

describe('saveStrategyParams and getStrategyParams', () => {
  afterEach(() => {
    unregisterStrategy('params-test');
  });

  it('answers the defaults before a save, then the saved params (defaults filled in) stamped by the clock', async () => {
    const t = await engineOnFile();
    expect(await getStrategyParams(t.engine, { ownerId: 'u1', strategy: 'sma-cross' })).toEqual({
      params: { fast: 10, slow: 30 },
      saved: false,
      updatedAt: null,
    });
    await t.clock.advance(1500);
    const row = await saveStrategyParams(t.engine, { ownerId: 'u1', strategy: 'sma-cross', params: { fast: 5 } });
    expect(row).toEqual({
      ownerId: 'u1',
      strategy: 'sma-cross',
      params: { fast: 5, slow: 30 },
      updatedAt: '2026-03-02T15:00:01.500Z',
    });
    expect(await t.store.getStrategyParams?.('u1', 'sma-cross')).toEqual(row);
    expect(await getStrategyParams(t.engine, { ownerId: 'u1', strategy: 'sma-cross' })).toEqual({
      params: { fast: 5, slow: 30 },
      saved: true,
      updatedAt: '2026-03-02T15:00:01.500Z',
    });
  });

  it('keeps each owner their own params, and a later save replaces the earlier one', async () => {
    const t = await engineOnFile();
    await saveStrategyParams(t.engine, { ownerId: 'u1', strategy: 'sma-cross', params: { fast: 5, slow: 20 } });
    await t.clock.advance(1000);
    await saveStrategyParams(t.engine, { ownerId: 'u2', strategy: 'sma-cross', params: { fast: 2, slow: 3 } });
    expect((await getStrategyParams(t.engine, { ownerId: 'u1', strategy: 'sma-cross' })).params).toEqual({
      fast: 5,
      slow: 20,
    });
    expect((await getStrategyParams(t.engine, { ownerId: 'u2', strategy: 'sma-cross' })).params).toEqual({
      fast: 2,
      slow: 3,
    });
    expect((await getStrategyParams(t.engine, { ownerId: 'u3', strategy: 'sma-cross' })).saved).toBe(false);

    await t.clock.advance(1000);
    await saveStrategyParams(t.engine, { ownerId: 'u1', strategy: 'sma-cross', params: { slow: 50 } });
    expect(await getStrategyParams(t.engine, { ownerId: 'u1', strategy: 'sma-cross' })).toEqual({
      params: { fast: 10, slow: 50 },
      saved: true,
      updatedAt: '2026-03-02T15:00:02.000Z',
    });
    expect((await getStrategyParams(t.engine, { ownerId: 'u2', strategy: 'sma-cross' })).params).toEqual({
      fast: 2,
      slow: 3,
    });
  });

  it('refuses params the strategy schema refuses, naming params.<path>, and stores nothing', async () => {
    const t = await engineOnFile();
    await saveStrategyParams(t.engine, { ownerId: 'u1', strategy: 'sma-cross', params: { fast: 5, slow: 20 } });
    const before = await t.store.getStrategyParams?.('u1', 'sma-cross');

    const zero = await errorOf(
      saveStrategyParams(t.engine, { ownerId: 'u1', strategy: 'sma-cross', params: { fast: 0 } }),
    );
    expect([zero.code, zero.details.field]).toEqual(['VALIDATION_FAILED', 'params.fast']);
    // The schema's own refinement (fast < slow) names its path too.
    const crossed = await errorOf(
      saveStrategyParams(t.engine, { ownerId: 'u1', strategy: 'sma-cross', params: { fast: 40, slow: 20 } }),
    );
    expect([crossed.code, crossed.details.field]).toEqual(['VALIDATION_FAILED', 'params.fast']);
    const unknownKey = await errorOf(
      saveStrategyParams(t.engine, { ownerId: 'u1', strategy: 'sma-cross', params: { fast: 5, extra: 1 } }),
    );
    expect(unknownKey.code).toBe('VALIDATION_FAILED');
    expect(String(unknownKey.details.field)).toMatch(/^params/);
    const notObject = await errorOf(
      saveStrategyParams(t.engine, {
        ownerId: 'u1',
        strategy: 'sma-cross',
        params: [1, 2] as unknown as Record<string, unknown>,
      }),
    );
    expect([notObject.code, notObject.details.field]).toEqual(['VALIDATION_FAILED', 'params']);

    expect(await t.store.getStrategyParams?.('u1', 'sma-cross')).toEqual(before);
  });

  it('refuses bad owner ids and unknown strategies (NOT_FOUND naming strategy), storing nothing', async () => {
    const t = await engineOnFile();
    for (const ownerId of ['', 'x'.repeat(101), 'nul\u0000byte']) {
      const e = await errorOf(saveStrategyParams(t.engine, { ownerId, strategy: 'sma-cross', params: {} }));
      expect([e.code, e.details.field]).toEqual(['VALIDATION_FAILED', 'ownerId']);
      const g = await errorOf(getStrategyParams(t.engine, { ownerId, strategy: 'sma-cross' }));
      expect([g.code, g.details.field]).toEqual(['VALIDATION_FAILED', 'ownerId']);
    }
    const save = await errorOf(saveStrategyParams(t.engine, { ownerId: 'u1', strategy: 'no-such', params: {} }));
    expect([save.code, save.details.field]).toEqual(['NOT_FOUND', 'strategy']);
    const get = await errorOf(getStrategyParams(t.engine, { ownerId: 'u1', strategy: 'no-such' }));
    expect([get.code, get.details.field]).toEqual(['NOT_FOUND', 'strategy']);
    expect(await t.store.getStrategyParams?.('u1', 'no-such')).toBeNull();
    expect(await t.store.getStrategyParams?.('', 'sma-cross')).toBeNull();
  });

  it('applies defaults a strategy adds later to params saved before, and refuses saved params that no longer fit', async () => {
    const t = await engineOnFile();
    registerStrategy(
      defineStrategy({
        name: 'params-test',
        description: 'v1',
        params: z.strictObject({ period: z.number().int().min(1).default(5) }),
        onBar: noop,
      }),
    );
    await saveStrategyParams(t.engine, { ownerId: 'u1', strategy: 'params-test', params: { period: 9 } });

    registerStrategy(
      defineStrategy({
        name: 'params-test',
        description: 'v2: a band with a default',
        params: z.strictObject({ period: z.number().int().min(1).default(5), band: z.string().default('0.05') }),
        onBar: noop,
      }),
      { replace: true },
    );
    expect(await getStrategyParams(t.engine, { ownerId: 'u1', strategy: 'params-test' })).toEqual({
      params: { period: 9, band: '0.05' },
      saved: true,
      updatedAt: '2026-03-02T15:00:00.000Z',
    });

    registerStrategy(
      defineStrategy({
        name: 'params-test',
        description: 'v3: period must now be at least 10',
        params: z.strictObject({ period: z.number().int().min(10).default(20) }),
        onBar: noop,
      }),
      { replace: true },
    );
    const stale = await errorOf(getStrategyParams(t.engine, { ownerId: 'u1', strategy: 'params-test' }));
    expect([stale.code, stale.details.field, stale.details.saved]).toEqual([
      'VALIDATION_FAILED',
      'params.period',
      true,
    ]);
    // Saving valid ones again is the way out.
    await saveStrategyParams(t.engine, { ownerId: 'u1', strategy: 'params-test', params: {} });
    expect((await getStrategyParams(t.engine, { ownerId: 'u1', strategy: 'params-test' })).params).toEqual({
      period: 20,
    });
  });

  it('answers null params for a strategy without defaults, and refuses params too large to keep', async () => {
    const t = await engineOnFile();
    registerStrategy(
      defineStrategy({
        name: 'params-test',
        description: 'a required note',
        params: z.strictObject({ note: z.string() }),
        onBar: noop,
      }),
    );
    expect(await getStrategyParams(t.engine, { ownerId: 'u1', strategy: 'params-test' })).toEqual({
      params: null,
      saved: false,
      updatedAt: null,
    });
    const big = await errorOf(
      saveStrategyParams(t.engine, {
        ownerId: 'u1',
        strategy: 'params-test',
        params: { note: 'é'.repeat(MAX_STRATEGY_PARAMS_BYTES / 2) },
      }),
    );
    expect([big.code, big.details.field]).toEqual(['VALIDATION_FAILED', 'params']);
    expect(await t.store.getStrategyParams?.('u1', 'params-test')).toBeNull();
    const fits = 'é'.repeat(MAX_STRATEGY_PARAMS_BYTES / 2 - 20);
    await saveStrategyParams(t.engine, { ownerId: 'u1', strategy: 'params-test', params: { note: fits } });
    expect((await getStrategyParams(t.engine, { ownerId: 'u1', strategy: 'params-test' })).params).toEqual({
      note: fits,
    });
  });

  it('refuses params that do not survive JSON, storing nothing', async () => {
    const t = await engineOnFile();
    registerStrategy(
      defineStrategy({
        name: 'params-test',
        description: 'a Date and anything',
        params: z.strictObject({
          at: z.date().optional(),
          since: z.coerce.date().optional(),
          any: z.unknown().optional(),
        }),
        onBar: noop,
      }),
    );
    // A Date becomes a string in JSON, which `since` coerces back: that survives.
    await saveStrategyParams(t.engine, { ownerId: 'u1', strategy: 'params-test', params: { since: '2026-01-02' } });
    expect((await getStrategyParams(t.engine, { ownerId: 'u1', strategy: 'params-test' })).params).toEqual({
      since: new Date('2026-01-02T00:00:00.000Z'),
    });
    // `at` takes only a Date, which comes back from JSON as a string: it would never read back.
    const date = await errorOf(
      saveStrategyParams(t.engine, { ownerId: 'u2', strategy: 'params-test', params: { at: new Date(0) } }),
    );
    expect([date.code, date.details.field]).toEqual(['VALIDATION_FAILED', 'params.at']);
    // A BigInt has no JSON at all.
    const big = await errorOf(
      saveStrategyParams(t.engine, { ownerId: 'u2', strategy: 'params-test', params: { any: 1n } }),
    );
    expect([big.code, big.details.field]).toEqual(['VALIDATION_FAILED', 'params']);
    expect(await t.store.getStrategyParams?.('u2', 'params-test')).toBeNull();
  });
});

describe('stores without the members', () => {
  /** A store with `members` taken away (a third-party store that never had them). */
  function without(store: Store, members: readonly (keyof Store)[]): Store {
    const copy = Object.create(store) as Record<string, unknown>;
    for (const m of members) copy[m] = undefined;
    return copy as unknown as Store;
  }

  it('refuse strategy params with INVALID_CONFIGURATION naming what is missing', async () => {
    const t = await engineOnFile();
    const host = { store: without(t.store, ['setStrategyParams']), clock: t.clock };
    const save = await errorOf(saveStrategyParams(host, { ownerId: 'u1', strategy: 'sma-cross', params: {} }));
    expect([save.code, save.details.missing]).toEqual(['INVALID_CONFIGURATION', ['store.setStrategyParams']]);
    const bare = { store: without(t.store, ['getStrategyParams', 'setStrategyParams']), clock: t.clock };
    const get = await errorOf(getStrategyParams(bare, { ownerId: 'u1', strategy: 'sma-cross' }));
    expect([get.code, get.details.missing]).toEqual([
      'INVALID_CONFIGURATION',
      ['store.getStrategyParams', 'store.setStrategyParams'],
    ]);
  });

  it('refuse backtest runs with INVALID_CONFIGURATION naming what is missing; a full store passes', async () => {
    const t = await engineOnFile();
    expect(backtestRunStore(t.engine.store)).toBe(t.engine.store);
    let caught: unknown;
    try {
      backtestRunStore(without(t.store, ['listBacktestRuns', 'updateBacktestRun']));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(FoliokitError);
    const e = caught as FoliokitError;
    expect([e.code, e.details.field, e.details.missing]).toEqual([
      'INVALID_CONFIGURATION',
      'store',
      ['store.listBacktestRuns', 'store.updateBacktestRun'],
    ]);
  });
});
