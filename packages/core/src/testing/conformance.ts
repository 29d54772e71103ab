/**
 * The store conformance suite. Every store runs it: `@foliokit/store-sqlite` (memory and file),
 * `@foliokit/store-postgres`, and any third-party store. It drives the real engine over the store,
 * so it proves what users rely on: every operation, every error code, atomicity (a rejected call
 * changes nothing), idempotency, cascading deletes, exact decimals, and — by property tests — that
 * stored cash and positions always equal a replay of the ledger.
 *
 * @example
 * ```ts
 * // my-store.test.ts
 * import { runStoreConformance } from '@foliokit/core/testing';
 * runStoreConformance({ name: 'my-store', createStore: () => createMyStore({ ... }) });
 * ```
 */
import type { Arbitrary } from 'fast-check';
import { createPortfolioEngine, type PortfolioEngine } from '../engine/engine.js';
import type { Portfolio } from '../engine/types.js';
import { type ErrorCode, isFoliokitError } from '../errors.js';
import type { FoliokitEvent } from '../events.js';
import { replayLedger } from '../ledger/ledger.js';
import { silentLogger } from '../logger.js';
import { dec, fmt, ZERO } from '../money/decimal.js';
import type { Logger, SnapshotRow, Store, TransactionRow } from '../ports/index.js';
import { createManualClock, type ManualClock } from './clock.js';
import { describeJobConformance } from './conformance-jobs.js';
import { createTestProvider, type TestProvider } from './provider.js';
import { fastCheck, vitest } from './runtime.js';

/** Tables that hold rows belonging to a portfolio. */
export const PORTFOLIO_TABLES = ['transactions', 'positions', 'lots', 'snapshots', 'watchlist'] as const;

/** Options of {@link runStoreConformance}. */
export interface StoreConformanceOptions {
  /** Shown in test names. */
  name: string;
  /** A fresh, empty, migrated store. Called once per `describe` block. */
  createStore: () => Promise<Store>;
  /**
   * Independent raw reads, bypassing the store's own getters (checks what really is in the
   * database). Optional, but every built-in store provides it.
   */
  raw?: {
    /** Rows of `table` whose portfolio_id is `portfolioId`. */
    countRows(table: (typeof PORTFOLIO_TABLES)[number], portfolioId: string): Promise<number>;
    /** The stored cash of a portfolio, as the database prints it. */
    cash(portfolioId: string): Promise<string>;
  };
  /** Closes a store opened by the suite. @default store.close() */
  closeStore?: (store: Store) => Promise<void>;
  /** Property-test runs (sequences of commands). @default 100 */
  numRuns?: number;
}

async function codeOf(promise: Promise<unknown>): Promise<ErrorCode | 'OK'> {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    if (isFoliokitError(error)) return error.code;
    throw error;
  }
}

/** Everything the store holds for a portfolio, for "nothing changed" checks. */
async function stateOf(store: Store, id: string) {
  return {
    portfolio: await store.getPortfolio(id),
    positions: await store.listPositions(id),
    lots: await store.listLots(id),
    ledger: await store.listTransactions(id, { limit: 10_000 }),
    watch: await store.listWatch(id),
  };
}

interface Harness {
  store: Store;
  engine: PortfolioEngine;
  provider: TestProvider;
  clock: ManualClock;
  events: FoliokitEvent[];
  logged: string[];
}

function useHarness(options: StoreConformanceOptions): Harness {
  const { afterAll, beforeAll } = vitest();
  const h = {} as Harness;
  beforeAll(async () => {
    h.store = await options.createStore();
    h.clock = createManualClock('2026-03-02T15:00:00.000Z');
    h.provider = createTestProvider({
      prices: { AAPL: '150.25', MSFT: '400', 'BRK.B': '420.5', TINY: '0.00000001' },
      clock: h.clock,
    });
    h.events = [];
    h.logged = [];
    const logger: Logger = { ...silentLogger, error: (m) => void h.logged.push(m), warn: (m) => void h.logged.push(m) };
    h.engine = createPortfolioEngine({ store: h.store, marketData: h.provider, clock: h.clock, logger });
    h.engine.onAny((e) => void h.events.push(e));
  });
  afterAll(async () => {
    await h.engine?.close();
    if (h.store) await (options.closeStore ? options.closeStore(h.store) : h.store.close());
  });
  return h;
}

