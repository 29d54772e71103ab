/**
 * Conformance, valuation: positions, weights and totals at the market price, an unpriced position
 * flagged and left out, the last known price flagged stale; the watchlist; typed events emitted
 * after commit, with throwing listeners logged and harmless.
 */
import { dec, fmt } from '../../money/decimal.js';
import { vitest } from '../runtime.js';
import { type ConformanceContext, codeOf } from './context.js';

/** Registers the valuation, watchlist and event checks. */
export function describeValuation(ctx: ConformanceContext): void {
  const { describe, expect, it } = vitest();
  describe('valuation, watchlist and events', () => {
    const h = ctx.useFixture();

    it('values positions, weights and totals; an unpriced position is flagged and left out', async () => {
      const p = await h.engine.createPortfolio({ name: 'Value', initialCash: 10_000 });
      await h.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 10, price: '100' });
      await h.engine.trade(p.id, { symbol: 'GONE', side: 'buy', quantity: 5, price: '10' });
      const v = await h.engine.getValuation(p.id);
      expect(v.cash).toBe('8950');
      const aapl = v.positions.find((x) => x.symbol === 'AAPL');
      expect(aapl).toMatchObject({
        price: '150.25',
        marketValue: '1502.5',
        costBasis: '1000',
        unrealizedPnl: '502.5',
        unrealizedPnlPercent: '50.25',
        stale: false,
      });
      const gone = v.positions.find((x) => x.symbol === 'GONE');
      expect(gone).toMatchObject({ price: null, marketValue: null, unrealizedPnl: null, weight: null });
      expect(v.unpriced).toEqual(['GONE']);
      expect(v.totals).toEqual({
        marketValue: '1502.5',
        totalValue: '10452.5',
        costBasis: '1000',
        unrealizedPnl: '502.5',
        realizedPnl: '0',
        netDeposits: '10000',
      });
      expect(JSON.stringify(v)).not.toMatch(/NaN|Infinity/);
      expect(aapl?.weight).toBe(fmt(dec('1502.5').div('10452.5').toDecimalPlaces(6)));
    });

    it('falls back to the last known price, flagged stale, when the provider is down', async () => {
      const p = await h.engine.createPortfolio({ name: 'Stale', initialCash: 1000 });
      await h.engine.trade(p.id, { symbol: 'MSFT', side: 'buy', quantity: 1, price: '400' });
      await h.store.upsertPrices([
        {
          symbol: 'MSFT',
          price: '390.5',
          at: '2026-03-01T21:00:00.000Z',
          currency: 'USD',
          source: 'book',
          updatedAt: '2026-03-01T21:00:00.000Z',
        },
      ]);
      h.provider.failing = true;
      try {
        const v = await h.engine.getValuation(p.id);
        expect(v.positions[0]).toMatchObject({ price: '390.5', stale: true, priceSource: 'book' });
        expect(v.stale).toEqual(['MSFT']);
      } finally {
        h.provider.failing = false;
      }
    });

    it('keeps a normalised watchlist per portfolio', async () => {
      const p = await h.engine.createPortfolio({ name: 'Watch' });
      await h.engine.addToWatchlist(p.id, 'msft');
      await h.engine.addToWatchlist(p.id, 'AAPL');
      const list = await h.engine.addToWatchlist(p.id, ' MSFT ');
      expect(list.map((w) => w.symbol)).toEqual(['AAPL', 'MSFT']);
      expect((await h.engine.removeFromWatchlist(p.id, 'aapl')).map((w) => w.symbol)).toEqual(['MSFT']);
      expect(await codeOf(h.engine.addToWatchlist(p.id, 'bad symbol!'))).toBe('VALIDATION_FAILED');
      expect(await codeOf(h.engine.getWatchlist('pf_missing'))).toBe('PORTFOLIO_NOT_FOUND');
      expect(await h.store.listActiveSymbols()).toContain('MSFT');
    });

    it('emits typed events after commit; a throwing listener is logged and harmless', async () => {
      const seenInStore: string[] = [];
      const off1 = h.engine.on('trade.executed', async (e) => {
        const ledger = await h.store.listTransactions(e.portfolioId, { limit: 10 });
        if (ledger.some((t) => t.id === e.transaction.id)) seenInStore.push(e.transaction.id);
      });
      const off2 = h.engine.on('trade.executed', () => {
        throw new Error('listener bug');
      });
      const off3 = h.engine.on('cash.deposited', () => Promise.reject(new Error('async listener bug')));
      h.events.length = 0;
      const p = await h.engine.createPortfolio({ name: 'Events', initialCash: 500 });
      const t = await h.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1 });
      await codeOf(h.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1000 }));
      await h.engine.withdraw(p.id, { amount: 1 });
      await h.engine.updatePortfolio(p.id, { name: 'Events 2' });
      await h.engine.deletePortfolio(p.id);
      await new Promise((r) => setTimeout(r, 20));
      expect(h.events.map((e) => e.type)).toEqual([
        'portfolio.created',
        'cash.deposited',
        'trade.executed',
        'snapshot.recorded',
        'cash.withdrawn',
        'portfolio.updated',
        'portfolio.deleted',
      ]);
      expect(seenInStore).toEqual([t.id]);
      expect(h.logged.filter((m) => m.includes('listener')).length).toBeGreaterThanOrEqual(2);
      off1();
      off2();
      off3();
    });
  });
}
