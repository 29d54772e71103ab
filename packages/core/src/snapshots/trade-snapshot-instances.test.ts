/**
 * The post-trade snapshot with two engine instances on one store: it values every position the
 * trade's transaction sees, including those bought through the other instance since this one last
 * traded the portfolio (its held-symbol hint is stale then). A position priced nowhere is flagged
 * as the kernel flags it, never left out silently.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SnapshotRow } from '../index.js';
import { createManualClock } from '../testing/clock.js';
import { createTestEngine, type TestEngine } from '../testing/harness.js';
import { createMemoryStore } from '../testing/memory-store.js';
import { createTestProvider } from '../testing/provider.js';

const open: TestEngine[] = [];
afterEach(async () => {
  for (const t of open.splice(0).reverse()) await t.close();
});

/** Two engines on one store, one clock and one provider. */
function twoInstances(prices: Record<string, string>) {
  const store = createMemoryStore();
  const clock = createManualClock('2026-01-05T10:00:00.000Z');
  const provider = createTestProvider({ prices, clock });
  const a = createTestEngine({ store, clock, provider });
  const b = createTestEngine({ store, clock, provider });
  open.push(a, b);
  return { store, clock, provider, a: a.engine, b: b.engine };
}

const last = (rows: SnapshotRow[]): SnapshotRow => rows[rows.length - 1] as SnapshotRow;

describe('post-trade snapshot across engine instances', () => {
  it('values a position bought through the other instance', async () => {
    const { store, a, b } = twoInstances({ X: '50', Y: '20' });
    const p = await a.createPortfolio({ name: 'shared', initialCash: '10000' });
    // B trades first, so it holds a hint of what the portfolio holds: Y.
    await b.trade(p.id, { symbol: 'Y', side: 'buy', quantity: 10 });
    await a.trade(p.id, { symbol: 'X', side: 'buy', quantity: 4 });
    await b.trade(p.id, { symbol: 'Y', side: 'buy', quantity: 10 });
    // 10000 − 200 − 200 − 200 = 9400 cash; X 4 × 50 = 200, Y 20 × 20 = 400.
    expect(last(await store.listSnapshots(p.id, {}))).toMatchObject({
      cash: '9400',
      marketValue: '600',
      totalValue: '10000',
      costBasis: '600',
      flags: [],
    });
  });

  it('flags a position priced nowhere instead of dropping it, and still records the trade', async () => {
    const { store, provider, a, b } = twoInstances({ Y: '20' });
    const p = await a.createPortfolio({ name: 'shared', initialCash: '10000' });
    await b.trade(p.id, { symbol: 'Y', side: 'buy', quantity: 10 });
    // X is unknown to the provider: A records its fill at a given price.
    await a.trade(p.id, { symbol: 'X', side: 'buy', quantity: 4, price: '50' });
    const calls = provider.quoteCalls;
    const t = await b.trade(p.id, { symbol: 'Y', side: 'buy', quantity: 10, price: '20' });
    expect(t.quantity).toBe('10');
    // One look for X's price, then the snapshot is recorded with X flagged.
    expect(provider.quoteCalls - calls).toBeLessThanOrEqual(2);
    expect(last(await store.listSnapshots(p.id, {}))).toMatchObject({
      cash: '9400',
      marketValue: '400',
      flags: ['X:unpriced'],
    });
  });
});
