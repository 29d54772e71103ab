import { describe, expect, it } from 'vitest';
import type { TradeInput } from '../engine/inputs.js';
import { isReplay } from '../engine/results.js';
import { FoliokitError } from '../errors.js';
import type { RebalanceExecutedEvent } from '../events.js';
import { Dec } from '../money/decimal.js';
import { codeOf, createTestEngine, type TestEngine } from '../testing/index.js';
import type { HoldingPrice } from '../valuation/kernel.js';
import { orderKey, parsePlanOptions, planOrders, planRebalance, rebalance } from './rebalance.js';
import { getDrift, setTargets } from './targets.js';

/** Fixed prices of the test provider (awkward ones, so rounding matters). */
const PRICES = { AAA: '101.37', BBB: '49.9', CCC: '7.3', DDD: '333.33', EEE: '12.05' };

/** A skewed portfolio: 100,000 deposited, mostly in AAA and EEE. */
async function skewed(t: TestEngine) {
  const p = await t.engine.createPortfolio({ name: 'Model', initialCash: 100000 });
  await t.engine.trade(p.id, { symbol: 'AAA', side: 'buy', quantity: 500 }); // 50,685
  await t.engine.trade(p.id, { symbol: 'EEE', side: 'buy', quantity: 2000 }); // 24,100 (no target: sold whole)
  await t.engine.trade(p.id, { symbol: 'CCC', side: 'buy', quantity: 100.5 }); // 733.65
  await setTargets(t.engine, p.id, [
    { symbol: 'AAA', weight: '0.25' },
    { symbol: 'BBB', weight: '0.35' },
    { symbol: 'CCC' },
    { symbol: 'DDD' },
  ]);
  return p;
}

const trader = (t: TestEngine) => (id: string, input: TradeInput) => t.engine.trade(id, input);

const sum = (values: string[]) => values.reduce((a, v) => a.plus(v), new Dec(0));

async function cashOf(t: TestEngine, id: string): Promise<Dec> {
  return new Dec((await t.engine.getPortfolio(id)).cash);
}

async function ledgerSize(t: TestEngine, id: string): Promise<number> {
  return (await t.store.listTransactions(id, { limit: 1000 })).length;
}

