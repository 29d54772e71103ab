/**
 * The store race conformance suite: concurrent calls through the real engine on one portfolio,
 * which a store must serialise (it locks the portfolio in {@link Store.applyLedgerChange}). Every
 * built-in store runs it, and so can any third-party store. The calls of each race are fired at
 * once (`Promise.all`) and spread round-robin over one engine per store instance, so with
 * `instances: 2` the races play two app servers sharing one database.
 *
 * The companion of `runStoreConformance`, which runs one call at a time.
 */
import type { PortfolioEngine } from '../../engine/index.js';
import type { Store } from '../../ports/index.js';
import { vitest } from '../runtime.js';
import { itWhen } from './context.js';
import {
  DEFAULT_CALLS,
  engineOn,
  expectNoOverbuy,
  expectNoOversell,
  expectOneSpender,
  expectOneTrade,
  expectStateMatchesLedger,
  first,
  MIN_CALLS,
  naiveStore,
  OVERBUY,
  OVERSELL,
  overbuyRace,
  oversellRace,
  overspendRace,
  type RaceContext,
  type RaceOutcome,
  SAME_KEY_CALLS,
  SAME_KEY_REPLAYS,
  sameKeyRace,
} from './races.js';

/** Options of {@link runStoreRaceConformance}. */
export interface StoreRaceConformanceOptions {
  /** Shown in test names. */
  name: string;
  /**
   * Opens one store instance. The suite calls it `instances` times (with `instance` = 0, 1, …)
   * before its first test, and **every store it returns must be on the same database** (same file,
   * schema or namespace), as app servers sharing one database are. The races create their own
   * portfolios, so the database need not be empty. The suite checks the sharing: a portfolio
   * created through the first store must be visible through every other.
   */
  createStore: (instance: number) => Promise<Store>;
  /** Closes a store opened by the suite. @default store.close() */
  closeStore?: (store: Store) => Promise<void>;
  /**
   * Engines per race, each on its own store from {@link StoreRaceConformanceOptions.createStore}.
   * More than one needs stores that declare `supportsMultiInstance: true`. @default 1
   */
  instances?: number;
  /**
   * Concurrent calls in the oversell, overbuy and overspend races (at least 100, so that most
   * calls must lose). The idempotency race always fires 50 at once, then replays 50 one by one.
   * @default 200
   */
  calls?: number;
  /**
   * Also prove that the races bite: a {@link naiveStore} wrapper of the same stores (read and write
   * in two transactions, no lock) must oversell the oversell race. @default true
   */
  checkNaiveBites?: boolean;
  /**
   * Your own race tests, sharing the suite's stores and engines: called once inside the suite's
   * `describe`, before the final replay check, which also covers every portfolio you `track`.
   *
   * @example
   * ```ts
   * extend: (race) => {
   *   it('my race', async () => {
   *     const r = await oversellRace(race.context(), 300);
   *     race.track(r.portfolioId);
   *     await expectNoOversell(race.context(), r);
   *   });
   * },
   * ```
   */
  extend?: (race: RaceSuiteContext) => void;
}

/** What {@link StoreRaceConformanceOptions.extend} receives. */
export interface RaceSuiteContext {
  /** The suite's engines (one per instance) and the store checks read through; inside tests only. */
  context(): RaceContext;
  /** The suite's stores, one per instance, opened before the first test. */
  readonly stores: readonly Store[];
  /** Adds a portfolio to the final check: its state equals a replay of its ledger through every store. */
  track(portfolioId: string): void;
}

/**
 * Registers the race conformance suite with vitest. Call it at the top level of a test file, once
 * per setup to prove (say, one instance and two). Every race checks exact counts and exact cash,
 * and that the stored state equals a replay of the ledger:
 *
 * - oversell: `calls` sells of 1 share against 10 → exactly 10 fills, the rest
 *   `INSUFFICIENT_QUANTITY`, quantity 0, cash exact;
 * - overbuy: `calls` buys with cash for exactly 50 → exactly 50 fills, cash 0;
 * - overspend: `calls` withdrawals and buys each worth 60 % of the cash → exactly one wins;
 * - 50 concurrent trades under one idempotency key, then 50 sequential replays, with and without a
 *   price → one trade, 100 identical answers;
 * - afterwards every portfolio the races touched equals a replay of its ledger, read through every
 *   store instance;
 * - unless `checkNaiveBites: false`, a {@link naiveStore} over the same stores oversells.
 *
 * @example
 * ```ts
 * // test/race.test.ts in your package: one database namespace for the file, dropped afterwards
 * import { runStoreRaceConformance } from '@foliokit/core/testing';
 * import { afterAll } from 'vitest';
 * import { createMyStore, dropNamespace } from '../src/index.js';
 *
 * const namespace = `race_${Date.now()}`;
 * afterAll(() => dropNamespace(namespace));
 *
 * runStoreRaceConformance({ name: 'my-store', createStore: () => createMyStore({ namespace }) });
 * // Two app servers on one database: each call opens its own pool on the same namespace.
 * runStoreRaceConformance({ name: 'my-store', instances: 2, createStore: () => createMyStore({ namespace }) });
 * ```
 */
