/**
 * The price book across a restart on a SQLite file: the last known price outlives the process.
 * The price book's behaviour itself is tested in core, on the memory store.
 */
import { join } from 'node:path';
import { createTestEngine, createTestProvider, type TestEngine } from '@foliokit/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../src/index.js';
import { tempDir } from './helpers.js';

const dir = tempDir();
const open: TestEngine[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) {
    await t.close();
    await t.store.close();
  }
});

async function setup(provider: ReturnType<typeof createTestProvider>, filename: string): Promise<TestEngine> {
  const store = await createSqliteStore({ filename });
  const t = createTestEngine({ store, start: '2026-05-04T14:00:00.000Z', marketData: provider });
  open.push(t);
  return t;
}

describe('price book on a SQLite file', () => {
  it('tracks provider health and falls back to the last known price after a restart', async () => {
    const filename = join(dir, 'book.db');
    const provider = createTestProvider({ prices: { AAPL: '100' } });
    const first = await setup(provider, filename);
    const p = await first.engine.createPortfolio({ name: 'h', initialCash: 1000 });
    await first.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 2 });
    expect(first.engine.getProviderStatus()).toMatchObject({ name: 'test', healthy: true, errors: 0 });
    await first.close();
    await first.store.close();
    open.length = 0;

    // A new process on the same file, with the provider down.
    provider.failing = true;
    const second = await setup(provider, filename);
    const v = await second.engine.getValuation(p.id);
    expect(v.positions[0]).toMatchObject({ price: '100', stale: true });
    expect(v.stale).toEqual(['AAPL']);
    const status = second.engine.getProviderStatus();
    expect(status).toMatchObject({ healthy: false, errors: 1, consecutiveErrors: 1 });
    expect(status.lastError?.code).toBe('PROVIDER_UNAVAILABLE');
    provider.failing = false;
    await second.engine.refreshPrices();
    expect(second.engine.getProviderStatus()).toMatchObject({ healthy: true, consecutiveErrors: 0, errors: 1 });
  });
});
