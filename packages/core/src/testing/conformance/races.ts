/**
 * The races of the store race conformance suite and their checks: each fires concurrent calls on
 * one portfolio through the real engine and counts what won, and each check asserts exact counts,
 * exact cash and a state equal to a replay of the ledger. Also `naiveStore`, the store without a
 * lock that proves the races bite. Exported for authors' own race and crash tests.
 */
import { createPortfolioEngine, type PortfolioEngine, type Transaction } from '../../engine/index.js';
import { type ErrorCode, FoliokitError, isFoliokitError } from '../../errors.js';
import { replayLedger } from '../../ledger/index.js';
import { silentLogger } from '../../logger.js';
import { dec, fmt, ZERO } from '../../money/decimal.js';
import type { LedgerState, PortfolioRow, Store, TransactionRow } from '../../ports/index.js';
import { createTestProvider } from '../provider.js';
import { vitest } from '../runtime.js';

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
export const PRICES = { AAPL: '150.25', MSFT: '19.99', NVDA: '100' };

/** Prices and fees with many decimals, so "cash exact" means something. */
export const OVERSELL = {
  cash: '10000',
  held: 10,
  buyPrice: '123.4567',
  buyFee: '0.01',
  sellPrice: '130.0101',
  sellFee: '0.02',
};

/** Cash for exactly 50 buys of one share at 19.99 plus a 0.01 fee. */
export const OVERBUY = { affordable: 50, price: '19.99', fee: '0.01' };

/** Concurrent calls of the idempotency race. */
export const SAME_KEY_CALLS = 50;

/** Sequential replays of the idempotency race, after its concurrent calls. */
export const SAME_KEY_REPLAYS = 50;

export const DEFAULT_CALLS = 200;
export const MIN_CALLS = 100;

/**
 * Fires `calls` calls at once, spread round-robin over the context's engines, and counts what won.
 */
export async function fire(
  ctx: RaceContext,
  portfolioId: string,
  calls: number,
  call: (engine: PortfolioEngine, i: number) => Promise<Transaction>,
): Promise<RaceOutcome> {
  const settled = await Promise.allSettled(Array.from({ length: calls }, (_, i) => call(engineFor(ctx, i), i)));
  return tally(portfolioId, settled);
}

/**
 * Makes `calls` calls one after another (each starts when the previous one has settled), spread
 * round-robin over the context's engines, and counts what won.
 */
export async function fireInTurn(
  ctx: RaceContext,
  portfolioId: string,
  calls: number,
  call: (engine: PortfolioEngine, i: number) => Promise<Transaction>,
): Promise<RaceOutcome> {
  const settled: PromiseSettledResult<Transaction>[] = [];
  for (let i = 0; i < calls; i++) {
    const [one] = await Promise.allSettled([call(engineFor(ctx, i), i)]);
    settled.push(one as PromiseSettledResult<Transaction>);
  }
  return tally(portfolioId, settled);
}

const engineFor = (ctx: RaceContext, i: number) => ctx.engines[i % ctx.engines.length] as PortfolioEngine;

function tally(portfolioId: string, settled: readonly PromiseSettledResult<Transaction>[]): RaceOutcome {
  const out: RaceOutcome = { portfolioId, calls: settled.length, fills: 0, errors: {}, answers: [] };
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

export const first = (ctx: RaceContext) => ctx.engines[0] as PortfolioEngine;

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

export async function overbuyRace(ctx: RaceContext, calls: number): Promise<RaceOutcome> {
  const o = OVERBUY;
  const cash = fmt(dec(o.affordable).times(dec(o.price).plus(o.fee)));
  const p = await first(ctx).createPortfolio({ name: 'overbuy', initialCash: cash });
  return fire(ctx, p.id, calls, (e) =>
    e.trade(p.id, { symbol: 'MSFT', side: 'buy', quantity: 1, price: o.price, fee: o.fee }),
  );
}

export async function expectNoOverbuy(ctx: RaceContext, r: RaceOutcome): Promise<void> {
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
export async function overspendRace(ctx: RaceContext, calls: number): Promise<RaceOutcome> {
  const p = await first(ctx).createPortfolio({ name: 'overspend', initialCash: '1000' });
  return fire(ctx, p.id, calls, (e, i) =>
    i % 2 === 0
      ? e.withdraw(p.id, { amount: '600' })
      : e.trade(p.id, { symbol: 'NVDA', side: 'buy', quantity: 6, price: '100' }),
  );
}

export async function expectOneSpender(ctx: RaceContext, r: RaceOutcome): Promise<void> {
  const { expect } = vitest();
  expect(r.errors).toEqual({ INSUFFICIENT_CASH: r.calls - 1 });
  expect(r.fills).toBe(1);
  const { portfolio, ledger } = await expectStateMatchesLedger(ctx.store, r.portfolioId);
  expect(portfolio.cash).toBe('400');
  // The opening deposit and the one winner.
  expect(ledger).toHaveLength(2);
}

/**
 * {@link SAME_KEY_CALLS} concurrent trades under one idempotency key, then
 * {@link SAME_KEY_REPLAYS} more of the same trade one after another. With a price each goes straight
 * to the store; without, the engine first looks for a replay, then asks the provider for a price.
 * The outcome holds the answers of both, concurrent first. Check it with {@link expectOneTrade}.
 */
export async function sameKeyRace(ctx: RaceContext, withPrice: boolean): Promise<RaceOutcome> {
  const p = await first(ctx).createPortfolio({ name: 'same-key', initialCash: '100000' });
  const call = (e: PortfolioEngine) =>
    e.trade(p.id, {
      symbol: 'AAPL',
      side: 'buy',
      quantity: '2.5',
      ...(withPrice ? { price: PRICES.AAPL } : {}),
      idempotencyKey: 'order-42',
    });
  const together = await fire(ctx, p.id, SAME_KEY_CALLS, call);
  const inTurn = await fireInTurn(ctx, p.id, SAME_KEY_REPLAYS, call);
  return merge(together, inTurn);
}

/** Two outcomes on one portfolio as one: counts added, answers of `a` first. */
function merge(a: RaceOutcome, b: RaceOutcome): RaceOutcome {
  const errors = { ...a.errors };
  for (const [code, n] of Object.entries(b.errors) as Array<[keyof RaceOutcome['errors'], number]>) {
    errors[code] = (errors[code] ?? 0) + n;
  }
  return {
    portfolioId: a.portfolioId,
    calls: a.calls + b.calls,
    fills: a.fills + b.fills,
    errors,
    answers: [...a.answers, ...b.answers],
  };
}

/**
 * Asserts that a {@link sameKeyRace} made exactly one trade: every call succeeded with the same
 * answer, the ledger holds one buy (the one answered), and cash paid for it once.
 */
export async function expectOneTrade(ctx: RaceContext, r: RaceOutcome): Promise<void> {
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

export function engineOn(store: Store): PortfolioEngine {
  return createPortfolioEngine({ store, marketData: createTestProvider({ prices: PRICES }), logger: silentLogger });
}
