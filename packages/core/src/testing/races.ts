/**
 * The store race conformance suite: concurrent calls through the real engine on one portfolio,
 * which a store must serialise (it locks the portfolio in {@link Store.applyLedgerChange}). Every
 * built-in store runs it, and so can any third-party store. The calls of each race are fired at
 * once (`Promise.all`) and spread round-robin over one engine per store instance, so with
 * `instances: 2` the races play two app servers sharing one database.
 *
 * The companion of `runStoreConformance`, which runs one call at a time.
 */

import { createPortfolioEngine, type PortfolioEngine } from '../engine/engine.js';
import type { Transaction } from '../engine/types.js';
import { type ErrorCode, FoliokitError, isFoliokitError } from '../errors.js';
import { replayLedger } from '../ledger/ledger.js';
import { silentLogger } from '../logger.js';
import { dec, fmt, ZERO } from '../money/decimal.js';
import type { LedgerState, PortfolioRow, Store, TransactionRow } from '../ports/index.js';
import { createTestProvider } from './provider.js';
import { vitest } from './runtime.js';

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
   * calls must lose). The idempotency race always fires 20. @default 200
   */
  calls?: number;
  /**
   * Also prove that the races bite: a {@link naiveStore} wrapper of the same stores (read and write
   * in two transactions, no lock) must oversell the oversell race. @default true
   */
  checkNaiveBites?: boolean;
}

/** Where a race runs. */
export interface RaceContext {
  /** Engines to spread the calls over, round-robin; all on the same database. */
  engines: PortfolioEngine[];
  /** The store the checks afterwards read through. */
  store: Store;
}

/** What a race produced. */
export interface RaceOutcome {
  portfolioId: string;
  /** Calls fired. */
  calls: number;
  /** Calls that succeeded. */
  fills: number;
  /** Failed calls by error code (`OTHER` for errors that are not foliokit's). */
  errors: Partial<Record<ErrorCode | 'OTHER', number>>;
  /** The answers of the calls that succeeded. */
  answers: Transaction[];
}

/** Prices the races' engines quote. */
const PRICES = { AAPL: '150.25', MSFT: '19.99', NVDA: '100' };

/** Prices and fees with many decimals, so "cash exact" means something. */
const OVERSELL = {
  cash: '10000',
  held: 10,
  buyPrice: '123.4567',
  buyFee: '0.01',
  sellPrice: '130.0101',
  sellFee: '0.02',
};

/** Cash for exactly 50 buys of one share at 19.99 plus a 0.01 fee. */
const OVERBUY = { affordable: 50, price: '19.99', fee: '0.01' };

/** Calls of the idempotency race. */
const SAME_KEY_CALLS = 20;

const DEFAULT_CALLS = 200;
const MIN_CALLS = 100;

async function fire(
  ctx: RaceContext,
  portfolioId: string,
  calls: number,
  call: (engine: PortfolioEngine, i: number) => Promise<Transaction>,
): Promise<RaceOutcome> {
  const settled = await Promise.allSettled(
    Array.from({ length: calls }, (_, i) => call(ctx.engines[i % ctx.engines.length] as PortfolioEngine, i)),
  );
  const out: RaceOutcome = { portfolioId, calls, fills: 0, errors: {}, answers: [] };
  for (const r of settled) {
    if (r.status === 'fulfilled') {
      out.fills++;
      out.answers.push(r.value);
    } else {
      const code = isFoliokitError(r.reason) ? r.reason.code : 'OTHER';
      if (code === 'OTHER' || code === 'STORE_ERROR') console.error(r.reason);
      out.errors[code] = (out.errors[code] ?? 0) + 1;
    }
  }
  return out;
}

const first = (ctx: RaceContext) => ctx.engines[0] as PortfolioEngine;

