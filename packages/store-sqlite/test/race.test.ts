/**
 * Races on a SQLite file store through the engine: 200 concurrent calls on one portfolio are
 * serialized by the store (one writer), and a read-modify-write store without that lock oversells.
 * The scenarios are shared with the PostgreSQL race test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPortfolioEngine, type PortfolioEngine, type Store, silentLogger } from '@foliokit/core';
import { createTestProvider } from '@foliokit/core/testing';
import { createSqliteStore, type SqliteStore } from '@foliokit/store-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectNoOverbuy,
  expectNoOversell,
  expectOneSpender,
  expectOneTrade,
  naiveStore,
  OVERSELL,
  overbuyRace,
  oversellRace,
  overspendRace,
  type RaceContext,
  sameKeyRace,
} from '../../store-postgres/test/support/scenarios.js';

const dir = mkdtempSync(join(tmpdir(), 'foliokit-race-'));
let store: SqliteStore;
let ctx: RaceContext;

function engineOn(s: Store): PortfolioEngine {
  const marketData = createTestProvider({ prices: { AAPL: '150.25', MSFT: '19.99', NVDA: '100' } });
  return createPortfolioEngine({ store: s, marketData, logger: silentLogger });
}

beforeAll(async () => {
  store = await createSqliteStore({ filename: join(dir, 'race.db') });
  ctx = { engines: [engineOn(store)], store };
});

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('sqlite file store races', () => {
  it('200 sells of 1 against 10 shares: exactly 10 fill, cash exact', async () => {
    await expectNoOversell(ctx, await oversellRace(ctx));
  });

  it('200 buys with cash for exactly 50: exactly 50 fill', async () => {
    await expectNoOverbuy(ctx, await overbuyRace(ctx));
  });

  it('buys and withdrawals each worth 60 % of the cash: exactly one wins', async () => {
    await expectOneSpender(ctx, await overspendRace(ctx));
  });

  it('20 concurrent trades under one idempotency key: one trade, 20 identical answers', async () => {
    await expectOneTrade(ctx, await sameKeyRace(ctx, { withPrice: true }));
    await expectOneTrade(ctx, await sameKeyRace(ctx, { withPrice: false }));
  });

  it('bites: a read-modify-write store without a lock oversells', async () => {
    const naive = naiveStore(store);
    const naiveCtx: RaceContext = { engines: [engineOn(naive)], store: naive };
    const r = await oversellRace(naiveCtx);
    expect(r.fills).toBeGreaterThan(OVERSELL.held);
    await expect(expectNoOversell(naiveCtx, r)).rejects.toThrow();
  });
});
