/**
 * Conformance, snapshots: the post-trade snapshot in the trade's transaction, the daily upsert,
 * downsampled history, portfolio states read in one batch, backfill from the ledger and daily
 * closes, and never a NaN or a silent zero for an unpriced position.
 */
import { dec } from '../../money/decimal.js';
import type { SnapshotRow } from '../../ports/index.js';
import { vitest } from '../runtime.js';
import type { ConformanceContext } from './context.js';

const snap = (
  portfolioId: string,
  at: string,
  totalValue: string,
  kind: SnapshotRow['kind'] = 'interval',
): SnapshotRow => ({
  portfolioId,
  at,
  day: at.slice(0, 10),
  kind,
  cash: totalValue,
  marketValue: '0',
  totalValue,
  costBasis: '0',
  unrealizedPnl: '0',
  realizedPnl: '0',
  netDeposits: totalValue,
  flags: [],
});

/** Registers the snapshot checks. */
export function describeSnapshots(ctx: ConformanceContext): void {
  const { describe, expect, it } = vitest();
  describe('snapshots', () => {
    const h = ctx.useFixture({ prices: { AAPL: '150', MSFT: '400' } });

    it('writes the post-trade snapshot in the trade transaction, from post-trade state', async () => {
      const p = await h.engine.createPortfolio({ name: 'Snap', initialCash: 10_000 });
      await h.engine.trade(p.id, { symbol: 'MSFT', side: 'buy', quantity: 2, price: '400' });
      const t = await h.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 10, price: '149', fee: '1' });
      const rows = await h.store.listSnapshots(p.id, { kinds: ['trade'] });
      expect(rows).toHaveLength(2);
      const last = rows[1] as SnapshotRow;
      // 10000 − 800 − 1491 = 7709 cash; MSFT 2 × 400 (latest) + AAPL 10 × 149 (the fill) = 2290.
      expect(last).toMatchObject({
        cash: '7709',
        marketValue: '2290',
        totalValue: '9999',
        costBasis: '2291',
        unrealizedPnl: '-1',
        netDeposits: '10000',
        realizedPnl: '0',
        flags: [],
      });
      expect(last.cash).toBe(t.cashAfter);
      // A rejected trade writes no snapshot.
      await expect(
        h.engine.trade(p.id, { symbol: 'AAPL', side: 'sell', quantity: 11, price: '150' }),
      ).rejects.toMatchObject({
        code: 'INSUFFICIENT_QUANTITY',
      });
      expect(await h.store.listSnapshots(p.id, { kinds: ['trade'] })).toHaveLength(2);
      expect(h.events.filter((e) => e.type === 'snapshot.recorded' && e.portfolioId === p.id)).toHaveLength(2);
    });

    it('records one daily snapshot per portfolio and day, and a rerun replaces it', async () => {
      const p = await h.engine.createPortfolio({ name: 'Daily', initialCash: 1000 });
      await h.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 2, price: '150' });
      const day = '2026-03-02';
      const first = await h.engine.runDailySnapshots({ day });
      expect(first.failedCount).toBe(0);
      h.provider.setPrice('AAPL', '160');
      await h.clock.advance(60_000);
      const again = await h.engine.runDailySnapshots({ day });
      expect(again.succeeded).toBe(first.succeeded);
      const rows = await h.store.listSnapshots(p.id, { kinds: ['daily'] });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ day, totalValue: '1020', marketValue: '320' });
      h.provider.setPrice('AAPL', '150');
    });

    it('downsamples history to the last snapshot of each hour or day', async () => {
      const p = await h.engine.createPortfolio({ name: 'Series' });
      await h.store.insertSnapshots([
        snap(p.id, '2026-03-01T10:05:00.000Z', '1'),
        snap(p.id, '2026-03-01T10:55:00.000Z', '2'),
        snap(p.id, '2026-03-01T11:00:00.000Z', '3'),
        snap(p.id, '2026-03-01T23:00:00.000Z', '4'),
        snap(p.id, '2026-03-02T09:00:00.000Z', '5'),
        snap(p.id, '2026-03-02T09:30:00.000Z', '6'),
      ]);
      const raw = await h.store.listSnapshots(p.id, {});
      expect(raw.map((r) => r.totalValue)).toEqual(['1', '2', '3', '4', '5', '6']);
      const hourly = await h.store.listSnapshots(p.id, { bucket: 'hour' });
      expect(hourly.map((r) => r.totalValue)).toEqual(['2', '3', '4', '6']);
      const daily = await h.store.listSnapshots(p.id, { bucket: 'day', limit: 1 });
      expect(daily.map((r) => r.totalValue)).toEqual(['4']);
      const history = await h.engine.getHistory(p.id, { from: '2026-03-01', to: '2026-03-02', interval: '1d' });
      expect(history.items.map((r) => r.totalValue)).toEqual(['4', '6']);
      expect(history.truncated).toBe(false);
    });

    it('reads portfolios with their open positions, in the order asked', async () => {
      const a = await h.engine.createPortfolio({ name: 'H1', initialCash: 10_000 });
      const b = await h.engine.createPortfolio({ name: 'H2', initialCash: 10_000 });
      const c = await h.engine.createPortfolio({ name: 'H3', initialCash: 5 });
      await h.engine.trade(a.id, { symbol: 'MSFT', side: 'buy', quantity: '1.5', price: '400' });
      await h.engine.trade(a.id, { symbol: 'AAPL', side: 'buy', quantity: 1, price: '150' });
      await h.engine.trade(a.id, { symbol: 'AAPL', side: 'sell', quantity: 1, price: '150' });
      await h.engine.trade(b.id, { symbol: 'AAPL', side: 'buy', quantity: 3, price: '150' });
      const states = await h.store.readPortfolioStates([b.id, 'pf_missing', c.id, a.id]);
      expect(states.map((s) => s.portfolio.id)).toEqual([b.id, c.id, a.id]);
      expect(states.map((s) => s.portfolio.cash)).toEqual(['9550', '5', '9400']);
      expect(states.map((s) => s.positions.map((p) => [p.symbol, p.quantity, p.costBasis]))).toEqual([
        [['AAPL', '3', '450']],
        [],
        [['MSFT', '1.5', '600']],
      ]);
      expect(states[0]?.portfolio).toEqual(await h.store.getPortfolio(b.id));
      expect(await h.store.readPortfolioStates([])).toEqual([]);
    });

    it('backfills from the ledger as of each day and daily closes, one row per day on rerun', async () => {
      h.provider.setHistory('BFX', [
        { day: '2026-02-20', close: '10' },
        { day: '2026-02-23', close: '12' },
        { day: '2026-02-24', close: '11.5' },
      ]);
      const p = await h.engine.createPortfolio({ name: 'Backfill' });
      await h.engine.deposit(p.id, { amount: '1000', at: '2026-02-20T10:00:00Z' });
      await h.engine.trade(p.id, { symbol: 'BFX', side: 'buy', quantity: 10, price: '10', at: '2026-02-20T15:00:00Z' });
      await h.engine.trade(p.id, {
        symbol: 'BFX',
        side: 'sell',
        quantity: 4,
        price: '12',
        at: '2026-02-23T23:59:59.999Z',
      });
      await h.engine.backfill(p.id, { from: '2026-02-19', to: '2026-02-24' });
      const r = await h.engine.backfill(p.id, { from: '2026-02-19', to: '2026-02-24' });
      expect(r).toMatchObject({ firstDay: '2026-02-20', written: 5, skippedDays: 1, unpriced: [] });
      const rows = await h.store.listSnapshots(p.id, { kinds: ['backfill'] });
      // 900 + 10 × 10; the weekend carries Friday's close; Monday's sell (at 23:59:59.999) counts that day.
      expect(rows.map((x) => [x.day, x.cash, x.marketValue, x.totalValue, x.realizedPnl])).toEqual([
        ['2026-02-20', '900', '100', '1000', '0'],
        ['2026-02-21', '900', '100', '1000', '0'],
        ['2026-02-22', '900', '100', '1000', '0'],
        ['2026-02-23', '948', '72', '1020', '8'],
        ['2026-02-24', '948', '69', '1017', '8'],
      ]);
      expect(rows.map((x) => x.at)).toEqual(rows.map((x) => `${x.day}T23:59:59.999Z`));
    });

    it('never writes NaN or a silent zero for an unpriced position', async () => {
      const p = await h.engine.createPortfolio({ name: 'Unpriced', initialCash: 1000 });
      await h.engine.trade(p.id, { symbol: 'ZZZ', side: 'buy', quantity: 1, price: '10' });
      const manual = await h.engine.recordSnapshot(p.id);
      expect(manual).toMatchObject({ kind: 'interval', marketValue: '0', totalValue: '990', flags: ['ZZZ:unpriced'] });
      const report = await h.engine.runDailySnapshots({ day: '2026-03-02' });
      const failure = report.failed.find((f) => f.portfolioId === p.id);
      expect(failure?.code).toBe('PRICE_UNAVAILABLE');
      expect(await h.store.listSnapshots(p.id, { kinds: ['daily'] })).toHaveLength(0);
      for (const r of await h.store.listSnapshots(p.id, {})) {
        for (const v of [r.cash, r.marketValue, r.totalValue, r.costBasis, r.unrealizedPnl]) {
          expect(dec(v).isFinite()).toBe(true);
        }
      }
    });
  });
}