describe('planRebalance', () => {
  it('puts sells first, and spends no more than the cash after sells', async () => {
    const t = createTestEngine({ prices: PRICES });
    const p = await skewed(t);
    const plan = await planRebalance(t.engine, p.id);
    const sides = plan.orders.map((o) => o.side);
    expect(sides).toEqual([...sides].sort((a, b) => (a === b ? 0 : a === 'sell' ? -1 : 1)));
    expect(plan.orders.filter((o) => o.side === 'sell').map((o) => o.symbol)).toEqual(['AAA', 'EEE']);
    expect(plan.orders.find((o) => o.symbol === 'EEE')?.quantity).toBe('2000'); // no target: sold whole
    const sold = sum(plan.orders.filter((o) => o.side === 'sell').map((o) => o.value));
    const bought = sum(plan.orders.filter((o) => o.side === 'buy').map((o) => o.value));
    expect(bought.lte(new Dec(plan.cashBefore).plus(sold))).toBe(true);
    for (const o of plan.orders) expect(new Dec(o.quantity).times(o.price).eq(o.value)).toBe(true);
    expect(new Dec(plan.cashAfter).eq(new Dec(plan.cashBefore).plus(sold).minus(bought))).toBe(true);
    await t.close();
  });

  it('keeps a cash buffer (an amount): buys never take cash below it', async () => {
    const t = createTestEngine({ prices: PRICES });
    const p = await skewed(t);
    const r = await rebalance(t.engine, trader(t), p.id, { cashBuffer: '5000' });
    expect(r.transactions).toHaveLength(r.orders.length);
    expect((await cashOf(t, p.id)).gte(5000)).toBe(true);
    // Targets apply to total − buffer: DDD (0.2) is within one share of 0.2 × (total − 5000).
    const ddd = r.orders.find((o) => o.symbol === 'DDD');
    const goal = new Dec('0.2').times(new Dec(r.totalValue).minus(5000));
    expect(goal.minus(ddd?.value ?? '0').gte(0)).toBe(true);
    expect(goal.minus(ddd?.value ?? '0').lt('0.0001')).toBe(true);
    await t.close();
  });

  const priced = (entries: Record<string, string>) =>
    new Map<string, HoldingPrice>(Object.entries(entries).map(([s, p]) => [s, { price: new Dec(p), stale: false }]));
  const weights = (entries: Record<string, string>) =>
    Object.entries(entries).map(([symbol, weight]) => ({ symbol, weight, givenWeight: weight }));

  it('never spends more than cash when a skipped sell leaves it short: buys are scaled down', () => {
    // 40 cash, AAA worth 60 for a target of 30: its sell (30) is under minTrade, so no cash comes in.
    const state = { cash: '40', positions: [{ symbol: 'AAA', quantity: '6' }] };
    const plan = planOrders(
      state,
      weights({ AAA: '0.3', BBB: '0.7' }),
      priced({ AAA: '10', BBB: '3' }),
      parsePlanOptions({ minTrade: 35, fractional: false }),
    );
    expect(plan.skipped).toEqual([{ symbol: 'AAA', reason: 'min-trade' }]);
    // BBB wants 70 but 40 is all there is: 13 units (39).
    expect(plan.orders).toEqual([{ symbol: 'BBB', side: 'buy', quantity: '13', price: '3', value: '39' }]);
    expect(plan.cashAfter).toBe('1');
  });

  it('when short, shares the cash among buys, then tops up until less than one unit of each is affordable', () => {
    // 500 cash, AAA 1000 for a target of 900 (within the 7 % threshold): BBB and CCC each want 300.
    const state = { cash: '500', positions: [{ symbol: 'AAA', quantity: '100' }] };
    const plan = planOrders(
      state,
      weights({ AAA: '0.6', BBB: '0.2', CCC: '0.2' }),
      priced({ AAA: '10', BBB: '70', CCC: '40' }),
      parsePlanOptions({ threshold: '0.07', fractional: false }),
    );
    // Each gets 250 of the 500 (BBB 3 × 70, CCC 6 × 40), then the 50 left buys one more CCC.
    expect(plan.orders.map((o) => [o.symbol, o.quantity, o.value])).toEqual([
      ['BBB', '3', '210'],
      ['CCC', '7', '280'],
    ]);
    expect(plan.cashAfter).toBe('10');
    for (const o of plan.orders) {
      const want = new Dec('300');
      const unitsShort = want.minus(o.value).div(o.price);
      expect(unitsShort.lt(1) || new Dec(plan.cashAfter).lt(o.price)).toBe(true);
    }
  });

  it('skips symbols within the threshold and orders under minTrade', async () => {
    const t = createTestEngine({ prices: { AAA: '100', BBB: '100', CCC: '1' } });
    const p = await t.engine.createPortfolio({ name: 'Near', initialCash: 10000 });
    await t.engine.trade(p.id, { symbol: 'AAA', side: 'buy', quantity: 51 }); // 51 %
    await t.engine.trade(p.id, { symbol: 'BBB', side: 'buy', quantity: 46 }); // 46 %
    await t.engine.trade(p.id, { symbol: 'CCC', side: 'buy', quantity: 290 }); // 2.9 %, target 3 %
    await setTargets(t.engine, p.id, [
      { symbol: 'AAA', weight: '0.5' },
      { symbol: 'BBB', weight: '0.47' },
      { symbol: 'CCC', weight: '0.03' },
    ]);
    const plan = await planRebalance(t.engine, p.id, { threshold: '0.005', minTrade: 50 });
    // AAA is 1 point off (sold), BBB 1 point (bought), CCC 0.1 point (within the threshold).
    expect(plan.orders.map((o) => [o.side, o.symbol, o.quantity])).toEqual([
      ['sell', 'AAA', '1'],
      ['buy', 'BBB', '1'],
    ]);
    expect(plan.skipped).toEqual([{ symbol: 'CCC', reason: 'threshold' }]);
    const big = await planRebalance(t.engine, p.id, { minTrade: 150 });
    expect(big.orders).toEqual([]);
    expect(big.skipped.map((s) => s.reason)).toEqual(['min-trade', 'min-trade', 'min-trade']);
    await t.close();
  });

  it('plans nothing for a portfolio without targets (never liquidates by default)', async () => {
    const t = createTestEngine({ prices: PRICES });
    const p = await t.engine.createPortfolio({ name: 'Plain', initialCash: 1000 });
    await t.engine.trade(p.id, { symbol: 'AAA', side: 'buy', quantity: 5 });
    const plan = await planRebalance(t.engine, p.id);
    expect(plan.orders).toEqual([]);
    expect(plan.reason).toMatch(/no targets/);
    await t.close();
  });

  it('refuses bad options with VALIDATION_FAILED naming the field', async () => {
    const t = createTestEngine({ prices: PRICES });
    const p = await skewed(t);
    const cases: Array<[object, string]> = [
      [{ threshold: '1.5' }, 'threshold'],
      [{ threshold: -0.1 }, 'threshold'],
      [{ cashBuffer: '-1' }, 'cashBuffer'],
      [{ minTrade: '1e309' }, 'minTrade'],
      [{ fractional: 'no' }, 'fractional'],
      [{ other: 1 }, 'options'],
    ];
    for (const [options, field] of cases) {
      try {
        await planRebalance(t.engine, p.id, options);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(FoliokitError);
        expect([(error as FoliokitError).code, (error as FoliokitError).details.field]).toEqual([
          'VALIDATION_FAILED',
          field,
        ]);
      }
    }
    expect(await codeOf(planRebalance(t.engine, 'pf_nope'))).toBe('PORTFOLIO_NOT_FOUND');
    await t.close();
  });
});

