/**
 * Two engine instances on one SQLite file, through one shared store or a store each: the
 * post-trade snapshot of one instance values the positions bought through the other (its own
 * guess of what the portfolio holds is stale then), so the value curve shows no false drop.
 */
import { join } from 'node:path';
import { createManualClock, createTestEngine, createTestProvider, type TestEngine } from '@foliokit/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore, type SqliteStore } from '../src/index.js';
import { tempDir } from './helpers.js';

const dir = tempDir('foliokit-two-instances-');
let n = 0;

const engines: TestEngine[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const t of engines.splice(0).reverse()) await t.close();
  for (const s of stores.splice(0).reverse()) await s.close();
});

/** Two engines on one file: sharing one store, or with a store each. */
async function twoEngines(shared: boolean): Promise<{ a: TestEngine; b: TestEngine; file: SqliteStore }> {
  const filename = join(dir, `two-${++n}.db`);
  const first = await createSqliteStore({ filename });
  stores.push(first);
  const second = shared ? first : await createSqliteStore({ filename });
  if (!shared) stores.push(second);
  const clock = createManualClock('2026-01-05T10:00:00.000Z');
  const provider = createTestProvider({ prices: { X: '50', Y: '20' }, clock });
  const a = createTestEngine({ store: first, clock, provider });
  const b = createTestEngine({ store: second, clock, provider });
  engines.push(a, b);
  return { a, b, file: first };
}

describe.each([
  ['one shared store', true],
  ['a store each', false],
])('two engines on one SQLite file (%s)', (_name, shared) => {
  it("B's post-trade snapshot includes what A bought", async () => {
    const { a, b, file } = await twoEngines(shared);
    const p = await a.engine.createPortfolio({ name: 'shared', initialCash: '10000' });
    // B trades the portfolio first, then A buys X, which B has never traded.
    await b.engine.trade(p.id, { symbol: 'Y', side: 'buy', quantity: 10 });
    await a.engine.trade(p.id, { symbol: 'X', side: 'buy', quantity: 4 });
    await b.engine.trade(p.id, { symbol: 'Y', side: 'buy', quantity: 10 });
    const rows = file.database
      .prepare(
        "select cash, market_value, total_value, flags from snapshots where portfolio_id = ? and kind = 'trade' order by id",
      )
      .all(p.id) as Array<Record<string, unknown>>;
    // Every trade snapshot is worth the 10,000 deposited (all fills at the market price): no drop.
    expect(rows.map((r) => r.total_value)).toEqual(['10000', '10000', '10000']);
    expect(rows[2]).toEqual({ cash: '9400', market_value: '600', total_value: '10000', flags: '[]' });
  });
});