export function runStoreRaceConformance(options: StoreRaceConformanceOptions): void {
  const { afterAll, beforeAll, describe, expect, it } = vitest();
  const instances = options.instances ?? 1;
  const calls = options.calls ?? DEFAULT_CALLS;
  const checkNaiveBites = options.checkNaiveBites ?? true;
  if (!Number.isInteger(instances) || instances < 1) {
    throw new TypeError(`runStoreRaceConformance: instances must be an integer ≥ 1, got ${instances}`);
  }
  if (!Number.isInteger(calls) || calls < MIN_CALLS) {
    throw new TypeError(`runStoreRaceConformance: calls must be an integer ≥ ${MIN_CALLS}, got ${calls}`);
  }

  const label = `${options.name} (${instances} ${instances === 1 ? 'engine' : 'engines, one store each'})`;

  describe(`store race conformance: ${label}`, () => {
    const stores: Store[] = [];
    const engines: PortfolioEngine[] = [];
    /** Portfolios of the races that must be correct. */
    const touched: string[] = [];
    // The checks read through the last store: with several instances, not the one that created.
    const ctx = (): RaceContext => ({ engines, store: stores[stores.length - 1] as Store });
    const race = async (outcome: Promise<RaceOutcome>) => {
      const r = await outcome;
      touched.push(r.portfolioId);
      return r;
    };

    beforeAll(async () => {
      for (let i = 0; i < instances; i++) stores.push(await options.createStore(i));
      if (instances > 1) {
        const single = stores.find((s) => s.supportsMultiInstance !== true);
        if (single) {
          throw new Error(
            `runStoreRaceConformance: instances: ${instances} needs stores with supportsMultiInstance: true, and store "${single.name}" does not declare it`,
          );
        }
      }
      engines.push(...stores.map(engineOn));
      if (instances > 1) {
        const probe = await first(ctx()).createPortfolio({ name: 'race-conformance-probe' });
        for (const [i, s] of stores.entries()) {
          if (!(await s.getPortfolio(probe.id))) {
            throw new Error(
              `runStoreRaceConformance: createStore(${i}) returned a store on another database than createStore(0); every instance must share one database`,
            );
          }
        }
        await first(ctx()).deletePortfolio(probe.id);
      }
    });

    afterAll(async () => {
      for (const e of engines) await e.close();
      for (const s of stores) await (options.closeStore ? options.closeStore(s) : s.close());
    });

    it(`${calls} sells of 1 against 10 shares: exactly 10 fill, ${calls - OVERSELL.held} INSUFFICIENT_QUANTITY, cash exact`, async () => {
      await expectNoOversell(ctx(), await race(oversellRace(ctx(), calls)));
    });

    it(`${calls} buys with cash for exactly ${OVERBUY.affordable}: exactly ${OVERBUY.affordable} fill, cash 0`, async () => {
      await expectNoOverbuy(ctx(), await race(overbuyRace(ctx(), calls)));
    });

    it(`${calls} buys and withdrawals each worth 60 % of the cash: exactly one wins`, async () => {
      await expectOneSpender(ctx(), await race(overspendRace(ctx(), calls)));
    });

    const sameKey = `${SAME_KEY_CALLS} concurrent trades and ${SAME_KEY_REPLAYS} sequential replays under one idempotency key`;
    const identical = `one trade, ${SAME_KEY_CALLS + SAME_KEY_REPLAYS} identical answers`;

    it(`${sameKey}, with a price: ${identical}`, async () => {
      const r = await race(sameKeyRace(ctx(), true));
      expect(r.calls).toBe(SAME_KEY_CALLS + SAME_KEY_REPLAYS);
      await expectOneTrade(ctx(), r);
    });

    it(`${sameKey}, priced by the provider: ${identical}`, async () => {
      const r = await race(sameKeyRace(ctx(), false));
      expect(r.calls).toBe(SAME_KEY_CALLS + SAME_KEY_REPLAYS);
      await expectOneTrade(ctx(), r);
    });

    options.extend?.({ context: ctx, stores, track: (id) => void touched.push(id) });

    it('afterwards every raced portfolio equals a replay of its ledger, read through every instance', async () => {
      for (const s of stores) {
        for (const id of touched) await expectStateMatchesLedger(s, id);
      }
    });

    itWhen(
      checkNaiveBites,
      'the options set checkNaiveBites: false',
      'bites: a read-modify-write store without a lock oversells the same race',
      async () => {
        const naive = stores.map(naiveStore).map(engineOn);
        try {
          const naiveCtx: RaceContext = { engines: naive, store: ctx().store };
          const r = await oversellRace(naiveCtx, calls);
          expect(r.fills).toBeGreaterThan(OVERSELL.held);
          await expect(expectNoOversell(naiveCtx, r)).rejects.toThrow();
        } finally {
          for (const e of naive) await e.close();
        }
      },
    );
  });
}
