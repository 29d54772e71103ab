/**
 * Issue #9, defects 5, 9 and 11, through the engine on the memory store: impossible instants,
 * text a SQL store cannot hold (NUL, lone surrogates), year 0000, forged cursors and symbol forms
 * are answered `VALIDATION_FAILED` naming the field, and nothing is stored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isFoliokitError, type PortfolioEngine } from './index.js';
import { createTestEngine, listAllSnapshots, type TestEngine } from './testing/harness.js';
import { encodeCursor } from './validation.js';

const open: TestEngine[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

/** An engine with one funded portfolio and a price for AAPL. */
async function setup(): Promise<TestEngine & { id: string }> {
  const ctx = createTestEngine({ prices: { AAPL: '150' } });
  open.push(ctx);
  const p = await ctx.engine.createPortfolio({ name: 'Main', initialCash: 1000 });
  return { ...ctx, id: p.id };
}

/** The code and field a call fails with, or `'OK'`. */
async function failure(call: () => Promise<unknown>): Promise<{ code: string; field?: unknown } | 'OK'> {
  try {
    await call();
    return 'OK';
  } catch (error) {
    if (isFoliokitError(error)) return { code: error.code, field: error.details.field };
    throw error;
  }
}

type Case = [label: string, call: (engine: PortfolioEngine, id: string) => Promise<unknown>, field: string];

/** Every call must fail VALIDATION_FAILED naming `field`, and leave the store as it was. */
async function expectRefused(cases: readonly Case[]): Promise<void> {
  const { engine, store, id } = await setup();
  const before = {
    portfolios: await engine.listPortfolios(),
    ledger: await engine.listTransactions(id),
    snapshots: await listAllSnapshots(store),
  };
  const got = [];
  for (const [label, call] of cases) got.push([label, await failure(() => call(engine, id))]);
  expect(got).toEqual(cases.map(([label, , field]) => [label, { code: 'VALIDATION_FAILED', field }]));
  expect(await engine.listPortfolios()).toEqual(before.portfolios);
  expect(await engine.listTransactions(id)).toEqual(before.ledger);
  expect(await listAllSnapshots(store)).toEqual(before.snapshots);
}

const buyAt = (at: string | Date) => (e: PortfolioEngine, id: string) =>
  e.trade(id, { symbol: 'AAPL', side: 'buy', quantity: 1, price: 100, at });
const depositAt = (at: string) => (e: PortfolioEngine, id: string) => e.deposit(id, { amount: 5, at });
const cursorOf = (value: Record<string, string>) => encodeCursor(value);

describe('defect 5: impossible instants are refused, not rolled over', () => {
  it('in a trade or a cash movement `at`, and in getHistory bounds', async () => {
    await expectRefused([
      ['Feb 30', buyAt('2025-02-30T00:00:00Z'), 'at'],
      ['Jun 31', depositAt('2025-06-31T12:00:00Z'), 'at'],
      ['Jun 31 as a day', depositAt('2025-06-31'), 'at'],
      ['T24:00', (e, id) => e.withdraw(id, { amount: 5, at: '2025-06-30T24:00:00Z' }), 'at'],
      ['T24:00:00.000', buyAt('2025-06-30T24:00:00.000Z'), 'at'],
      ['minute 60', buyAt('2025-06-30T12:60:00Z'), 'at'],
      ['second 60', buyAt('2025-06-30T12:00:60Z'), 'at'],
      ['offset +24:00', buyAt('2025-06-30T12:00:00+24:00'), 'at'],
      ['offset minute 60', buyAt('2025-06-30T12:00:00+01:60'), 'at'],
      ['Feb 29 of a common year', buyAt('2023-02-29T10:00:00Z'), 'at'],
      ['history from Feb 30', (e, id) => e.getHistory(id, { from: '2025-02-30' }), 'from'],
      ['history to Jun 31', (e, id) => e.getHistory(id, { to: '2025-06-31T00:00:00Z' }), 'to'],
      ['history to Jun 31 as a day', (e, id) => e.getHistory(id, { to: '2025-06-31' }), 'to'],
    ]);
  });

  it('still accepts real edge instants', async () => {
    const { engine, id } = await setup();
    const leap = await engine.deposit(id, { amount: 1, at: '2024-02-29T23:59:59.999Z' });
    expect(leap.executedAt).toBe('2024-02-29T23:59:59.999Z');
    const zoned = await engine.deposit(id, { amount: 1, at: '2025-01-01T00:30:00+01:00' });
    expect(zoned.executedAt).toBe('2024-12-31T23:30:00.000Z');
    const h = await engine.getHistory(id, { from: '2025-12-31', to: '2026-01-01' });
    expect([h.from, h.to]).toEqual(['2025-12-31T00:00:00.000Z', '2026-01-01T23:59:59.999Z']);
  });
});