describe('rebalance', () => {
  for (const fractional of [true, false]) {
    it(`brings drift within the threshold, and re-running plans nothing (${fractional ? 'fractional' : 'whole units'})`, async () => {
      const t = createTestEngine({ prices: PRICES });
      const p = await skewed(t);
      const before = await getDrift(t.engine, p.id);
      expect(before.positions.some((r) => Math.abs(Number(r.drift)) > 1)).toBe(true);
      const r = await rebalance(t.engine, trader(t), p.id, { threshold: '0.01', fractional });
      expect(r.transactions.map((x) => [x.kind, x.symbol, x.quantity, x.price])).toEqual(
        r.orders.map((o) => [o.side, o.symbol, o.quantity, o.price]),
      );
      if (!fractional) for (const o of r.orders) expect(new Dec(o.quantity).isInteger()).toBe(true);
      const after = await getDrift(t.engine, p.id);
      // Within 1 percentage point (the threshold) of every target.
      for (const row of after.positions) expect(Math.abs(Number(row.drift))).toBeLessThanOrEqual(1);
      expect((await cashOf(t, p.id)).gte(0)).toBe(true);
      expect((await planRebalance(t.engine, p.id, { threshold: '0.01', fractional })).orders).toEqual([]);
      // Even at threshold 0: what is left is less than one unit of anything.
      expect((await planRebalance(t.engine, p.id, { fractional })).orders).toEqual([]);
      await t.close();
    });
  }

  it('at threshold 0, lands within one unit of every target, and re-running plans nothing', async () => {
    const t = createTestEngine({ prices: PRICES });
    const p = await skewed(t);
    await rebalance(t.engine, trader(t), p.id);
    const after = await getDrift(t.engine, p.id);
    for (const row of after.positions) {
      // |difference| < one 1e-8 unit at the price, plus what the cash could not buy.
      expect(Math.abs(Number(row.difference))).toBeLessThan(0.01);
    }
    expect((await planRebalance(t.engine, p.id)).orders).toEqual([]);
    await t.close();
  });

  it('emits rebalance.executed with its orders and transactions', async () => {
    const t = createTestEngine({ prices: PRICES });
    const p = await skewed(t);
    t.events.length = 0;
    const r = await rebalance(t.engine, trader(t), p.id);
    const done = t.events.filter((e): e is RebalanceExecutedEvent => e.type === 'rebalance.executed');
    expect(done).toHaveLength(1);
    expect(done[0]?.orders).toEqual(r.orders);
    expect(done[0]?.transactions.map((x) => x.id)).toEqual(r.transactions.map((x) => x.id));
    // Every trade emitted its own trade.executed, before the rebalance's event.
    expect(t.events.filter((e) => e.type === 'trade.executed')).toHaveLength(r.orders.length);
    expect(t.events.at(-1)?.type).toBe('rebalance.executed');
    await t.close();
  });

  it('a retried rebalance with the same key does not trade twice', async () => {
    const t = createTestEngine({ prices: PRICES });
    const p = await skewed(t);
    const entries = await ledgerSize(t, p.id);
    const first = await rebalance(t.engine, trader(t), p.id, { idempotencyKey: 'rb-1' });
    expect(first.orders.length).toBeGreaterThan(2);
    const second = await rebalance(t.engine, trader(t), p.id, { idempotencyKey: 'rb-1' });
    expect(second.transactions).toEqual([]);
    expect(await ledgerSize(t, p.id)).toBe(entries + first.orders.length);
    await t.close();
  });

  it('two concurrent rebalances under one key trade once; the second replays', async () => {
    const t = createTestEngine({ prices: PRICES });
    const p = await skewed(t);
    const entries = await ledgerSize(t, p.id);
    t.events.length = 0;
    const [a, b] = await Promise.all([
      rebalance(t.engine, trader(t), p.id, { idempotencyKey: 'rb-2' }),
      rebalance(t.engine, trader(t), p.id, { idempotencyKey: 'rb-2' }),
    ]);
    expect(a.orders).toEqual(b.orders);
    expect(await ledgerSize(t, p.id)).toBe(entries + a.orders.length);
    expect(b.transactions.map((x) => x.id)).toEqual(a.transactions.map((x) => x.id));
    expect([a.replayed, b.replayed]).toEqual([false, true]);
    expect(b.transactions.every(isReplay)).toBe(true);
    expect(t.events.filter((e) => e.type === 'rebalance.executed')).toHaveLength(1);
    await t.close();
  });

  it('without a key, the same plan on the same ledger dedupes too', async () => {
    const t = createTestEngine({ prices: PRICES });
    const p = await skewed(t);
    const entries = await ledgerSize(t, p.id);
    const [a, b] = await Promise.all([rebalance(t.engine, trader(t), p.id), rebalance(t.engine, trader(t), p.id)]);
    expect(a.planId).toBe(b.planId);
    expect(await ledgerSize(t, p.id)).toBe(entries + a.orders.length);
    await t.close();
  });

  it('a retry after a failure part-way trades only the rest', async () => {
    const t = createTestEngine({ prices: PRICES });
    const p = await skewed(t);
    const entries = await ledgerSize(t, p.id);
    const planned = await planRebalance(t.engine, p.id);
    let calls = 0;
    const flaky = async (id: string, input: TradeInput) => {
      if (++calls === 3) throw new FoliokitError('STORE_ERROR', 'connection lost');
      return t.engine.trade(id, input);
    };
    expect(await codeOf(rebalance(t.engine, flaky, p.id, { idempotencyKey: 'rb-3' }))).toBe('STORE_ERROR');
    expect(await ledgerSize(t, p.id)).toBe(entries + 2);
    const retry = await rebalance(t.engine, trader(t), p.id, { idempotencyKey: 'rb-3' });
    expect(retry.orders.map((o) => o.symbol)).toEqual(planned.orders.slice(2).map((o) => o.symbol));
    expect(await ledgerSize(t, p.id)).toBe(entries + planned.orders.length);
    expect((await planRebalance(t.engine, p.id)).orders).toEqual([]);
    await t.close();
  });

  it('derives one key per order from the caller key, the side and the symbol', () => {
    const a = orderKey('rb-1', { side: 'buy', symbol: 'AAA' });
    expect(a).toMatch(/^rebalance:[\w-]{22}:buy:AAA$/);
    expect(orderKey('rb-1', { side: 'buy', symbol: 'AAA' })).toBe(a);
    expect(orderKey('rb-2', { side: 'buy', symbol: 'AAA' })).not.toBe(a);
    expect(orderKey('x'.repeat(255), { side: 'sell', symbol: 'A'.repeat(32) }).length).toBeLessThanOrEqual(255);
  });
});
