/**
 * The memory store passes the whole store conformance suite and the race suite, and keeps what the
 * suites cannot see from outside: copies out, canonical decimals, whole-or-nothing batches, the
 * store runtime's errors.
 */
import { describe, expect, it } from 'vitest';
import { FoliokitError } from '../errors.js';
import type { SnapshotRow, TransactionRow } from '../ports/index.js';
import { codeOf, createMemoryStore, runStoreConformance, runStoreRaceConformance } from './index.js';

runStoreConformance({ name: 'memory', createStore: async () => createMemoryStore(), numRuns: 300 });

runStoreRaceConformance({ name: 'memory', createStore: async () => createMemoryStore() });

const NOW = '2026-03-02T15:00:00.000Z';

async function withPortfolio(cash = '100') {
  const store = createMemoryStore();
  await store.createPortfolio({
    id: 'pf_1',
    ownerId: null,
    name: 'One',
    description: null,
    baseCurrency: 'USD',
    costBasisMethod: 'average',
    cash,
    netDeposits: cash,
    realizedPnl: '0',
    ledgerAt: null,
    createdAt: NOW,
    updatedAt: NOW,
  });
  return store;
}

const snapshot = (over: Partial<SnapshotRow> = {}): SnapshotRow => ({
  portfolioId: 'pf_1',
  at: NOW,
  day: '2026-03-02',
  kind: 'daily',
  cash: '1.50',
  marketValue: '0',
  totalValue: '1.5',
  costBasis: '0',
  unrealizedPnl: '0',
  realizedPnl: '0',
  netDeposits: '1.5',
  flags: [],
  ...over,
});

const deposit = (id: string, over: Partial<TransactionRow> = {}): TransactionRow => ({
  id,
  portfolioId: 'pf_1',
  kind: 'deposit',
  symbol: null,
  quantity: null,
  price: null,
  fee: '0',
  amount: '1',
  realizedPnl: null,
  cashAfter: '101',
  quantityAfter: null,
  idempotencyKey: null,
  requestHash: null,
  executedAt: NOW,
  createdAt: NOW,
  voidedAt: null,
  voidKey: null,
  ...over,
});

describe('memory store', () => {
  it('returns copies: changing what it returned changes nothing it keeps', async () => {
    const store = await withPortfolio();
    const p = await store.getPortfolio('pf_1');
    if (p) p.cash = '999';
    await store.insertSnapshots([snapshot({ flags: ['X:stale'] })]);
    const [s] = await store.listSnapshots('pf_1', {});
    s?.flags.push('mutated');
    expect((await store.getPortfolio('pf_1'))?.cash).toBe('100');
    expect((await store.listSnapshots('pf_1', {}))[0]?.flags).toEqual(['X:stale']);
  });

  it('prints decimals and instants as the SQL stores return them', async () => {
    const store = await withPortfolio('100.500');
    await store.insertSnapshots([snapshot({ at: '2026-03-02T16:00:00+01:00' })]);
    expect((await store.getPortfolio('pf_1'))?.cash).toBe('100.5');
    expect((await store.listSnapshots('pf_1', {}))[0]).toMatchObject({ cash: '1.5', at: NOW });
  });

  it('writes a batch of snapshots whole or not at all', async () => {
    const store = await withPortfolio();
    await store.insertSnapshots([snapshot()]);
    const batch = [snapshot({ kind: 'trade' }), snapshot({ day: '2026-03-01' }), snapshot()];
    expect(await codeOf(store.insertSnapshots(batch))).toBe('STORE_ERROR');
    expect(await codeOf(store.insertSnapshots([snapshot({ portfolioId: 'pf_none' })]))).toBe('STORE_ERROR');
    expect(await store.listSnapshots('pf_1', {})).toHaveLength(1);
  });

  it('serialises ledger changes per portfolio: each planner sees the one before it', async () => {
    const store = await withPortfolio('0');
    const seen: string[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.applyLedgerChange({ portfolioId: 'pf_1' }, (state) => {
          seen.push(state.portfolio.cash);
          const cash = String(Number(state.portfolio.cash) + 1);
          return {
            portfolioId: 'pf_1',
            portfolio: { cash, netDeposits: cash, realizedPnl: '0', ledgerAt: null, updatedAt: NOW },
            transaction: deposit(`tx_${i}`, { cashAfter: cash }),
          };
        }),
      ),
    );
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect(
      await codeOf(
        store.applyLedgerChange({ portfolioId: 'pf_1' }, () => ({
          portfolioId: 'pf_1',
          portfolio: { cash: '1', netDeposits: '1', realizedPnl: '0', ledgerAt: null, updatedAt: NOW },
          transaction: deposit('tx_0'),
        })),
      ),
    ).toBe('STORE_ERROR');
    expect((await store.getPortfolio('pf_1'))?.cash).toBe('20');
  });

  it('reports a broken constraint as STORE_ERROR with the cause, and refuses calls after close', async () => {
    const store = await withPortfolio();
    const error = await store.addWatch('pf_none', 'AAPL', NOW).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FoliokitError);
    expect(error).toMatchObject({ code: 'STORE_ERROR' });
    expect((error as FoliokitError).cause).toBeInstanceOf(Error);
    await store.close();
    expect(await codeOf(store.getPortfolio('pf_1'))).toBe('STORE_CLOSED');
    expect(await codeOf(store.runExclusive('k', async () => 1))).toBe('STORE_CLOSED');
  });
});

describe('codeOf', () => {
  it('reads the code, says OK on success, and fails loudly on an error that is not foliokit’s', async () => {
    expect(await codeOf(Promise.reject(new FoliokitError('CONFLICT', 'x')))).toBe('CONFLICT');
    expect(await codeOf(Promise.resolve(1))).toBe('OK');
    await expect(codeOf(Promise.reject(new TypeError('bug')))).rejects.toThrow(
      /expected a FoliokitError.*TypeError: bug/,
    );
  });
});