describe('defect 9: inputs only PostgreSQL refused are refused by core, naming the field', () => {
  it('NUL characters and lone UTF-16 surrogates in every stored string', async () => {
    await expectRefused([
      ['name NUL', (e) => e.createPortfolio({ name: 'a\u0000b' }), 'name'],
      ['name lone high surrogate', (e) => e.createPortfolio({ name: 'a\uD800b' }), 'name'],
      ['name lone low surrogate', (e) => e.createPortfolio({ name: '\uDC00' }), 'name'],
      ['description NUL', (e) => e.createPortfolio({ name: 'ok', description: '\u0000' }), 'description'],
      ['ownerId NUL', (e) => e.createPortfolio({ name: 'ok', ownerId: 'u\u0000' }), 'ownerId'],
      ['ownerId surrogate', (e) => e.createPortfolio({ name: 'ok', ownerId: 'u\uD83D' }), 'ownerId'],
      ['update name NUL', (e, id) => e.updatePortfolio(id, { name: 'x\u0000' }), 'name'],
      ['update description NUL', (e, id) => e.updatePortfolio(id, { description: 'x\u0000' }), 'description'],
      ['list ownerId NUL', (e) => e.listPortfolios({ ownerId: '\u0000' }), 'ownerId'],
      [
        'trade key NUL',
        (e, id) => e.trade(id, { symbol: 'AAPL', side: 'buy', quantity: 1, price: 1, idempotencyKey: 'k\u0000' }),
        'idempotencyKey',
      ],
      ['deposit key NUL', (e, id) => e.deposit(id, { amount: 1, idempotencyKey: '\u0000' }), 'idempotencyKey'],
      ['deposit key surrogate', (e, id) => e.deposit(id, { amount: 1, idempotencyKey: 'k\uDFFF' }), 'idempotencyKey'],
      ['portfolio id NUL', (e) => e.getPortfolio('pf_\u0000'), 'portfolioId'],
      ['portfolio id NUL on deposit', (e) => e.deposit('pf_\u0000', { amount: 1 }), 'portfolioId'],
      ['portfolio id surrogate', (e) => e.listTransactions('pf_\uD800'), 'portfolioId'],
      ['portfolio id NUL on delete', (e) => e.deletePortfolio('\u0000'), 'portfolioId'],
      ['transaction id NUL', (e, id) => e.voidTransaction(id, 'tx_\u0000'), 'transactionId'],
      ['void key NUL', (e, id) => e.voidTransaction(id, 'tx_1', { idempotencyKey: '\u0000' }), 'idempotencyKey'],
      ['symbol NUL', (e, id) => e.trade(id, { symbol: 'AA\u0000PL', side: 'buy', quantity: 1, price: 1 }), 'symbol'],
      ['watch symbol NUL', (e, id) => e.addToWatchlist(id, 'X\u0000'), 'symbol'],
    ]);
  });

  it('year 0000 in instants and days', async () => {
    await expectRefused([
      ['at year 0', buyAt('0000-06-01T00:00:00Z'), 'at'],
      ['at year 0 as a day', depositAt('0000-06-01'), 'at'],
      ['at year 1 with an offset, year 0 in UTC', buyAt('0001-01-01T00:30:00+01:00'), 'at'],
      ['at a Date in year 0', buyAt(new Date('0000-06-01T00:00:00Z')), 'at'],
      ['history from year 0', (e, id) => e.getHistory(id, { from: '0000-12-31', to: '0001-01-01' }), 'from'],
      ['daily day year 0', (e) => e.runDailySnapshots({ day: '0000-01-01' }), 'day'],
      ['backfill from year 0', (e, id) => e.backfill(id, { from: '0000-01-01', to: '0000-01-02' }), 'from'],
    ]);
  });

  it('list cursors carrying a forged timestamp or id', async () => {
    const list = (cursor: string) => (e: PortfolioEngine, id: string) => e.listTransactions(id, { cursor });
    await expectRefused([
      ['Feb 30', list(cursorOf({ executedAt: '2025-02-30T00:00:00.000Z', id: 'tx_1' })), 'cursor'],
      ['year 0', list(cursorOf({ executedAt: '0000-01-01T00:00:00.000Z', id: 'tx_1' })), 'cursor'],
      ['not a time', list(cursorOf({ executedAt: 'yesterday', id: 'tx_1' })), 'cursor'],
      ['not as the API writes it', list(cursorOf({ executedAt: '2025-01-01T00:00:00+01:00', id: 'tx_1' })), 'cursor'],
      ['year 10000', list(cursorOf({ executedAt: '+010000-01-01T00:00:00.000Z', id: 'tx_1' })), 'cursor'],
      ['NUL id', list(cursorOf({ executedAt: '2025-01-01T00:00:00.000Z', id: 'tx\u0000' })), 'cursor'],
      ['portfolio cursor NUL id', (e) => e.listPortfolios({ cursor: cursorOf({ id: 'pf\u0000' }) }), 'cursor'],
    ]);
  });

  it('a cursor the API returned still pages', async () => {
    const { engine, id } = await setup();
    await engine.deposit(id, { amount: 1 });
    const first = await engine.listTransactions(id, { limit: 1 });
    expect(first.nextCursor).not.toBeNull();
    const second = await engine.listTransactions(id, { limit: 1, cursor: first.nextCursor as string });
    expect(second.items).toHaveLength(1);
  });
});

describe('defect 11: symbol forms', () => {
  it('an index symbol with one leading ^ trades and is watched', async () => {
    const { engine, id } = await setup();
    const t = await engine.trade(id, { symbol: '^gspc', side: 'buy', quantity: 1, price: 900 });
    expect(t.symbol).toBe('^GSPC');
    expect((await engine.addToWatchlist(id, '^DJI')).map((w) => w.symbol)).toEqual(['^DJI']);
  });

  it('non-ASCII is refused before any change of case (ß never becomes SS)', async () => {
    await expectRefused([
      ['ß', (e, id) => e.trade(id, { symbol: 'ß', side: 'buy', quantity: 1, price: 1 }), 'symbol'],
      ['straße', (e, id) => e.trade(id, { symbol: 'straße', side: 'buy', quantity: 1, price: 1 }), 'symbol'],
      ['ﬁ ligature', (e, id) => e.addToWatchlist(id, 'ﬁx'), 'symbol'],
      ['two carets', (e, id) => e.addToWatchlist(id, '^^GSPC'), 'symbol'],
    ]);
  });
});
