/**
 * Race scenarios through the engine, shared by the SQLite and PostgreSQL race tests. Each fires its
 * calls at once (`Promise.all`), spread round-robin over one or more engines (two app servers on
 * one database), then reports what happened; `expect*` helpers assert the promises.
 */
import {
  dec,
  type ErrorCode,
  FoliokitError,
  fmt,
  isFoliokitError,
  type LedgerState,
  type PortfolioEngine,
  type Store,
  type Transaction,
} from '@foliokit/core';
import { expect } from 'vitest';
import { expectStateMatchesLedger } from './ledger.js';

/** Where a scenario runs. */
export interface RaceContext {
  /** Engines to spread the calls over; all on the same database. */
  engines: PortfolioEngine[];
  /** The store used for the checks afterwards. */
  store: Store;
}

/** What a race produced. */
export interface RaceOutcome {
  portfolioId: string;
  /** Calls that succeeded. */
  fills: number;
  /** Failed calls by error code. */
  errors: Partial<Record<ErrorCode | 'OTHER', number>>;
  /** The answers of the calls that succeeded. */
  answers: Transaction[];
}

async function fire(
  ctx: RaceContext,
  portfolioId: string,
  n: number,
  call: (engine: PortfolioEngine, i: number) => Promise<Transaction>,
): Promise<RaceOutcome> {
  const settled = await Promise.allSettled(
    Array.from({ length: n }, (_, i) => call(ctx.engines[i % ctx.engines.length] as PortfolioEngine, i)),
  );
  const out: RaceOutcome = { portfolioId, fills: 0, errors: {}, answers: [] };
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

/** Prices and fees with many decimals, so "cash exact" means something. */
export const OVERSELL = {
  held: 10,
  calls: 200,
  buyPrice: '123.4567',
  buyFee: '0.01',
  sellPrice: '130.0101',
  sellFee: '0.02',
};

/** 200 concurrent sells of 1 share against a position of 10. */
export async function oversellRace(ctx: RaceContext): Promise<RaceOutcome> {
  const o = OVERSELL;
  const p = await first(ctx).createPortfolio({ name: 'oversell', initialCash: '10000' });
  await first(ctx).trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: o.held, price: o.buyPrice, fee: o.buyFee });
  return fire(ctx, p.id, o.calls, (e) =>
    e.trade(p.id, { symbol: 'AAPL', side: 'sell', quantity: 1, price: o.sellPrice, fee: o.sellFee }),
  );
}

/** Asserts the oversell race sold exactly what was held, to the last decimal. */
export async function expectNoOversell(ctx: RaceContext, r: RaceOutcome): Promise<void> {
  const o = OVERSELL;
  expect(r.errors).toEqual({ INSUFFICIENT_QUANTITY: o.calls - o.held });
  expect(r.fills).toBe(o.held);
  const cash = dec('10000')
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

/** Cash for exactly 50 buys of one share at 19.99 plus a 0.01 fee; 200 try. */
export const OVERBUY = { affordable: 50, calls: 200, price: '19.99', fee: '0.01' };

/** 200 concurrent buys with cash for exactly 50. */
export async function overbuyRace(ctx: RaceContext): Promise<RaceOutcome> {
  const o = OVERBUY;
  const cash = fmt(dec(o.affordable).times(dec(o.price).plus(o.fee)));
  const p = await first(ctx).createPortfolio({ name: 'overbuy', initialCash: cash });
  return fire(ctx, p.id, o.calls, (e) =>
    e.trade(p.id, { symbol: 'MSFT', side: 'buy', quantity: 1, price: o.price, fee: o.fee }),
  );
}

/** Asserts exactly the affordable buys went through and cash ends at exactly zero. */
export async function expectNoOverbuy(ctx: RaceContext, r: RaceOutcome): Promise<void> {
  const o = OVERBUY;
  expect(r.errors).toEqual({ INSUFFICIENT_CASH: o.calls - o.affordable });
  expect(r.fills).toBe(o.affordable);
  const { portfolio, ledger } = await expectStateMatchesLedger(ctx.store, r.portfolioId);
  expect(portfolio.cash).toBe('0');
  expect(ledger.filter((t) => t.kind === 'buy')).toHaveLength(o.affordable);
  const [pos] = await ctx.store.listPositions(r.portfolioId);
  expect(pos?.quantity).toBe(String(o.affordable));
}

/** Concurrent buys and withdrawals, each worth 60 % of the cash: exactly one can win. */
export async function overspendRace(ctx: RaceContext, calls = 100): Promise<RaceOutcome> {
  const p = await first(ctx).createPortfolio({ name: 'overspend', initialCash: '1000' });
  return fire(ctx, p.id, calls, (e, i) =>
    i % 2 === 0
      ? e.withdraw(p.id, { amount: '600' })
      : e.trade(p.id, { symbol: 'NVDA', side: 'buy', quantity: 6, price: '100' }),
  );
}

/** Asserts one winner in the overspend race. */
export async function expectOneSpender(ctx: RaceContext, r: RaceOutcome, calls = 100): Promise<void> {
  expect(r.fills).toBe(1);
  expect(r.errors).toEqual({ INSUFFICIENT_CASH: calls - 1 });
  const { portfolio } = await expectStateMatchesLedger(ctx.store, r.portfolioId);
  expect(portfolio.cash).toBe('400');
}

/**
 * 20 concurrent trades under one idempotency key. With `price`, each goes straight to the store;
 * without, the engine first looks for a replay, then asks the provider for a price.
 */
export async function sameKeyRace(
  ctx: RaceContext,
  options: { withPrice: boolean; calls?: number },
): Promise<RaceOutcome> {
  const calls = options.calls ?? 20;
  const p = await first(ctx).createPortfolio({ name: 'same-key', initialCash: '100000' });
  return fire(ctx, p.id, calls, (e) =>
    e.trade(p.id, {
      symbol: 'AAPL',
      side: 'buy',
      quantity: '2.5',
      ...(options.withPrice ? { price: '150.25' } : {}),
      idempotencyKey: 'order-42',
    }),
  );
}

/** Asserts one trade and identical answers. */
export async function expectOneTrade(ctx: RaceContext, r: RaceOutcome, calls = 20): Promise<void> {
  expect(r.errors).toEqual({});
  expect(r.fills).toBe(calls);
  for (const a of r.answers) expect(a).toEqual(r.answers[0]);
  const { ledger } = await expectStateMatchesLedger(ctx.store, r.portfolioId);
  const buys = ledger.filter((t) => t.kind === 'buy');
  expect(buys).toHaveLength(1);
  expect(buys[0]?.id).toBe(r.answers[0]?.id);
}

/**
 * A deliberately broken store: it reads the state in one transaction and writes the plan in
 * another (read-modify-write without a lock). The race tests must catch it.
 */
export function naiveStore(base: Store): Store {
  const naive: Store = Object.assign(Object.create(null) as object, base, {
    async applyLedgerChange(...[request, plan]: Parameters<Store['applyLedgerChange']>) {
      let state: LedgerState | undefined;
      await base.applyLedgerChange(request, (s) => {
        state = s;
        return null;
      });
      // Another request may run here: exactly the window a lock closes.
      await new Promise((resolve) => setImmediate(resolve));
      await base.applyLedgerChange({ portfolioId: request.portfolioId }, () => {
        if (!state) throw new FoliokitError('STORE_ERROR', 'no state');
        return plan(state);
      });
    },
  }) as Store;
  return naive;
}
