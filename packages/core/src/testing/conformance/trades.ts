/**
 * Conformance, trades: fills at the market price, average cost and FIFO lots with fees, exact
 * decimals at the edges, refusals that change nothing, idempotency keys, the ledger's pages; and,
 * with raw SQL, that a trade's rows are really in the database.
 */

import type { PortfolioEngine } from '../../engine/index.js';
import type { ErrorCode } from '../../errors.js';
import { vitest } from '../runtime.js';
import { type ConformanceContext, codeOf, countRows, expectDecimal, itRaw, rawOf, stateOf } from './context.js';

/** Registers the trade checks. */
export function describeTrades(ctx: ConformanceContext): void {
  const { describe, expect, it } = vitest();
  describe('trades', () => {
    const h = ctx.useFixture();

    it('buys at the market price and sells with average cost, fees included', async () => {
      const p = await h.engine.createPortfolio({ name: 'Avg', initialCash: 10_000 });
      const buy = await h.engine.trade(p.id, { symbol: ' aapl ', side: 'buy', quantity: 10, fee: '1.5' });
      expect(buy).toMatchObject({
        kind: 'buy',
        symbol: 'AAPL',
        quantity: '10',
        price: '150.25',
        fee: '1.5',
        amount: '-1504',
        cashAfter: '8496',
        quantityAfter: '10',
        realizedPnl: null,
      });
      await h.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 10, price: '100', fee: 0 });
      // Cost basis 1504 + 1000 = 2504 for 20 shares: average 125.2.
      const [pos] = await h.engine.getPositions(p.id);
      expect(pos).toMatchObject({ symbol: 'AAPL', quantity: '20', costBasis: '2504', averageCost: '125.2' });
      const sell = await h.engine.trade(p.id, { symbol: 'AAPL', side: 'sell', quantity: 5, price: '130', fee: '2' });
      // Proceeds 650 − 2 = 648; cost removed 2504 × 5/20 = 626; realized 22.
      expect(sell).toMatchObject({
        kind: 'sell',
        amount: '648',
        realizedPnl: '22',
        quantityAfter: '15',
        cashAfter: '8144',
      });
      const after = await h.engine.getPortfolio(p.id);
      expect(after).toMatchObject({ cash: '8144', realizedPnl: '22' });
      const [pos2] = await h.engine.getPositions(p.id);
      expect(pos2).toMatchObject({ quantity: '15', costBasis: '1878', realizedPnl: '22' });
    });

    it('uses FIFO lots when asked', async () => {
      const p = await h.engine.createPortfolio({
        name: 'Fifo',
        initialCash: 10_000,
        initialCashAt: '2026-01-01T00:00:00Z',
        costBasisMethod: 'fifo',
      });
      await h.engine.trade(p.id, {
        symbol: 'MSFT',
        side: 'buy',
        quantity: 10,
        price: '100',
        at: '2026-01-05T15:00:00Z',
      });
      await h.engine.trade(p.id, {
        symbol: 'MSFT',
        side: 'buy',
        quantity: 10,
        price: '200',
        at: '2026-02-05T15:00:00Z',
      });
      const s1 = await h.engine.trade(p.id, { symbol: 'MSFT', side: 'sell', quantity: 15, price: '300' });
      // 10 @ 100 + 5 @ 200 = 2000 removed; proceeds 4500; realized 2500.
      expect(s1).toMatchObject({ realizedPnl: '2500', quantityAfter: '5' });
      const lots = await h.store.listLots(p.id, 'MSFT');
      expect(lots.map((l) => [l.quantity, l.costBasis])).toEqual([['5', '1000']]);
      const s2 = await h.engine.trade(p.id, { symbol: 'MSFT', side: 'sell', quantity: 5, price: '100' });
      expect(s2).toMatchObject({ realizedPnl: '-500', quantityAfter: '0' });
      expect(await h.store.listLots(p.id, 'MSFT')).toEqual([]);
      expect(await h.engine.getPositions(p.id)).toEqual([]);
      expect((await h.engine.getPortfolio(p.id)).realizedPnl).toBe('2000');
    });

    it('keeps exact decimals: 0.1 + 0.2 − 0.3 is zero, tiny and huge values survive', async () => {
      const p = await h.engine.createPortfolio({ name: 'Exact', initialCash: '1000000000000000000' });
      await h.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: '0.1', price: '3' });
      await h.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 0.2, price: '3' });
      await h.engine.trade(p.id, { symbol: 'AAPL', side: 'sell', quantity: '0.3', price: '3' });
      expect(await h.engine.getPositions(p.id)).toEqual([]);
      expect((await h.engine.getPortfolio(p.id)).cash).toBe('1000000000000000000');
      // 8 × 8 decimal places.
      const t = await h.engine.trade(p.id, {
        symbol: 'TINY',
        side: 'buy',
        quantity: '0.12345678',
        price: '0.87654321',
      });
      expect(t.amount).toBe('-0.1082152022374638');
      const sub = await h.engine.trade(p.id, { symbol: 'TINY', side: 'buy', quantity: '1e-12', price: '1' });
      expect(sub.quantity).toBe('0.000000000001');
      const [pos] = await h.engine.getPositions(p.id);
      expect(pos?.quantity).toBe('0.123456780001');
      expect((await h.engine.getPortfolio(p.id)).cash).toBe('999999999999999999.8917847977615362');
    });

    it('refuses what it cannot do and changes nothing', async () => {
      const p = await h.engine.createPortfolio({ name: 'Refusals', initialCash: 1000 });
      await h.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 2 });
      const before = await stateOf(h.store, p.id);
      const cases: Array<[Parameters<PortfolioEngine['trade']>[1], ErrorCode]> = [
        [{ symbol: 'AAPL', side: 'buy', quantity: 100 }, 'INSUFFICIENT_CASH'],
        [{ symbol: 'AAPL', side: 'buy', quantity: 1, price: 1000, fee: '0.01' }, 'INSUFFICIENT_CASH'],
        [{ symbol: 'AAPL', side: 'sell', quantity: '2.0000001' }, 'INSUFFICIENT_QUANTITY'],
        [{ symbol: 'MSFT', side: 'sell', quantity: 1 }, 'INSUFFICIENT_QUANTITY'],
        [{ symbol: 'NOPE', side: 'buy', quantity: 1 }, 'UNKNOWN_SYMBOL'],
        [{ symbol: 'AAPL', side: 'buy', quantity: 0 }, 'VALIDATION_FAILED'],
        [{ symbol: 'AAPL', side: 'buy', quantity: -1 }, 'VALIDATION_FAILED'],
        [{ symbol: 'AAPL', side: 'buy', quantity: 1, price: 0 }, 'VALIDATION_FAILED'],
        [{ symbol: 'AAPL', side: 'buy', quantity: 1, price: '-1' }, 'VALIDATION_FAILED'],
        [{ symbol: 'AAPL', side: 'buy', quantity: 1, fee: -1 }, 'VALIDATION_FAILED'],
        [{ symbol: 'AAPL', side: 'buy', quantity: '1e309' }, 'VALIDATION_FAILED'],
        [{ symbol: 'AAPL', side: 'buy', quantity: 2 ** 53 + 1 }, 'VALIDATION_FAILED'],
        [{ symbol: 'AAPL', side: 'short' as 'buy', quantity: 1 }, 'VALIDATION_FAILED'],
        [{ symbol: "AAPL'; drop table portfolios;--", side: 'buy', quantity: 1 }, 'VALIDATION_FAILED'],
        [{ symbol: '', side: 'buy', quantity: 1 }, 'VALIDATION_FAILED'],
        [{ symbol: 'AAPL', side: 'buy', quantity: 1, at: '2030-01-01T00:00:00Z' }, 'VALIDATION_FAILED'],
      ];
      for (const [input, code] of cases) {
        expect(await codeOf(h.engine.trade(p.id, input)), JSON.stringify(input)).toBe(code);
      }
      // A fill never uses a stale price: once the book's entry is older than its maximum age and
      // the provider is down, a market order fails.
      await h.clock.advance(60_000);
      h.provider.failing = true;
      try {
        expect(await codeOf(h.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1 }))).toBe(
          'PRICE_UNAVAILABLE',
        );
      } finally {
        h.provider.failing = false;
      }
      expect(await codeOf(h.engine.trade('pf_missing', { symbol: 'AAPL', side: 'buy', quantity: 1, price: 1 }))).toBe(
        'PORTFOLIO_NOT_FOUND',
      );
      expect(await stateOf(h.store, p.id)).toEqual(before);
      // A given price records an import fill even for a symbol the provider does not know.
      const imported = await h.engine.trade(p.id, { symbol: 'delisted.x', side: 'buy', quantity: 1, price: '1.5' });
      expect(imported.symbol).toBe('DELISTED.X');
    });

    it('replays an idempotency key with the same answer and refuses it for another trade', async () => {
      const p = await h.engine.createPortfolio({ name: 'Idem', initialCash: 10_000 });
      const a = await h.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1, idempotencyKey: 'k' });
      h.provider.setPrice('AAPL', '999');
      try {
        const b = await h.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: '1.0', idempotencyKey: 'k' });
        expect(b).toEqual(a);
        expect(
          await codeOf(h.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 2, idempotencyKey: 'k' })),
        ).toBe('IDEMPOTENCY_CONFLICT');
        expect(
          await codeOf(h.engine.trade(p.id, { symbol: 'AAPL', side: 'sell', quantity: 1, idempotencyKey: 'k' })),
        ).toBe('IDEMPOTENCY_CONFLICT');
      } finally {
        h.provider.setPrice('AAPL', '150.25');
      }
      const ledger = await h.engine.listTransactions(p.id, { kinds: ['buy'] });
      expect(ledger.items).toHaveLength(1);
    });

    it('refuses an idempotency key of a trade at a given price for other parameters, and writes nothing', async () => {
      const p = await h.engine.createPortfolio({ name: 'Idem priced', initialCash: 10_000 });
      const first: Parameters<PortfolioEngine['trade']>[1] = {
        symbol: 'AAPL',
        side: 'buy',
        quantity: '2',
        price: '100',
        fee: '1',
        at: new Date(h.clock.now()).toISOString(),
        idempotencyKey: 'priced',
      };
      const a = await h.engine.trade(p.id, first);
      expect(await h.engine.trade(p.id, { ...first, quantity: '2.00', price: '100.0' })).toEqual(a);
      // A later instant, so that the other `at` is a valid entry on its own.
      h.clock.set(h.clock.now() + 1000);
      const before = await stateOf(h.store, p.id);
      const others: Array<Partial<typeof first>> = [
        { price: '101' },
        { quantity: '3' },
        { fee: '2' },
        { fee: '0' },
        { side: 'sell' },
        { symbol: 'MSFT' },
        { at: new Date(h.clock.now()).toISOString() },
      ];
      for (const other of others) {
        const call = h.engine.trade(p.id, { ...first, ...other });
        expect(await codeOf(call), JSON.stringify(other)).toBe('IDEMPOTENCY_CONFLICT');
      }
      expect(await stateOf(h.store, p.id)).toEqual(before);
      expect((await h.engine.listTransactions(p.id, { kinds: ['buy', 'sell'] })).items).toEqual([a]);
    });

    it('pages through the ledger newest first and filters by kind', async () => {
      const p = await h.engine.createPortfolio({ name: 'Ledger', initialCash: 1000 });
      for (let i = 0; i < 7; i++) {
        await h.clock.advance(1000);
        await h.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1, price: 10 });
      }
      const all: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await h.engine.listTransactions(p.id, { limit: 3, ...(cursor ? { cursor } : {}) });
        all.push(...page.items.map((t) => t.executedAt));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(all).toHaveLength(8);
      expect([...all].sort().reverse()).toEqual(all);
      expect((await h.engine.listTransactions(p.id, { kinds: ['deposit'] })).items).toHaveLength(1);
      expect(await codeOf(h.engine.listTransactions(p.id, { cursor: 'garbage' }))).toBe('VALIDATION_FAILED');
      expect(await codeOf(h.engine.listTransactions(p.id, { limit: 100_000 }))).toBe('VALIDATION_FAILED');
    });
    itRaw(ctx, 'a trade writes its ledger row, its position and the cash it leaves', async () => {
      const p = await h.engine.createPortfolio({ name: 'Raw trade', initialCash: '1000' });
      const t = await h.engine.trade(p.id, {
        symbol: 'AAPL',
        side: 'buy',
        quantity: '2.5',
        price: '100.01',
        fee: '0.5',
      });
      const raw = rawOf(h);
      expect(await countRows(raw, 'transactions', p.id)).toBe(2);
      const [row] = await raw('select kind, symbol, quantity, amount from transactions where id = ?', [t.id]);
      expect([row?.kind, row?.symbol]).toEqual(['buy', 'AAPL']);
      expectDecimal(row?.quantity, '2.5', 'quantity');
      expectDecimal(row?.amount, '-250.525', 'amount');
      const [pos] = await raw('select quantity, cost_basis from positions where portfolio_id = ? and symbol = ?', [
        p.id,
        'AAPL',
      ]);
      expectDecimal(pos?.quantity, '2.5', 'position quantity');
      expectDecimal(pos?.cost_basis, '250.525', 'position cost_basis');
      const [cash] = await raw('select cash from portfolios where id = ?', [p.id]);
      expectDecimal(cash?.cash, '749.475', 'cash');
      expect(t.cashAfter).toBe('749.475');
    });
  });
}
