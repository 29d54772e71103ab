/**
 * Issue #9, defect 9 (and 5, 11): inputs only PostgreSQL refused — NUL characters and lone
 * surrogates in stored text, year 0000, impossible instants, forged cursors, non-ASCII symbols —
 * are answered alike by a real PostgreSQL store and a real SQLite store: `VALIDATION_FAILED` naming
 * the same field, and nothing stored. Core validates them, so no store's own error shows through.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFoliokitError, type PortfolioEngine, type Store } from '@foliokit/core';
import { createTestEngine, listAllSnapshots, type TestEngine } from '@foliokit/core/testing';
import { createPostgresStore } from '@foliokit/store-postgres';
import { createSqliteStore } from '@foliokit/store-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, PG_URL, schemaName } from './support/pg.js';

const schema = schemaName('parity');
const dir = mkdtempSync(join(tmpdir(), 'foliokit-parity-'));
const stores: { name: string; store: Store }[] = [];
const engines: TestEngine[] = [];

beforeAll(async () => {
  stores.push({ name: 'postgres', store: await createPostgresStore({ connectionString: PG_URL, schema }) });
  stores.push({ name: 'sqlite', store: await createSqliteStore({ filename: join(dir, 'parity.db') }) });
});

afterAll(async () => {
  for (const e of engines) await e.close();
  for (const { store } of stores) await store.close();
  await dropSchema(schema);
  rmSync(dir, { recursive: true, force: true });
});

/** A base64url cursor as the engine writes one, carrying whatever the test puts in it. */
const cursorOf = (value: Record<string, string>) => Buffer.from(JSON.stringify(value)).toString('base64url');

type Call = (engine: PortfolioEngine, portfolioId: string) => Promise<unknown>;

const buy =
  (fields: { symbol?: string; at?: string; idempotencyKey?: string } = {}): Call =>
  (e, id) =>
    e.trade(id, { symbol: 'AAPL', side: 'buy', quantity: 1, price: 10, ...fields });
const listTx =
  (cursor: string): Call =>
  (e, id) =>
    e.listTransactions(id, { cursor });

/** Each bad input, and the field every store's answer must name. */
const CASES: readonly [label: string, call: Call, field: string][] = [
  ['name with NUL', (e) => e.createPortfolio({ name: 'a\u0000b' }), 'name'],
  ['name with a lone surrogate', (e) => e.createPortfolio({ name: 'a\uD800' }), 'name'],
  ['description with NUL', (e) => e.createPortfolio({ name: 'ok', description: 'x\u0000' }), 'description'],
  ['ownerId with NUL', (e) => e.createPortfolio({ name: 'ok', ownerId: 'u\u0000' }), 'ownerId'],
  ['renamed with NUL', (e, id) => e.updatePortfolio(id, { name: 'x\u0000' }), 'name'],
  ['listed by an ownerId with NUL', (e) => e.listPortfolios({ ownerId: '\u0000' }), 'ownerId'],
  ['idempotency key with NUL', buy({ idempotencyKey: 'k\u0000' }), 'idempotencyKey'],
  [
    'cash key with a lone surrogate',
    (e, id) => e.deposit(id, { amount: 1, idempotencyKey: '\uDC00' }),
    'idempotencyKey',
  ],
  ['portfolio id with NUL', (e) => e.getPortfolio('pf_\u0000'), 'portfolioId'],
  ['deposit to a portfolio id with NUL', (e) => e.deposit('pf_\u0000', { amount: 1 }), 'portfolioId'],
  ['transaction id with NUL', (e, id) => e.voidTransaction(id, 'tx_\u0000'), 'transactionId'],
  ['symbol with NUL', buy({ symbol: 'AA\u0000PL' }), 'symbol'],
  ['symbol ß (never SS)', buy({ symbol: 'ß' }), 'symbol'],
  ['at in year 0000', buy({ at: '0000-06-01T00:00:00Z' }), 'at'],
  ['at in year 0000 UTC through an offset', buy({ at: '0001-01-01T00:30:00+01:00' }), 'at'],
  ['at on February 30', buy({ at: '2025-02-30T00:00:00Z' }), 'at'],
  ['at at T24:00', (e, id) => e.deposit(id, { amount: 1, at: '2025-06-30T24:00:00Z' }), 'at'],
  ['history from year 0000', (e, id) => e.getHistory(id, { from: '0000-12-31', to: '0001-01-01' }), 'from'],
  ['history to June 31', (e, id) => e.getHistory(id, { to: '2025-06-31' }), 'to'],
  ['daily run for day 0000-01-01', (e) => e.runDailySnapshots({ day: '0000-01-01' }), 'day'],
  ['cursor at February 30', listTx(cursorOf({ executedAt: '2025-02-30T00:00:00.000Z', id: 'tx_1' })), 'cursor'],
  ['cursor in year 0000', listTx(cursorOf({ executedAt: '0000-01-01T00:00:00.000Z', id: 'tx_1' })), 'cursor'],
  ['cursor with no time', listTx(cursorOf({ executedAt: 'yesterday', id: 'tx_1' })), 'cursor'],
  ['cursor id with NUL', listTx(cursorOf({ executedAt: '2025-01-01T00:00:00.000Z', id: 'tx_\u0000' })), 'cursor'],
  ['portfolio cursor id with NUL', (e) => e.listPortfolios({ cursor: cursorOf({ id: 'pf_\u0000' }) }), 'cursor'],
];

