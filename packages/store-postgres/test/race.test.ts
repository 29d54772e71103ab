/**
 * Races on PostgreSQL through the engine: 200 concurrent calls on one portfolio, on one engine and
 * spread over two engines with two pools on one schema (two app servers), and proof that the tests
 * bite: a read-modify-write store without a lock oversells.
 */
import { createPortfolioEngine, type PortfolioEngine, type Store, silentLogger } from '@foliokit/core';
import { createTestProvider } from '@foliokit/core/testing';
import { createPostgresStore, type PostgresStore } from '@foliokit/store-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, PG_URL, schemaName } from './support/pg.js';
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
} from './support/scenarios.js';

const schema = schemaName('race');
const stores: PostgresStore[] = [];

function engineOn(store: Store): PortfolioEngine {
  const marketData = createTestProvider({ prices: { AAPL: '150.25', MSFT: '19.99', NVDA: '100' } });
  return createPortfolioEngine({ store, marketData, logger: silentLogger });
}

let one: RaceContext;
let two: RaceContext;

beforeAll(async () => {
  // Two stores, two pools, one schema: two app servers on one database.
  const a = await createPostgresStore({ connectionString: PG_URL, schema });
  const b = await createPostgresStore({ connectionString: PG_URL, schema });
  stores.push(a, b);
  one = { engines: [engineOn(a)], store: a };
  two = { engines: [engineOn(a), engineOn(b)], store: b };
});

afterAll(async () => {
  for (const s of stores) await s.close();
  await dropSchema(schema);
});

describe.each([
  ['one engine', () => one],
  ['two engines, two pools', () => two],
] as const)('postgres races: %s', (_label, ctx) => {
  it('200 sells of 1 against 10 shares: exactly 10 fill, cash exact', async () => {
    await expectNoOversell(ctx(), await oversellRace(ctx()));
  });

  it('200 buys with cash for exactly 50: exactly 50 fill', async () => {
    await expectNoOverbuy(ctx(), await overbuyRace(ctx()));
  });

  it('buys and withdrawals each worth 60 % of the cash: exactly one wins', async () => {
    await expectOneSpender(ctx(), await overspendRace(ctx()));
  });

  it('20 concurrent trades under one idempotency key: one trade, 20 identical answers', async () => {
    await expectOneTrade(ctx(), await sameKeyRace(ctx(), { withPrice: true }));
    await expectOneTrade(ctx(), await sameKeyRace(ctx(), { withPrice: false }));
  });
});

describe('the race test bites', () => {
  it('a read-modify-write store without a lock oversells', async () => {
    const naive = naiveStore(stores[0] as Store);
    const ctx: RaceContext = { engines: [engineOn(naive)], store: naive };
    const r = await oversellRace(ctx);
    expect(r.fills).toBeGreaterThan(OVERSELL.held);
    await expect(expectNoOversell(ctx, r)).rejects.toThrow();
  });
});
