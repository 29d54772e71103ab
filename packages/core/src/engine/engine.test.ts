/**
 * The engine's edges, on the memory store: what it refuses at creation, how a third-party store's
 * raw error reaches the user, and what happens after `close()`.
 */
import { describe, expect, it } from 'vitest';
import { createPortfolioEngine, FoliokitError, type MarketDataProvider, type Store } from '../index.js';
import { codeOf, createTestEngine } from '../testing/harness.js';
import { createMemoryStore } from '../testing/memory-store.js';
import { createTestProvider } from '../testing/provider.js';
import { REQUIRED_STORE_METHODS } from './store-runtime.js';

/** A store written by someone else: plain methods over a memory store, with no runtime wrapper of its own. */
function thirdPartyStore(overrides: Partial<Store> = {}): Store {
  const base = createMemoryStore() as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const methods = REQUIRED_STORE_METHODS.map((m) => [m, (...args: unknown[]) => base[m]?.(...args)]);
  return { ...(Object.fromEntries(methods) as unknown as Store), name: 'third-party', ...overrides };
}

describe('createPortfolioEngine', () => {
  it('names every missing store and provider method at once', () => {
    const store = thirdPartyStore();
    const partial = Object.fromEntries(
      Object.entries(store).filter(([k]) => k !== 'getPortfolio' && k !== 'listSnapshots'),
    ) as unknown as Store;
    const marketData = { name: 'half', getQuotes: createTestProvider().getQuotes } as unknown as MarketDataProvider;
    let error: unknown;
    try {
      createPortfolioEngine({ store: partial, marketData });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FoliokitError);
    expect(error).toMatchObject({
      code: 'INVALID_CONFIGURATION',
      details: { missing: ['store.getPortfolio', 'store.listSnapshots', 'marketData.getDailyHistory'] },
    });
  });
});

describe('a third-party store', () => {
  it('that throws a raw error gives the user STORE_ERROR, the original as cause', async () => {
    const disk = new RangeError('disk on fire');
    const t = createTestEngine({
      store: thirdPartyStore({
        listTransactions: async () => {
          throw disk;
        },
      }),
      prices: { AAPL: '10' },
    });
    const p = await t.engine.createPortfolio({ name: 'Raw', initialCash: 100 });
    const error = await t.engine.listTransactions(p.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FoliokitError);
    expect(error).toMatchObject({ code: 'STORE_ERROR', cause: disk });
    // The ledger still runs through it, and the planner's own refusal passes through unchanged.
    expect(await codeOf(t.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1000 }))).toBe(
      'INSUFFICIENT_CASH',
    );
    expect((await t.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1 })).cashAfter).toBe('90');
    await t.close();
  });
});

describe('close', () => {
  it('refuses calls with ENGINE_CLOSED and leaves the store it was given open; a closed store says STORE_CLOSED', async () => {
    const store = createMemoryStore();
    const first = createTestEngine({ store });
    const p = await first.engine.createPortfolio({ name: 'Kept', initialCash: 5 });
    await first.close();
    await first.close();
    expect(await codeOf(first.engine.getPortfolio(p.id))).toBe('ENGINE_CLOSED');
    expect(await codeOf(first.engine.deposit(p.id, { amount: 1 }))).toBe('ENGINE_CLOSED');

    const second = createTestEngine({ store });
    expect((await second.engine.getPortfolio(p.id)).cash).toBe('5');
    await store.close();
    expect(await codeOf(second.engine.getPortfolio(p.id))).toBe('STORE_CLOSED');
    expect(await codeOf(second.engine.deposit(p.id, { amount: 1 }))).toBe('STORE_CLOSED');
    await second.close();
  });
});