/**
 * Asserts that the stored portfolio (cash, net deposits, realized P&L), its positions and, for
 * FIFO, its lots equal a replay of its ledger (core's `replayLedger`), and that the stored cash and
 * quantities are among the values the ledger recorded. Replay sums recorded amounts, so the order of
 * entries that share a timestamp does not matter. Returns the portfolio and its ledger, oldest
 * first, for further checks. Call it inside a vitest test.
 *
 * @example
 * ```ts
 * // after killing a process mid-trade, nothing is half-written:
 * const { ledger } = await expectStateMatchesLedger(store, portfolioId);
 * expect(ledger.map((t) => t.id)).toEqual(expect.arrayContaining(acknowledgedIds));
 * ```
 */
export async function expectStateMatchesLedger(
  store: Store,
  portfolioId: string,
): Promise<{ portfolio: PortfolioRow; ledger: TransactionRow[] }> {
  const { expect } = vitest();
  const portfolio = await store.getPortfolio(portfolioId);
  expect(portfolio, `portfolio ${portfolioId}`).not.toBeNull();
  const p = portfolio as PortfolioRow;
  const ledger = await store.listTransactions(portfolioId, { limit: 1_000_000, order: 'asc' });
  const replay = replayLedger(ledger);
  expect({ cash: p.cash, netDeposits: p.netDeposits, realizedPnl: p.realizedPnl }).toEqual({
    cash: fmt(replay.cash),
    netDeposits: fmt(replay.netDeposits),
    realizedPnl: fmt(replay.realizedPnl),
  });
  const positions = await store.listPositions(portfolioId);
  const stored = Object.fromEntries(positions.map((x) => [x.symbol, [x.quantity, x.costBasis, x.realizedPnl]]));
  const replayed = Object.fromEntries(
    [...replay.positions].map(([symbol, x]) => [symbol, [fmt(x.quantity), fmt(x.costBasis), fmt(x.realizedPnl)]]),
  );
  expect(stored).toEqual(replayed);
  // The last committed entry recorded the cash and quantity it left. Entries are listed by
  // executedAt, which concurrent calls fix before they queue for the lock, so it is not commit
  // order: the stored values must be among those recorded.
  expect(
    ledger.map((t) => t.cashAfter),
    'stored cash among the cashAfter values',
  ).toContain(p.cash);
  for (const x of positions) {
    const recorded = ledger.filter((t) => t.symbol === x.symbol).map((t) => t.quantityAfter);
    expect(recorded, `quantity of ${x.symbol} among the quantityAfter values`).toContain(x.quantity);
  }
  if (p.costBasisMethod === 'fifo') {
    const lots = await store.listLots(portfolioId);
    for (const x of positions) {
      const mine = lots.filter((l) => l.symbol === x.symbol);
      expect(fmt(mine.reduce((s, l) => s.plus(l.quantity), ZERO)), `lots of ${x.symbol}`).toBe(x.quantity);
      expect(fmt(mine.reduce((s, l) => s.plus(l.costBasis), ZERO)), `lot cost of ${x.symbol}`).toBe(x.costBasis);
    }
  }
  return { portfolio: p, ledger };
}

/**
 * The oversell race: `calls` concurrent sells of 1 share against a position of 10. Check it with
 * {@link expectNoOversell}.
 *
 * @example
 * ```ts
 * const ctx = { engines: [engine], store };
 * await expectNoOversell(ctx, await oversellRace(ctx));
 * ```
 */
export async function oversellRace(ctx: RaceContext, calls = DEFAULT_CALLS): Promise<RaceOutcome> {
  const o = OVERSELL;
  const p = await first(ctx).createPortfolio({ name: 'oversell', initialCash: o.cash });
  await first(ctx).trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: o.held, price: o.buyPrice, fee: o.buyFee });
  return fire(ctx, p.id, calls, (e) =>
    e.trade(p.id, { symbol: 'AAPL', side: 'sell', quantity: 1, price: o.sellPrice, fee: o.sellFee }),
  );
}