/** The code and field a call fails with, or `'OK'`. */
async function answer(call: () => Promise<unknown>): Promise<{ code: string; field: unknown } | 'OK'> {
  try {
    await call();
    return 'OK';
  } catch (error) {
    if (isFoliokitError(error)) return { code: error.code, field: error.details.field };
    throw error;
  }
}

/** Everything a store holds that the cases could have touched. */
async function contents(engine: PortfolioEngine, store: Store, id: string) {
  return {
    portfolios: await engine.listPortfolios({ limit: 1000 }),
    ledger: await engine.listTransactions(id, { limit: 500 }),
    snapshots: await listAllSnapshots(store),
  };
}

describe('bad inputs get the same answer from PostgreSQL and SQLite', () => {
  it('VALIDATION_FAILED naming the same field on both, and nothing stored', async () => {
    const answers: Record<string, unknown[]> = {};
    for (const { name, store } of stores) {
      const ctx = createTestEngine({ store, prices: { AAPL: '150' } });
      engines.push(ctx);
      const p = await ctx.engine.createPortfolio({ name: 'Parity', initialCash: 1000 });
      const before = await contents(ctx.engine, store, p.id);
      const got: unknown[] = [];
      for (const [label, call] of CASES) got.push([label, await answer(() => call(ctx.engine, p.id))]);
      answers[name] = got;
      expect(await contents(ctx.engine, store, p.id), name).toEqual(before);
    }
    const expected = CASES.map(([label, , field]) => [label, { code: 'VALIDATION_FAILED', field }]);
    expect(answers).toEqual({ postgres: expected, sqlite: expected });
  });

  it('a NUL-free edge of each input still works on both (index symbols, year 0001, paging)', async () => {
    for (const { name, store } of stores) {
      const ctx = createTestEngine({ store, prices: { AAPL: '150' } });
      engines.push(ctx);
      const p = await ctx.engine.createPortfolio({ name: 'Edges 🙂', ownerId: 'owner-é', initialCash: 1000 });
      const t = await ctx.engine.trade(p.id, { symbol: '^gspc', side: 'buy', quantity: 1, price: 10 });
      expect([name, t.symbol]).toEqual([name, '^GSPC']);
      const first = await ctx.engine.listTransactions(p.id, { limit: 1 });
      const next = await ctx.engine.listTransactions(p.id, { limit: 1, cursor: first.nextCursor as string });
      expect([name, next.items.map((x) => x.kind)]).toEqual([name, ['deposit']]);
      expect((await ctx.engine.getPortfolio(p.id)).name).toBe('Edges 🙂');
    }
  });
});
