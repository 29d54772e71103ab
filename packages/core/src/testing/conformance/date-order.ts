/**
 * Conformance, the ledger in date order: a backdated entry re-plans the portfolio from its instant
 * (average cost and FIFO), an entry impossible at its own date or one that would break a later
 * entry is refused and changes nothing, entries at one instant keep entry order, voids, and history
 * after a change is recomputed or flagged stale. The stored state always equals a replay of the
 * ledger in date order.
 */

import { replayLedger } from '../../ledger/replay.js';
import { dec } from '../../money/decimal.js';
import { LEDGER_STALE_FLAG, type Store, type TransactionRow } from '../../ports/index.js';
import { vitest } from '../runtime.js';
import { type ConformanceContext, codeOf, stateOf } from './context.js';

/** Every entry of a portfolio in date order (ties in entry order), void ones included. */
async function ledgerOf(store: Store, id: string): Promise<TransactionRow[]> {
  return store.listTransactions(id, { limit: 10_000, order: 'asc' });
}

/**
 * Checks that the stored state is the replay of the ledger in date order: cash, net deposits,
 * realized P&L and every position; and that each entry's `cashAfter` is the running cash.
 */
async function expectDateOrdered(store: Store, id: string): Promise<void> {
  const { expect } = vitest();
  const ledger = await ledgerOf(store, id);
  const live = ledger.filter((e) => e.voidedAt === null);
  const replay = replayLedger(live);
  const p = await store.getPortfolio(id);
  expect(p?.cash).toBe(replay.cash.toFixed());
  expect(p?.netDeposits).toBe(replay.netDeposits.toFixed());
  expect(p?.realizedPnl).toBe(replay.realizedPnl.toFixed());
  expect(p?.ledgerAt ?? null).toBe(live[live.length - 1]?.executedAt ?? null);
  for (const pos of await store.listPositions(id)) {
    const r = replay.positions.get(pos.symbol);
    expect(pos.quantity, pos.symbol).toBe((r?.quantity ?? dec(0)).toFixed());
    expect(pos.costBasis, pos.symbol).toBe((r?.costBasis ?? dec(0)).toFixed());
  }
  let cash = dec(0);
  for (const e of live) {
    cash = cash.plus(e.amount);
    expect(e.cashAfter, e.id).toBe(cash.toFixed());
  }
}