/**
 * Registers the conformance suite with vitest. Call it at the top level of a test file.
 */
export function runStoreConformance(options: StoreConformanceOptions): void {
  const { describe, expect, it } = vitest();
  const fc = fastCheck();
  const numRuns = options.numRuns ?? 100;

  describe(`store conformance: ${options.name}`, () => {
    describe('portfolios', () => {
      const h = useHarness(options);

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
        if (options.raw) expect(dec(await options.raw.cash(p.id)).eq('1000.5')).toBe(true);
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
        if (options.raw) {
          for (const t of PORTFOLIO_TABLES) expect(await options.raw.countRows(t, p.id), t).toBeGreaterThan(0);
        }
        await h.engine.deletePortfolio(p.id);
        expect(await codeOf(h.engine.getPortfolio(p.id))).toBe('PORTFOLIO_NOT_FOUND');
        expect(await codeOf(h.engine.deletePortfolio(p.id))).toBe('PORTFOLIO_NOT_FOUND');
        if (options.raw) {
          for (const t of PORTFOLIO_TABLES) expect(await options.raw.countRows(t, p.id), t).toBe(0);
        }
        expect(await h.store.listTransactions(p.id, { limit: 10 })).toEqual([]);
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

    describe('cash', () => {
      const h = useHarness(options);

      it('deposits and withdraws exactly, never below zero', async () => {
        const p = await h.engine.createPortfolio({ name: 'Cash' });
        const d = await h.engine.deposit(p.id, { amount: '0.1' });
        expect(d).toMatchObject({ kind: 'deposit', amount: '0.1', cashAfter: '0.1' });
        await h.engine.deposit(p.id, { amount: 0.2 });
        expect((await h.engine.getPortfolio(p.id)).cash).toBe('0.3');
        const w = await h.engine.withdraw(p.id, { amount: '0.3' });
        expect(w).toMatchObject({ kind: 'withdrawal', amount: '-0.3', cashAfter: '0' });
        const before = await stateOf(h.store, p.id);
        expect(await codeOf(h.engine.withdraw(p.id, { amount: '0.000000000000000001' }))).toBe('INSUFFICIENT_CASH');
        expect(await stateOf(h.store, p.id)).toEqual(before);
        const after = await h.engine.getPortfolio(p.id);
        expect(after).toMatchObject({ cash: '0', netDeposits: '0' });
      });

      it('rejects non-positive, non-finite and malformed amounts, and future dates', async () => {
        const p = await h.engine.createPortfolio({ name: 'Bad cash', initialCash: 10 });
        const before = await stateOf(h.store, p.id);
        for (const amount of [
          0,
          -0,
          -5,
          '0',
          Number.POSITIVE_INFINITY,
          Number.NaN,
          '1e309',
          'NaN',
          '',
          '1,000',
          '0x10',
        ]) {
          expect(await codeOf(h.engine.deposit(p.id, { amount: amount as never })), String(amount)).toBe(
            'VALIDATION_FAILED',
          );
        }
        expect(await codeOf(h.engine.deposit(p.id, { amount: 1, at: '2026-03-03T00:00:00Z' }))).toBe(
          'VALIDATION_FAILED',
        );
        expect(await codeOf(h.engine.deposit(p.id, { amount: 1, at: 'yesterday' }))).toBe('VALIDATION_FAILED');
        expect(await codeOf(h.engine.deposit('pf_missing', { amount: 1 }))).toBe('PORTFOLIO_NOT_FOUND');
        expect(await stateOf(h.store, p.id)).toEqual(before);
      });

      it('records backdated entries at their date', async () => {
        const p = await h.engine.createPortfolio({ name: 'Backdated' });
        const d = await h.engine.deposit(p.id, { amount: 100, at: '2024-01-02T10:00:00+02:00' });
        expect(d.executedAt).toBe('2024-01-02T08:00:00.000Z');
        expect(d.createdAt).toBe(h.clock.now() && new Date(h.clock.now()).toISOString());
      });

      it('replays an idempotency key and refuses it for another request', async () => {
        const p = await h.engine.createPortfolio({ name: 'Idem cash' });
        const a = await h.engine.deposit(p.id, { amount: 50, idempotencyKey: 'dep-1' });
        const b = await h.engine.deposit(p.id, { amount: '50', idempotencyKey: 'dep-1' });
        expect(b).toEqual(a);
        expect(await codeOf(h.engine.deposit(p.id, { amount: 51, idempotencyKey: 'dep-1' }))).toBe(
          'IDEMPOTENCY_CONFLICT',
        );
        expect(await codeOf(h.engine.withdraw(p.id, { amount: 50, idempotencyKey: 'dep-1' }))).toBe(
          'IDEMPOTENCY_CONFLICT',
        );
        expect((await h.engine.getPortfolio(p.id)).cash).toBe('50');
        // Keys are scoped to a portfolio: another portfolio may use the same key.
        const q = await h.engine.createPortfolio({ name: 'Idem other' });
        const c = await h.engine.deposit(q.id, { amount: 7, idempotencyKey: 'dep-1' });
        expect(c.portfolioId).toBe(q.id);
        expect(c.id).not.toBe(a.id);
      });
    });

    describe('trades', () => {
      const h = useHarness(options);

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
        const p = await h.engine.createPortfolio({ name: 'Fifo', initialCash: 10_000, costBasisMethod: 'fifo' });
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
    });

    describe('valuation, watchlist and events', () => {
      const h = useHarness(options);

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

    describeJobConformance(options);

    describe('consistent reads', () => {
      const h = useHarness(options);

      it('a valuation or snapshot never mixes cash from before a trade with quantities from after it', async () => {
        // Buys at the valuation price with no fee move value from cash to the position and leave the
        // total unchanged: any total other than the deposit is a mixed read.
        h.provider.setPrice('MIX', '10');
        const p = await h.engine.createPortfolio({ name: 'Mix', initialCash: '100000' });
        const calls: Array<Promise<unknown>> = [];
        const totals: string[] = [];
        for (let i = 0; i < 150; i++) {
          calls.push(h.engine.trade(p.id, { symbol: 'MIX', side: 'buy', quantity: 1, price: '10' }));
          calls.push(h.engine.getValuation(p.id).then((v) => totals.push(v.totals.totalValue)));
          if (i % 5 === 0) calls.push(h.engine.recordSnapshot(p.id).then((s) => totals.push(s.totalValue)));
        }
        await Promise.all(calls);
        expect(totals.length).toBe(180);
        expect([...new Set(totals)]).toEqual(['100000']);
        expect((await h.engine.getPositions(p.id))[0]?.quantity).toBe('150');
      });
    });

    describe('interleavings', () => {
      const h = useHarness(options);

      it('sell ∥ buy ∥ withdraw ∥ snapshot ∥ valuation, in any order of store calls: never a mixed read', async () => {
        h.provider.setPrice('MIX', '10');
        await fc.assert(
          fc.asyncProperty(fc.scheduler(), async (s) => {
            // Every store call of this engine starts only when the scheduler says so: fast-check
            // explores the orders in which the calls of concurrent operations reach the database.
            const scheduled = new Proxy(h.store, {
              get(target, key, receiver) {
                const value = Reflect.get(target, key, receiver);
                if (typeof value !== 'function' || key === 'name') return value;
                return (...args: unknown[]) =>
                  s.schedule(Promise.resolve(String(key))).then(() => value.apply(target, args));
              },
            });
            const engine = createPortfolioEngine({
              store: scheduled,
              marketData: h.provider,
              clock: h.clock,
              logger: silentLogger,
              snapshots: { onTrade: false },
            });
            const p = await h.engine.createPortfolio({ name: 'interleave', initialCash: '1000' });
            await h.engine.trade(p.id, { symbol: 'MIX', side: 'buy', quantity: 10, price: '10' });
            const totals: string[] = [];
            const ops = Promise.all([
              engine.trade(p.id, { symbol: 'MIX', side: 'sell', quantity: 3, price: '10' }),
              engine.trade(p.id, { symbol: 'MIX', side: 'buy', quantity: 2, price: '10' }),
              engine.withdraw(p.id, { amount: '0.5' }),
              engine.recordSnapshot(p.id).then((snap) => totals.push(snap.totalValue)),
              engine.getValuation(p.id).then((v) => totals.push(v.totals.totalValue)),
            ]);
            await s.waitFor(ops);
            // Trades at the valuation price keep the total; only the withdrawal changes it.
            for (const t of totals) expect(['1000', '999.5'], `${t} in ${s.report().length} steps`).toContain(t);
            const end = await h.engine.getValuation(p.id);
            expect(end.totals.totalValue).toBe('999.5');
            expect(end.positions[0]?.quantity).toBe('9');
            await engine.close();
          }),
          { numRuns: Math.max(50, Math.floor(numRuns / 2)) },
        );
      });
    });

    describe('store primitives', () => {
      const h = useHarness(options);

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
            portfolio: { cash: '50', netDeposits: state.portfolio.netDeposits, realizedPnl: '0', updatedAt: now },
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

    describe('ledger properties', () => {
      const h = useHarness(options);

      type Cmd =
        | { op: 'deposit'; amount: string }
        | { op: 'withdraw'; amount: string }
        | { op: 'buy'; symbol: string; quantity: string; price: string; fee: string }
        | { op: 'sell'; symbol: string; quantity: string; price: string; fee: string };

      const money = fc.integer({ min: 1, max: 5_000_000 }).map((n) => fmt(dec(n).div(100)));
      const qty = fc.integer({ min: 1, max: 20_000 }).map((n) => fmt(dec(n).div(1000)));
      const price = fc.integer({ min: 1, max: 100_000 }).map((n) => fmt(dec(n).div(100)));
      const fee = fc.oneof(
        fc.constant('0'),
        fc.integer({ min: 0, max: 500 }).map((n) => fmt(dec(n).div(100))),
      );
      const symbol = fc.constantFrom('AAPL', 'MSFT', 'BRK.B');
      const cmd: Arbitrary<Cmd> = fc.oneof(
        fc.record({ op: fc.constant('deposit' as const), amount: money }),
        fc.record({ op: fc.constant('withdraw' as const), amount: money }),
        fc.record({ op: fc.constant('buy' as const), symbol, quantity: qty, price, fee }),
        fc.record({ op: fc.constant('sell' as const), symbol, quantity: qty, price, fee }),
      );

      it('keeps cash and quantities ≥ 0 and equal to a replay of the ledger (average and FIFO)', async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.array(cmd, { minLength: 1, maxLength: 25 }),
            fc.constantFrom('average', 'fifo'),
            async (cmds, method) => {
              const p = await h.engine.createPortfolio({ name: 'prop', costBasisMethod: method as 'average' });
              // A simple exact reference model of cash and quantities.
              let cash = ZERO;
              const held = new Map<string, ReturnType<typeof dec>>();
              for (const c of cmds) {
                let expected: ErrorCode | 'OK' = 'OK';
                let call: Promise<unknown>;
                if (c.op === 'deposit') {
                  call = h.engine.deposit(p.id, { amount: c.amount });
                  cash = cash.plus(c.amount);
                } else if (c.op === 'withdraw') {
                  if (dec(c.amount).gt(cash)) expected = 'INSUFFICIENT_CASH';
                  else cash = cash.minus(c.amount);
                  call = h.engine.withdraw(p.id, { amount: c.amount });
                } else if (c.op === 'buy') {
                  const cost = dec(c.quantity).times(c.price).plus(c.fee);
                  if (cost.gt(cash)) expected = 'INSUFFICIENT_CASH';
                  else {
                    cash = cash.minus(cost);
                    held.set(c.symbol, (held.get(c.symbol) ?? ZERO).plus(c.quantity));
                  }
                  call = h.engine.trade(p.id, {
                    symbol: c.symbol,
                    side: 'buy',
                    quantity: c.quantity,
                    price: c.price,
                    fee: c.fee,
                  });
                } else {
                  const have = held.get(c.symbol) ?? ZERO;
                  const proceeds = dec(c.quantity).times(c.price).minus(c.fee);
                  if (dec(c.quantity).gt(have)) expected = 'INSUFFICIENT_QUANTITY';
                  else if (cash.plus(proceeds).isNegative()) expected = 'INSUFFICIENT_CASH';
                  else {
                    cash = cash.plus(proceeds);
                    held.set(c.symbol, have.minus(c.quantity));
                  }
                  call = h.engine.trade(p.id, {
                    symbol: c.symbol,
                    side: 'sell',
                    quantity: c.quantity,
                    price: c.price,
                    fee: c.fee,
                  });
                }
                expect(await codeOf(call)).toBe(expected);
              }
              const portfolio = (await h.store.getPortfolio(p.id)) as Portfolio;
              expect(portfolio.cash).toBe(fmt(cash));
              const positions = await h.store.listPositions(p.id);
              for (const pos of positions) {
                expect(dec(pos.quantity).isNegative()).toBe(false);
                expect(pos.quantity).toBe(fmt(held.get(pos.symbol) ?? ZERO));
              }
              const ledger: TransactionRow[] = await h.store.listTransactions(p.id, { limit: 10_000, order: 'asc' });
              const replay = replayLedger(ledger);
              expect(fmt(replay.cash)).toBe(portfolio.cash);
              expect(fmt(replay.netDeposits)).toBe(portfolio.netDeposits);
              expect(fmt(replay.realizedPnl)).toBe(portfolio.realizedPnl);
              for (const pos of positions) {
                const r = replay.positions.get(pos.symbol);
                expect(fmt(r?.quantity ?? ZERO)).toBe(pos.quantity);
                expect(fmt(r?.costBasis ?? ZERO)).toBe(pos.costBasis);
                expect(fmt(r?.realizedPnl ?? ZERO)).toBe(pos.realizedPnl);
              }
              if (method === 'fifo') {
                const lots = await h.store.listLots(p.id);
                for (const pos of positions) {
                  const mine = lots.filter((l) => l.symbol === pos.symbol);
                  expect(fmt(mine.reduce((s, l) => s.plus(l.quantity), ZERO))).toBe(pos.quantity);
                  expect(fmt(mine.reduce((s, l) => s.plus(l.costBasis), ZERO))).toBe(pos.costBasis);
                }
              }
            },
          ),
          { numRuns },
        );
      });

      it('buying then selling the same quantities at the same price leaves start − fees', async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.tuple(symbol, qty, price, fee, fee), { minLength: 1, maxLength: 8 }),
            async (legs) => {
              const start = dec('100000000');
              const p = await h.engine.createPortfolio({ name: 'roundtrip', initialCash: fmt(start) });
              let fees = ZERO;
              for (const [s, q, px, f1] of legs) {
                await h.engine.trade(p.id, { symbol: s, side: 'buy', quantity: q, price: px, fee: f1 });
                fees = fees.plus(f1);
              }
              for (const [s, q, px, , f2] of legs) {
                await h.engine.trade(p.id, { symbol: s, side: 'sell', quantity: q, price: px, fee: f2 });
                fees = fees.plus(f2);
              }
              expect((await h.store.getPortfolio(p.id))?.cash).toBe(fmt(start.minus(fees)));
              expect(await h.engine.getPositions(p.id)).toEqual([]);
            },
          ),
          { numRuns: Math.max(10, Math.floor(numRuns / 2)) },
        );
      });
    });
  });
}