/**
 * Asserts that an {@link oversellRace} sold exactly the 10 shares held: 10 fills, every other call
 * `INSUFFICIENT_QUANTITY`, quantity 0, cash exact to the last decimal, state equal to a replay of
 * the ledger.
 */
export async function expectNoOversell(ctx: RaceContext, r: RaceOutcome): Promise<void> {
  const { expect } = vitest();
  const o = OVERSELL;
  expect(r.errors).toEqual({ INSUFFICIENT_QUANTITY: r.calls - o.held });
  expect(r.fills).toBe(o.held);
  const cash = dec(o.cash)
    .minus(dec(o.held).times(o.buyPrice).plus(o.buyFee))
    .plus(dec(o.held).times(dec(o.sellPrice).minus(o.sellFee)));
  const { portfolio, ledger } = await expectStateMatchesLedger(ctx.store, r.portfolioId);
  expect(portfolio.cash).toBe(fmt(cash));
  expect(ledger.filter((t) => t.kind === 'sell')).toHaveLength(o.held);
  const [pos] = await ctx.store.listPositions(r.portfolioId);
  expect(pos?.quantity).toBe('0');
  // Every fill saw a distinct quantity: 9, 8, ..., 0.
  expect(r.answers.map((t) => Number(t.quantityAfter)).sort((a, b) => a - b)).toEqual(
    Array.from({ length: o.held }, (_, i) => i),
  );
}

async function overbuyRace(ctx: RaceContext, calls: number): Promise<RaceOutcome> {
  const o = OVERBUY;
  const cash = fmt(dec(o.affordable).times(dec(o.price).plus(o.fee)));
  const p = await first(ctx).createPortfolio({ name: 'overbuy', initialCash: cash });
  return fire(ctx, p.id, calls, (e) =>
    e.trade(p.id, { symbol: 'MSFT', side: 'buy', quantity: 1, price: o.price, fee: o.fee }),
  );
}

async function expectNoOverbuy(ctx: RaceContext, r: RaceOutcome): Promise<void> {
  const { expect } = vitest();
  const o = OVERBUY;
  expect(r.errors).toEqual({ INSUFFICIENT_CASH: r.calls - o.affordable });
  expect(r.fills).toBe(o.affordable);
  const { portfolio, ledger } = await expectStateMatchesLedger(ctx.store, r.portfolioId);
  expect(portfolio.cash).toBe('0');
  expect(ledger.filter((t) => t.kind === 'buy')).toHaveLength(o.affordable);
  const [pos] = await ctx.store.listPositions(r.portfolioId);
  expect(pos?.quantity).toBe(String(o.affordable));
}

/** Withdrawals and buys, alternating, each worth 600 of the 1000 in cash: exactly one can win. */
async function overspendRace(ctx: RaceContext, calls: number): Promise<RaceOutcome> {
  const p = await first(ctx).createPortfolio({ name: 'overspend', initialCash: '1000' });
  return fire(ctx, p.id, calls, (e, i) =>
    i % 2 === 0
      ? e.withdraw(p.id, { amount: '600' })
      : e.trade(p.id, { symbol: 'NVDA', side: 'buy', quantity: 6, price: '100' }),
  );
}

async function expectOneSpender(ctx: RaceContext, r: RaceOutcome): Promise<void> {
  const { expect } = vitest();
  expect(r.errors).toEqual({ INSUFFICIENT_CASH: r.calls - 1 });
  expect(r.fills).toBe(1);
  const { portfolio, ledger } = await expectStateMatchesLedger(ctx.store, r.portfolioId);
  expect(portfolio.cash).toBe('400');
  // The opening deposit and the one winner.
  expect(ledger).toHaveLength(2);
}

/**
 * 20 concurrent trades under one idempotency key. With a price each goes straight to the store;
 * without, the engine first looks for a replay, then asks the provider for a price.
 */
