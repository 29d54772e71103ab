/**
 * Conformance, portfolios: create with defaults, list by owner with cursors, update, delete with
 * every row that belongs to the portfolio (checked with raw SQL too), input validation.
 */
import { isFoliokitError } from '../../errors.js';
import type { SnapshotRow } from '../../ports/index.js';
import { vitest } from '../runtime.js';
import {
  type ConformanceContext,
  type ConformanceFixture,
  codeOf,
  countRows,
  expectDecimal,
  itRaw,
  PORTFOLIO_TABLES,
  rawOf,
} from './context.js';

/** One row in each of {@link PORTFOLIO_TABLES}: a FIFO buy, a watched symbol, a daily snapshot. */
async function portfolioWithRows(h: ConformanceFixture): Promise<string> {
  const p = await h.engine.createPortfolio({ name: 'Doomed', initialCash: 10_000, costBasisMethod: 'fifo' });
  await h.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 3 });
  await h.engine.addToWatchlist(p.id, 'MSFT');
  const snap: SnapshotRow = {
    portfolioId: p.id,
    at: '2026-03-02T15:00:00.000Z',
    day: '2026-03-02',
    kind: 'daily',
    cash: '1',
    marketValue: '0',
    totalValue: '1',
    costBasis: '0',
    unrealizedPnl: '0',
    realizedPnl: '0',
    netDeposits: '1',
    flags: [],
  };
  await h.store.insertSnapshots([snap]);
  // Target weights live in their own table (a store without them has nothing to leave behind).
  if (h.store.setTargets) await h.engine.setTargets(p.id, [{ symbol: 'AAPL', weight: '0.5' }]);
  return p.id;
}

/** Registers the portfolio checks. */
export function describePortfolios(ctx: ConformanceContext): void {
  const { describe, expect, it } = vitest();
  describe('portfolios', () => {
    const h = ctx.useFixture();

    it('creates with documented defaults and an opening deposit', async () => {
      const p = await h.engine.createPortfolio({ name: '  Main  ', initialCash: '1000.50' });
      expect(p).toMatchObject({
        name: 'Main',
        description: null,
        ownerId: null,
        baseCurrency: 'USD',
        costBasisMethod: 'average',
        cash: '1000.5',
        netDeposits: '1000.5',
        realizedPnl: '0',
        createdAt: '2026-03-02T15:00:00.000Z',
      });
      expect(await h.engine.getPortfolio(p.id)).toEqual(p);
      const ledger = await h.engine.listTransactions(p.id);
      expect(ledger.items).toHaveLength(1);
      expect(ledger.items[0]).toMatchObject({ kind: 'deposit', amount: '1000.5', cashAfter: '1000.5' });
    });

    itRaw(ctx, 'the portfolio row holds the opening deposit as cash, and the ledger its row', async () => {
      const p = await h.engine.createPortfolio({ name: 'Raw main', initialCash: '1000.50' });
      const raw = rawOf(h);
      const [row] = await raw('select cash, net_deposits from portfolios where id = ?', [p.id]);
      expectDecimal(row?.cash, '1000.5', 'cash');
      expectDecimal(row?.net_deposits, '1000.5', 'net_deposits');
      expect(await countRows(raw, 'transactions', p.id)).toBe(1);
    });

    it('lists by owner with cursor pagination', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await h.engine.createPortfolio({ name: `P${i}`, ownerId: 'owner-list' })).id);
      }
      await h.engine.createPortfolio({ name: 'other', ownerId: 'someone-else' });
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await h.engine.listPortfolios({
          ownerId: 'owner-list',
          limit: 2,
          ...(cursor ? { cursor } : {}),
        });
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((p) => p.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(ids);
    });

    it('updates name and description and keeps createdAt', async () => {
      const p = await h.engine.createPortfolio({ name: 'Old', description: 'd' });
      await h.clock.advance(60_000);
      const u = await h.engine.updatePortfolio(p.id, { name: 'New', description: null });
      expect(u).toMatchObject({ name: 'New', description: null, createdAt: p.createdAt });
      expect(u.updatedAt > p.updatedAt).toBe(true);
      expect(await codeOf(h.engine.updatePortfolio('pf_missing', { name: 'x' }))).toBe('PORTFOLIO_NOT_FOUND');
      expect(await codeOf(h.engine.updatePortfolio(p.id, { name: '' }))).toBe('VALIDATION_FAILED');
    });

    it('deletes a portfolio and every row that belongs to it', async () => {
      const id = await portfolioWithRows(h);
      expect(await h.store.listTransactions(id, { limit: 10 })).not.toEqual([]);
      await h.engine.deletePortfolio(id);
      expect(await codeOf(h.engine.getPortfolio(id))).toBe('PORTFOLIO_NOT_FOUND');
      expect(await codeOf(h.engine.deletePortfolio(id))).toBe('PORTFOLIO_NOT_FOUND');
      expect(await h.store.listTransactions(id, { limit: 10 })).toEqual([]);
      expect(await h.store.listPositions(id)).toEqual([]);
      expect(await h.store.listLots(id)).toEqual([]);
      expect(await h.store.listWatch(id)).toEqual([]);
      expect(await h.store.listSnapshots(id, {})).toEqual([]);
    });

    itRaw(ctx, 'deleting a portfolio leaves no row in any table', async () => {
      const id = await portfolioWithRows(h);
      const raw = rawOf(h);
      for (const t of PORTFOLIO_TABLES) expect(await countRows(raw, t, id), t).toBeGreaterThan(0);
      await h.engine.deletePortfolio(id);
      for (const t of PORTFOLIO_TABLES) expect(await countRows(raw, t, id), t).toBe(0);
      expect(await raw('select id from portfolios where id = ?', [id])).toEqual([]);
    });

    it('rejects bad input with VALIDATION_FAILED naming the field', async () => {
      const cases: Array<[unknown, string]> = [
        [{ name: '' }, 'name'],
        [{ name: 'x', baseCurrency: 'usd' }, 'baseCurrency'],
        [{ name: 'x', costBasisMethod: 'lifo' }, 'costBasisMethod'],
        [{ name: 'x', initialCash: -1 }, 'initialCash'],
        [{ name: 'x', initialCash: Number.NaN }, 'initialCash'],
        [{ name: 'x', initialCash: '1e309' }, 'initialCash'],
        [{ name: 'x', initialCash: 'ten' }, 'initialCash'],
        [{ name: 'x', cash: '100' }, 'input'],
      ];
      for (const [input, field] of cases) {
        try {
          await h.engine.createPortfolio(input as never);
          expect.unreachable(`accepted ${JSON.stringify(input)}`);
        } catch (error) {
          expect(isFoliokitError(error)).toBe(true);
          expect((error as { code: string }).code).toBe('VALIDATION_FAILED');
          expect((error as { details: { field: string } }).details.field).toBe(field);
        }
      }
      expect(await codeOf(h.engine.getPortfolio('pf_nope'))).toBe('PORTFOLIO_NOT_FOUND');
    });
  });
}
