/**
 * Conformance, store primitives: the `Store` port below the engine — decimals round-trip, the
 * snapshot upsert per day, a planner error passed through, a failed write rolled back whole, the
 * newest price kept per symbol.
 */
import type { SnapshotRow } from '../../ports/index.js';
import { vitest } from '../runtime.js';
import { type ConformanceContext, codeOf, stateOf } from './context.js';

/** Registers the store-primitive checks. */
export function describeStorePrimitives(ctx: ConformanceContext): void {
  const { describe, expect, it } = vitest();
  describe('store primitives', () => {
    const h = ctx.useFixture();

    it('round-trips decimals of 18 significant digits and 10 decimal places', async () => {
      const p = await h.engine.createPortfolio({ name: 'Digits', initialCash: '12345678.9012345678' });
      const back = await h.store.getPortfolio(p.id);
      expect(back?.cash).toBe('12345678.9012345678');
      const t = await h.engine.trade(p.id, {
        symbol: 'AAPL',
        side: 'buy',
        quantity: '1234.5678901234',
        price: '0.0000000001',
      });
      const [row] = await h.store.listTransactions(p.id, { limit: 1 });
      expect(row?.quantity).toBe('1234.5678901234');
      expect(row?.amount).toBe(t.amount);
    });

    it('replaces daily and backfill snapshots per portfolio and day, appends the others', async () => {
      const p = await h.engine.createPortfolio({ name: 'Snaps' });
      const base: SnapshotRow = {
        portfolioId: p.id,
        at: '2026-03-02T00:00:00.000Z',
        day: '2026-03-01',
        kind: 'daily',
        cash: '1',
        marketValue: '2',
        totalValue: '3',
        costBasis: '2',
        unrealizedPnl: '0',
        realizedPnl: '0',
        netDeposits: '1',
        flags: [],
      };
      await h.store.insertSnapshots([base], { replace: 'day' });
      await h.store.insertSnapshots([{ ...base, totalValue: '4', flags: ['X:stale'] }], { replace: 'day' });
      await h.store.insertSnapshots([
        { ...base, kind: 'trade' },
        { ...base, kind: 'trade', at: '2026-03-02T00:00:01.000Z' },
      ]);
      const daily = await h.store.listSnapshots(p.id, { kinds: ['daily'] });
      expect(daily).toHaveLength(1);
      expect(daily[0]).toMatchObject({ totalValue: '4', flags: ['X:stale'], day: '2026-03-01' });
      expect(await h.store.listSnapshots(p.id, { kinds: ['trade'] })).toHaveLength(2);
      const ranged = await h.store.listSnapshots(p.id, { from: '2026-03-02T00:00:00.500Z' });
      expect(ranged).toHaveLength(1);
    });

    it('passes a planner error through unchanged and writes nothing', async () => {
      const p = await h.engine.createPortfolio({ name: 'Planner', initialCash: 10 });
      const before = await stateOf(h.store, p.id);
      const boom = new TypeError('planner bug');
      await expect(
        h.store.applyLedgerChange({ portfolioId: p.id, symbol: 'AAPL' }, () => {
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await stateOf(h.store, p.id)).toEqual(before);
      expect(await codeOf(h.store.applyLedgerChange({ portfolioId: 'pf_missing' }, () => null))).toBe(
        'PORTFOLIO_NOT_FOUND',
      );
    });

    it('rolls back a change whose later write fails: never half-written', async () => {
      const p = await h.engine.createPortfolio({ name: 'Atomic', initialCash: 100 });
      const before = await stateOf(h.store, p.id);
      const now = '2026-03-02T15:00:00.000Z';
      // Cash is updated first; the position then breaks the CHECK (quantity >= 0).
      const code = await codeOf(
        h.store.applyLedgerChange({ portfolioId: p.id, symbol: 'AAPL' }, (state) => ({
          portfolioId: p.id,
          portfolio: {
            cash: '50',
            netDeposits: state.portfolio.netDeposits,
            realizedPnl: '0',
            ledgerAt: null,
            updatedAt: now,
          },
          position: {
            portfolioId: p.id,
            symbol: 'AAPL',
            quantity: '-1',
            costBasis: '50',
            realizedPnl: '0',
            openedAt: now,
            updatedAt: now,
          },
          transaction: {
            id: `tx_atomic_${p.id}`,
            portfolioId: p.id,
            kind: 'buy',
            symbol: 'AAPL',
            quantity: '1',
            price: '50',
            fee: '0',
            amount: '-50',
            realizedPnl: null,
            cashAfter: '50',
            quantityAfter: '-1',
            idempotencyKey: null,
            requestHash: null,
            executedAt: now,
            createdAt: now,
            voidedAt: null,
            voidKey: null,
          },
        })),
      );
      expect(code).toBe('STORE_ERROR');
      expect(await stateOf(h.store, p.id)).toEqual(before);
      // The store is still usable.
      await h.engine.deposit(p.id, { amount: 1 });
      expect((await h.store.getPortfolio(p.id))?.cash).toBe('101');
    });

    it('keeps the newest price per symbol', async () => {
      const row = (price: string, at: string) => ({
        symbol: 'XYZ',
        price,
        at,
        currency: 'USD',
        source: 's',
        updatedAt: at,
      });
      await h.store.upsertPrices([row('10', '2026-03-02T10:00:00.000Z')]);
      await h.store.upsertPrices([row('11', '2026-03-02T11:00:00.000Z')]);
      await h.store.upsertPrices([row('9', '2026-03-02T09:00:00.000Z')]);
      expect((await h.store.getPrices(['XYZ']))[0]).toMatchObject({ price: '11', at: '2026-03-02T11:00:00.000Z' });
      expect(await h.store.getPrices([])).toEqual([]);
    });
  });
}