async function sameKeyRace(ctx: RaceContext, withPrice: boolean): Promise<RaceOutcome> {
  const p = await first(ctx).createPortfolio({ name: 'same-key', initialCash: '100000' });
  return fire(ctx, p.id, SAME_KEY_CALLS, (e) =>
    e.trade(p.id, {
      symbol: 'AAPL',
      side: 'buy',
      quantity: '2.5',
      ...(withPrice ? { price: PRICES.AAPL } : {}),
      idempotencyKey: 'order-42',
    }),
  );
}

async function expectOneTrade(ctx: RaceContext, r: RaceOutcome): Promise<void> {
  const { expect } = vitest();
  expect(r.errors).toEqual({});
  expect(r.fills).toBe(r.calls);
  for (const a of r.answers) expect(a).toEqual(r.answers[0]);
  const { portfolio, ledger } = await expectStateMatchesLedger(ctx.store, r.portfolioId);
  const buys = ledger.filter((t) => t.kind === 'buy');
  expect(buys).toHaveLength(1);
  expect(buys[0]?.id).toBe(r.answers[0]?.id);
  expect(portfolio.cash).toBe(fmt(dec('100000').minus(dec('2.5').times(PRICES.AAPL))));
}

/**
 * A deliberately broken store for proving that a race test bites: its `applyLedgerChange` reads
 * the state in one call of the wrapped store and writes the plan in another (read-modify-write
 * without a lock), yielding to the event loop in between. Every other member is the wrapped
 * store's. The oversell race must oversell on it.
 *
 * @example
 * ```ts
 * const naive = naiveStore(store);
 * const r = await oversellRace({ engines: [createPortfolioEngine({ store: naive, marketData })], store });
 * expect(r.fills).toBeGreaterThan(10);
 * ```
 */
export function naiveStore(base: Store): Store {
  async function applyLedgerChange(...[request, plan]: Parameters<Store['applyLedgerChange']>): Promise<void> {
    let state: LedgerState | undefined;
    await base.applyLedgerChange(request, (s) => {
      state = s;
      return null;
    });
    // Another request may run here: exactly the window a lock closes.
    await new Promise((resolve) => setTimeout(resolve, 0));
    await base.applyLedgerChange({ portfolioId: request.portfolioId }, () => {
      if (!state) throw new FoliokitError('STORE_ERROR', 'no state');
      return plan(state);
    });
  }
  return new Proxy(base, {
    get(target, property) {
      if (property === 'applyLedgerChange') return applyLedgerChange;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function engineOn(store: Store): PortfolioEngine {
  return createPortfolioEngine({ store, marketData: createTestProvider({ prices: PRICES }), logger: silentLogger });
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
 * - 20 trades under one idempotency key, with and without a price → one trade, 20 identical
 *   answers;
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

    it(`${SAME_KEY_CALLS} trades under one idempotency key, with a price: one trade, ${SAME_KEY_CALLS} identical answers`, async () => {
      await expectOneTrade(ctx(), await race(sameKeyRace(ctx(), true)));
    });

    it(`${SAME_KEY_CALLS} trades under one idempotency key, priced by the provider: one trade, ${SAME_KEY_CALLS} identical answers`, async () => {
      await expectOneTrade(ctx(), await race(sameKeyRace(ctx(), false)));
    });

    it('afterwards every raced portfolio equals a replay of its ledger, read through every instance', async () => {
      for (const s of stores) {
        for (const id of touched) await expectStateMatchesLedger(s, id);
      }
    });

    if (checkNaiveBites) {
      it('bites: a read-modify-write store without a lock oversells the same race', async () => {
        const naive = stores.map(naiveStore).map(engineOn);
        try {
          const naiveCtx: RaceContext = { engines: naive, store: ctx().store };
          const r = await oversellRace(naiveCtx, calls);
          expect(r.fills).toBeGreaterThan(OVERSELL.held);
          await expect(expectNoOversell(naiveCtx, r)).rejects.toThrow();
        } finally {
          for (const e of naive) await e.close();
        }
      });
    }
  });
}
