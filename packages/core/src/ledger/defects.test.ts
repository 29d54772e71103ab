/**
 * Ledger defects found as a user would (issue #9, items 4 and 12): rounding never removes more cost
 * than is held, an over-cash buy names what made it too dear, and a market trade on a missing
 * portfolio says so before asking the market anything.
 */
import { describe, expect, it } from 'vitest';
import { codeOf, createTestEngine } from '../testing/index.js';

describe('removed cost never exceeds the cost held (defect 4)', () => {
  it('average cost: selling 99 of 100 tiny-priced shares leaves a non-negative cost on the dust', async () => {
    const t = createTestEngine();
    try {
      const p = await t.engine.createPortfolio({ name: 'Dust', initialCash: 1 });
      await t.engine.trade(p.id, { symbol: 'DUST', side: 'buy', quantity: 100, price: '0.000000000000009' });
      const sell = await t.engine.trade(p.id, {
        symbol: 'DUST',
        side: 'sell',
        quantity: 99,
        price: '0.000000000000009',
      });
      const [pos] = await t.engine.getPositions(p.id);
      expect(pos?.quantity).toBe('1');
      expect(pos?.costBasis.startsWith('-')).toBe(false);
      // What the sell removed plus what is left is exactly what was paid.
      const removed = Number(sell.amount) - Number(sell.realizedPnl);
      expect(removed).toBeGreaterThanOrEqual(0);
      const last = await t.engine.trade(p.id, {
        symbol: 'DUST',
        side: 'sell',
        quantity: 1,
        price: '0.000000000000009',
      });
      expect(last.quantityAfter).toBe('0');
      const rows = await t.store.listPositions(p.id);
      expect(rows[0]).toMatchObject({ quantity: '0', costBasis: '0' });
      expect((await t.engine.getPortfolio(p.id)).realizedPnl).toBe('0');
    } finally {
      await t.close();
    }
  });

  it('FIFO: a partial lot never gives up more cost than it carries', async () => {
    const t = createTestEngine();
    try {
      const p = await t.engine.createPortfolio({ name: 'Dust FIFO', initialCash: 1, costBasisMethod: 'fifo' });
      await t.engine.trade(p.id, { symbol: 'DUST', side: 'buy', quantity: 100, price: '0.000000000000009' });
      await t.engine.trade(p.id, { symbol: 'DUST', side: 'sell', quantity: 99, price: '0.000000000000009' });
      const lots = await t.store.listLots(p.id, 'DUST');
      expect(lots).toHaveLength(1);
      expect(lots[0]?.costBasis.startsWith('-')).toBe(false);
      const [pos] = await t.engine.getPositions(p.id);
      expect(pos?.costBasis).toBe(lots[0]?.costBasis);
    } finally {
      await t.close();
    }
  });
});

describe('error details name the field at fault (defect 12)', () => {
  it('a buy over cash names the fee when the shares alone were affordable, and the price when it was given', async () => {
    const t = createTestEngine({ prices: { AAPL: '100' } });
    try {
      const p = await t.engine.createPortfolio({ name: 'Fields', initialCash: 100 });
      const fee = await t.engine
        .trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1, price: 100, fee: 1 })
        .catch((e) => e);
      expect(fee).toMatchObject({ code: 'INSUFFICIENT_CASH', details: { field: 'fee', fields: ['fee'] } });
      const priced = await t.engine
        .trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1, price: 101 })
        .catch((e) => e);
      expect(priced).toMatchObject({ code: 'INSUFFICIENT_CASH', details: { fields: ['quantity', 'price'] } });
      const market = await t.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 2 }).catch((e) => e);
      expect(market).toMatchObject({ code: 'INSUFFICIENT_CASH', details: { field: 'quantity', fields: ['quantity'] } });
    } finally {
      await t.close();
    }
  });

  it('a market trade on a missing portfolio is PORTFOLIO_NOT_FOUND, and the provider is never asked', async () => {
    const t = createTestEngine({ prices: {} });
    try {
      const calls = t.provider.quoteCalls;
      expect(await codeOf(t.engine.trade('pf_missing', { symbol: 'NOPE', side: 'buy', quantity: 1 }))).toBe(
        'PORTFOLIO_NOT_FOUND',
      );
      expect(t.provider.quoteCalls).toBe(calls);
    } finally {
      await t.close();
    }
  });
});

describe('replays are told apart (isReplay)', () => {
  it('marks the answer to a keyed replay, never a first call', async () => {
    const { isReplay } = await import('../engine/index.js');
    const t = createTestEngine({ prices: { AAPL: '10' } });
    try {
      const p = await t.engine.createPortfolio({ name: 'Replay', initialCash: 100 });
      const first = await t.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1, idempotencyKey: 'k1' });
      const again = await t.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1, idempotencyKey: 'k1' });
      const priced = await t.engine.trade(p.id, {
        symbol: 'AAPL',
        side: 'buy',
        quantity: 1,
        price: 10,
        idempotencyKey: 'k2',
      });
      const pricedAgain = await t.engine.trade(p.id, {
        symbol: 'AAPL',
        side: 'buy',
        quantity: 1,
        price: 10,
        idempotencyKey: 'k2',
      });
      const cash = await t.engine.deposit(p.id, { amount: 1, idempotencyKey: 'k3' });
      const cashAgain = await t.engine.deposit(p.id, { amount: 1, idempotencyKey: 'k3' });
      expect([first, priced, cash].map(isReplay)).toEqual([false, false, false]);
      expect([again, pricedAgain, cashAgain].map(isReplay)).toEqual([true, true, true]);
      expect(again).toEqual(first);
    } finally {
      await t.close();
    }
  });
});
