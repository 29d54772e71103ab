/**
 * Two stores on one SQLite file in one process (two engines in one app, a test beside an app).
 * Their writes must take turns inside the process (asynchronously) instead of meeting in SQLite's
 * busy handler: the native trade is synchronous, so waiting there for a lock that this process's
 * other store holds across an `await` would block the event loop until the busy timeout, then fail
 * with "database is locked".
 */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createPortfolioEngine, isFoliokitError, type PortfolioEngine, silentLogger } from '@foliokit/core';
import { createTestProvider, expectStateMatchesLedger } from '@foliokit/core/testing';
import { describe, expect, it } from 'vitest';
import { createSqliteStore, type SqliteStore } from '../src/index.js';
import { tempDir } from './helpers.js';

const dir = tempDir('foliokit-same-file-');
/** Trades through the two engines together: half buys, half sells, interleaved. */
const TRADES = 200;

interface Pair {
  stores: SqliteStore[];
  engines: PortfolioEngine[];
}

async function openPair(filename: string, busyTimeoutMs: number): Promise<Pair> {
  // Created together, as two parts of one app starting up would.
  const stores = await Promise.all([0, 1].map(() => createSqliteStore({ filename, busyTimeoutMs })));
  const engines = stores.map((store) =>
    createPortfolioEngine({
      store,
      marketData: createTestProvider({ prices: { AAPL: '12.34' } }),
      logger: silentLogger,
      snapshots: { onTrade: true },
    }),
  );
  return { stores, engines };
}

/**
 * Fires TRADES trades at once, alternating engines: buys of 1 at the market (12.34, written to the
 * price book in an asynchronous transaction) and sells of 1 at 13.5, with watchlist writes (also
 * asynchronous transactions) among them. Returns the error codes of the calls that failed.
 */
async function tradeTogether(engines: PortfolioEngine[], portfolioId: string): Promise<string[]> {
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < TRADES; i++) {
    const engine = engines[i % 2] as PortfolioEngine;
    const buy = i % 4 < 2;
    calls.push(
      buy
        ? engine.trade(portfolioId, { symbol: 'AAPL', side: 'buy', quantity: 1 })
        : engine.trade(portfolioId, { symbol: 'AAPL', side: 'sell', quantity: 1, price: '13.5' }),
    );
    if (i % 10 === 0) {
      calls.push(
        engine.addToWatchlist(portfolioId, `W${i}`).then(() => engine.removeFromWatchlist(portfolioId, `W${i}`)),
      );
    }
  }
  const settled = await Promise.allSettled(calls);
  return settled.flatMap((s) =>
    s.status === 'fulfilled'
      ? []
      : [isFoliokitError(s.reason) ? `${s.reason.code}: ${s.reason.message}` : String(s.reason)],
  );
}

async function expectExactEnd(pair: Pair, portfolioId: string): Promise<void> {
  const [a, b] = pair.engines as [PortfolioEngine, PortfolioEngine];
  // 100000 - 200 × 10 (opening buy) - 100 × 12.34 + 100 × 13.5
  for (const engine of [a, b]) {
    expect((await engine.getPortfolio(portfolioId)).cash).toBe('98116');
    expect((await engine.getPositions(portfolioId)).map((p) => [p.symbol, p.quantity])).toEqual([['AAPL', '200']]);
  }
  const buys = await a.listTransactions(portfolioId, { kinds: ['buy'], limit: 500 });
  const sells = await b.listTransactions(portfolioId, { kinds: ['sell'], limit: 500 });
  expect([buys.items.length, sells.items.length]).toEqual([TRADES / 2 + 1, TRADES / 2]);
  await expectStateMatchesLedger(pair.stores[0] as SqliteStore, portfolioId);
  expect((pair.stores[1] as SqliteStore).database.pragma('integrity_check', { simple: true })).toBe('ok');
}

async function setUp(pair: Pair): Promise<string> {
  const [a] = pair.engines as [PortfolioEngine];
  const p = await a.createPortfolio({ name: 'shared file', initialCash: '100000' });
  await a.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 200, price: '10' });
  return p.id;
}

describe('two stores on one file in one process', () => {
  it('never meet in the busy handler: with no busy timeout at all, every trade of both still settles', async () => {
    // busy_timeout 0 turns any wait on a lock held by this process into an immediate
    // "database is locked": the stores must take turns before reaching SQLite.
    const pair = await openPair(join(dir, 'no-wait.db'), 0);
    try {
      const id = await setUp(pair);
      expect(await tradeTogether(pair.engines, id)).toEqual([]);
      await expectExactEnd(pair, id);
    } finally {
      await Promise.all(pair.stores.map((s) => s.close()));
    }
  });

  it('with the default busy timeout, trades settle exactly', async () => {
    // No timing asserted (a busy machine is slow, not wrong): the test above, with no busy timeout
    // at all, is what proves that no store of this process ever waits in SQLite's busy handler.
    const pair = await openPair(join(dir, 'default.db'), 5000);
    try {
      const id = await setUp(pair);
      expect(await tradeTogether(pair.engines, id)).toEqual([]);
      await expectExactEnd(pair, id);
    } finally {
      await Promise.all(pair.stores.map((s) => s.close()));
    }
  }, 60_000);

  it('a store closed on the file leaves the other working, and one opened through a link joins it', async () => {
    const filename = join(dir, 'close.db');
    const pair = await openPair(filename, 0);
    // Another name for the same file: the stores still take turns on one lock.
    const link = join(dir, 'close-link.db');
    symlinkSync(filename, link);
    const third = await createSqliteStore({ filename: link, busyTimeoutMs: 0 });
    try {
      const id = await setUp(pair);
      await (pair.stores[0] as SqliteStore).close();
      pair.stores[0] = third;
      pair.engines[0] = createPortfolioEngine({
        store: third,
        marketData: createTestProvider({ prices: { AAPL: '12.34' } }),
        logger: silentLogger,
      });
      expect(await tradeTogether(pair.engines, id)).toEqual([]);
      await expectExactEnd(pair, id);
    } finally {
      await Promise.all([...pair.stores, third].map((s) => s.close()));
    }
  });
});