/** Registers the date-order checks. */
export function describeDateOrder(ctx: ConformanceContext): void {
  const { describe, expect, it } = vitest();
  describe('ledger in date order', () => {
    const h = ctx.useFixture();
    const open = (name: string, costBasisMethod: 'average' | 'fifo' = 'average') =>
      h.engine.createPortfolio({
        name,
        costBasisMethod,
        initialCash: 100_000,
        initialCashAt: '2009-12-01T00:00:00Z',
      });

    it('average cost: a sell entered after later buys realizes against the cost of its own date', async () => {
      const p = await open('Average');
      await h.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 109, price: 50, at: '2010-01-01T15:00:00Z' });
      await h.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 52, price: 60, at: '2010-03-01T15:00:00Z' });
      await h.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 32, price: 70, at: '2010-03-01T15:00:00Z' });
      const sell = await h.engine.trade(p.id, {
        symbol: 'AAPL',
        side: 'sell',
        quantity: 15,
        price: 56,
        at: '2010-02-01T15:00:00Z',
      });
      // In date order the sell meets 109 @ 50 only: 15 × (56 − 50). Entry order would take the
      // average of all four buys (10810 / 193) and realize about −0.16.
      expect(sell).toMatchObject({ realizedPnl: '90', quantityAfter: '94' });
      const [pos] = await h.engine.getPositions(p.id);
      // 94 × 50 + 52 × 60 + 32 × 70 = 10060.
      expect(pos).toMatchObject({ symbol: 'AAPL', quantity: '178', costBasis: '10060' });
      const march = (await ledgerOf(h.store, p.id)).filter((e) => e.executedAt.startsWith('2010-03-01'));
      expect(march.map((e) => e.quantityAfter)).toEqual(['146', '178']);
      await expectDateOrdered(h.store, p.id);
    });

    it('FIFO: a buy dated first becomes the oldest lot, and later sells are re-planned against it', async () => {
      const p = await open('Fifo', 'fifo');
      await h.engine.trade(p.id, { symbol: 'MSFT', side: 'buy', quantity: 10, price: 100, at: '2010-03-01T15:00:00Z' });
      const first = await h.engine.trade(p.id, {
        symbol: 'MSFT',
        side: 'sell',
        quantity: 5,
        price: 120,
        at: '2010-04-01T15:00:00Z',
      });
      expect(first.realizedPnl).toBe('100');
      await h.engine.trade(p.id, { symbol: 'MSFT', side: 'buy', quantity: 10, price: 50, at: '2010-01-01T15:00:00Z' });
      await h.engine.trade(p.id, { symbol: 'MSFT', side: 'sell', quantity: 5, price: 120, at: '2010-05-01T15:00:00Z' });
      const sells = (await ledgerOf(h.store, p.id)).filter((e) => e.kind === 'sell');
      // Both sells now take the 01-01 lot at 50: 5 × 70 each.
      expect(sells.map((e) => e.realizedPnl)).toEqual(['350', '350']);
      expect((await h.engine.getPortfolio(p.id)).realizedPnl).toBe('700');
      const [pos] = await h.engine.getPositions(p.id);
      expect(pos).toMatchObject({ quantity: '10', costBasis: '1000' });
      const lots = await h.store.listLots(p.id, 'MSFT');
      expect(lots.map((l) => [l.openedAt, l.quantity, l.costBasis])).toEqual([
        ['2010-03-01T15:00:00.000Z', '10', '1000'],
      ]);
      await expectDateOrdered(h.store, p.id);
    });

    it('refuses an entry impossible at its own date: a sell before any buy, a withdrawal before the deposit', async () => {
      const p = await open('Impossible');
      await h.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1, price: 100, at: '2010-06-01T15:00:00Z' });
      const before = await stateOf(h.store, p.id);
      const sell = await h.engine
        .trade(p.id, { symbol: 'AAPL', side: 'sell', quantity: 1, price: 100, at: '2010-05-01T15:00:00Z' })
        .catch((e) => e);
      expect(sell).toMatchObject({ code: 'INSUFFICIENT_QUANTITY', details: { asOf: '2010-05-01T15:00:00.000Z' } });
      expect(await codeOf(h.engine.withdraw(p.id, { amount: 1, at: '2009-11-01T00:00:00Z' }))).toBe(
        'INSUFFICIENT_CASH',
      );
      expect(await stateOf(h.store, p.id)).toEqual(before);
    });

    it('refuses a backdated entry that would make a later one impossible, naming it, and changes nothing', async () => {
      const p = await h.engine.createPortfolio({
        name: 'Tight',
        initialCash: 1000,
        initialCashAt: '2010-01-01T00:00:00Z',
      });
      const buy = await h.engine.trade(p.id, {
        symbol: 'AAPL',
        side: 'buy',
        quantity: 10,
        price: 100,
        at: '2010-03-01T15:00:00Z',
      });
      const sell = await h.engine.trade(p.id, {
        symbol: 'AAPL',
        side: 'sell',
        quantity: 10,
        price: 100,
        at: '2010-05-01T15:00:00Z',
      });
      const before = await stateOf(h.store, p.id);
      const w = await h.engine.withdraw(p.id, { amount: 1, at: '2010-02-01T00:00:00Z' }).catch((e) => e);
      expect(w).toMatchObject({ code: 'INSUFFICIENT_CASH', details: { field: 'at', transactionId: buy.id } });
      expect(String(w.message)).toContain(buy.id);
      // Selling 5 before the sell of 10 leaves that sell short.
      const s = await h.engine
        .trade(p.id, { symbol: 'AAPL', side: 'sell', quantity: 5, price: 100, at: '2010-04-01T00:00:00Z' })
        .catch((e) => e);
      expect(s).toMatchObject({ code: 'INSUFFICIENT_QUANTITY', details: { transactionId: sell.id } });
      expect(await stateOf(h.store, p.id)).toEqual(before);
    });

    it('keeps entry order among entries at one instant, and a backdated entry lands after them', async () => {
      const p = await h.engine.createPortfolio({ name: 'Ties' });
      const at = '2010-01-01T00:00:00Z';
      const d = await h.engine.deposit(p.id, { amount: 100, at });
      const b = await h.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1, price: 100, at });
      await h.engine.deposit(p.id, { amount: 5, at: '2010-02-01T00:00:00Z' });
      // At the same instant, after the buy: cash is 0 then, so a withdrawal there is impossible.
      expect(await codeOf(h.engine.withdraw(p.id, { amount: 1, at }))).toBe('INSUFFICIENT_CASH');
      const late = await h.engine.deposit(p.id, { amount: 7, at });
      const ledger = await ledgerOf(h.store, p.id);
      expect(ledger.map((e) => e.id)).toEqual([d.id, b.id, late.id, ledger[3]?.id]);
      expect(ledger.map((e) => e.cashAfter)).toEqual(['100', '0', '7', '12']);
      await expectDateOrdered(h.store, p.id);
    });

    it('voids an entry: it stays listed as void, the portfolio is re-planned without it, and an event says so', async () => {
      const p = await open('Void', 'fifo');
      const early = await h.engine.trade(p.id, {
        symbol: 'MSFT',
        side: 'buy',
        quantity: 10,
        price: 50,
        at: '2010-01-01T15:00:00Z',
      });
      await h.engine.trade(p.id, { symbol: 'MSFT', side: 'buy', quantity: 10, price: 100, at: '2010-02-01T15:00:00Z' });
      await h.engine.trade(p.id, { symbol: 'MSFT', side: 'sell', quantity: 5, price: 120, at: '2010-03-01T15:00:00Z' });
      const seen = h.events.length;
      const voided = await h.engine.voidTransaction(p.id, early.id, { idempotencyKey: 'void-1' });
      expect(voided.voidedAt).not.toBeNull();
      expect(h.events.slice(seen).map((e) => e.type)).toContain('transaction.voided');
      const sell = (await ledgerOf(h.store, p.id)).find((e) => e.kind === 'sell');
      // Without the 50 lot, the sell takes the 100 lot: 5 × 20.
      expect(sell?.realizedPnl).toBe('100');
      const [pos] = await h.engine.getPositions(p.id);
      expect(pos).toMatchObject({ quantity: '5', costBasis: '500' });
      const listed = await h.engine.listTransactions(p.id);
      expect(listed.items.find((t) => t.id === early.id)?.voidedAt).toBe(voided.voidedAt);
      await expectDateOrdered(h.store, p.id);
      // Idempotent: the same key (or none) answers the first void; the key on another entry conflicts.
      expect(await h.engine.voidTransaction(p.id, early.id, { idempotencyKey: 'void-1' })).toEqual(voided);
      expect(await h.engine.voidTransaction(p.id, early.id)).toEqual(voided);
      expect(await codeOf(h.engine.voidTransaction(p.id, sell?.id as string, { idempotencyKey: 'void-1' }))).toBe(
        'IDEMPOTENCY_CONFLICT',
      );
      expect(await codeOf(h.engine.voidTransaction(p.id, 'tx_missing'))).toBe('NOT_FOUND');
    });

    it('refuses a void that would make a later entry impossible, naming it', async () => {
      const p = await h.engine.createPortfolio({ name: 'Void refused' });
      const d = await h.engine.deposit(p.id, { amount: 100, at: '2010-01-01T00:00:00Z' });
      const b = await h.engine.trade(p.id, {
        symbol: 'AAPL',
        side: 'buy',
        quantity: 1,
        price: 100,
        at: '2010-02-01T00:00:00Z',
      });
      const before = await stateOf(h.store, p.id);
      const e = await h.engine.voidTransaction(p.id, d.id).catch((x) => x);
      expect(e).toMatchObject({ code: 'INSUFFICIENT_CASH', details: { field: 'transactionId', transactionId: b.id } });
      expect(await stateOf(h.store, p.id)).toEqual(before);
      // Voiding the buy first, then the deposit, works.
      await h.engine.voidTransaction(p.id, b.id);
      await h.engine.voidTransaction(p.id, d.id);
      expect(await h.engine.getPortfolio(p.id)).toMatchObject({ cash: '0', netDeposits: '0', ledgerAt: null });
      expect(await h.engine.getPositions(p.id)).toEqual([]);
    });

    it('brings history after a backdated entry in line: daily rows recomputed, others flagged stale', async () => {
      const bars = (close: string) =>
        ['2026-02-02', '2026-02-03', '2026-02-04'].map((day) => ({ day, close, source: 'test' }));
      h.provider.setHistory('HIST', bars('10') as never);
      const p = await h.engine.createPortfolio({
        name: 'History',
        initialCash: 1000,
        initialCashAt: '2026-02-01T00:00:00Z',
      });
      await h.engine.trade(p.id, { symbol: 'HIST', side: 'buy', quantity: 10, price: 10, at: '2026-02-02T12:00:00Z' });
      await h.engine.backfill(p.id, { from: '2026-02-02', to: '2026-02-04' });
      const trade = await h.engine.listTransactions(p.id);
      expect(trade.items).toHaveLength(2);
      const history = async () =>
        (await h.store.listSnapshots(p.id, { from: '2026-02-01T00:00:00.000Z' })).filter((s) => s.day < '2026-03-01');
      expect((await history()).map((s) => [s.day, s.totalValue])).toEqual([
        ['2026-02-02', '1000'],
        ['2026-02-03', '1000'],
        ['2026-02-04', '1000'],
      ]);
      const seen = h.events.length;
      // A sell of 5 at 12 backdated to Feb 3rd: from then on cash 960 + 5 × 10.
      await h.engine.trade(p.id, { symbol: 'HIST', side: 'sell', quantity: 5, price: 12, at: '2026-02-03T12:00:00Z' });
      const after = await history();
      expect(after.map((s) => [s.day, s.totalValue, s.flags.includes(LEDGER_STALE_FLAG)])).toEqual([
        ['2026-02-02', '1000', false],
        ['2026-02-03', '1010', false],
        ['2026-02-04', '1010', false],
      ]);
      const corrected = h.events.slice(seen).find((e) => e.type === 'history.corrected');
      expect(corrected).toMatchObject({ portfolioId: p.id, recomputed: 2, stale: 0 });
      // Without history for a symbol, the rows stay, flagged stale, never silently wrong.
      h.provider.setHistory('HIST', []);
      await h.engine.deposit(p.id, { amount: 1, at: '2026-02-03T13:00:00Z' });
      const flagged = await history();
      expect(flagged.map((s) => [s.day, s.flags.includes(LEDGER_STALE_FLAG)])).toEqual([
        ['2026-02-02', false],
        ['2026-02-03', true],
        ['2026-02-04', true],
      ]);
      // Trade snapshots taken live after the change are flagged too.
      const live = await h.store.listSnapshots(p.id, { kinds: ['trade'] });
      expect(live.every((s) => s.flags.includes(LEDGER_STALE_FLAG))).toBe(true);
      await expectDateOrdered(h.store, p.id);
    });
  });
}
