/**
 * A failure injected at the N-th database call of each write path, for every N: the call fails with
 * a typed error, the database is byte-for-byte what it was (every table compared), and the same
 * call then succeeds. RELIABILITY.md, "Crash safety".
 */
import {
  createPortfolioEngine,
  FoliokitError,
  isFoliokitError,
  type PortfolioEngine,
  silentLogger,
} from '@foliokit/core';
import { createManualClock, createTestProvider } from '@foliokit/core/testing';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSqliteStore, type SqliteStore } from '../src/index.js';

/**
 * Every table a write path may change. `symbols` (the price book) is left out: a market order
 * records the quote it asked for before its transaction begins, and a quote the provider gave is
 * true whether or not the trade then commits.
 */
const TABLES = [
  'portfolios',
  'positions',
  'lots',
  'transactions',
  'snapshots',
  'price_history',
  'watchlist',
  'job_runs',
];

/** A better-sqlite3 database whose statement executions can be made to fail at the N-th call. */
function faultyDatabase() {
  const real = new Database(':memory:');
  const counter = { calls: 0, failAt: 0 };
  const count = (sql: string) => {
    counter.calls++;
    if (counter.failAt > 0 && counter.calls === counter.failAt) {
      if (process.env.FAULT_DEBUG) console.log('fault in:', sql.slice(0, 120));
      throw new Error(`injected fault at call ${counter.calls}`);
    }
  };
  const wrap = (stmt: Database.Statement, sql: string): Database.Statement => {
    const proxy: Database.Statement = new Proxy(stmt, {
      get(target, key) {
        if (key === 'run' || key === 'get' || key === 'all' || key === 'iterate') {
          const fn = Reflect.get(target, key) as (...a: unknown[]) => unknown;
          return (...args: unknown[]) => {
            count(sql);
            return fn.apply(target, args);
          };
        }
        if (key === 'raw' || key === 'pluck' || key === 'expand' || key === 'safeIntegers') {
          const fn = Reflect.get(target, key) as (...a: unknown[]) => unknown;
          return (...args: unknown[]) => {
            fn.apply(target, args);
            return proxy;
          };
        }
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    return proxy;
  };
  const database = new Proxy(real, {
    get(target, key) {
      if (key === 'prepare') return (sql: string) => wrap(target.prepare(sql), sql);
      const value = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  /** Every row of every table, read past the proxy. */
  const dump = () =>
    Object.fromEntries(TABLES.map((t) => [t, real.prepare(`select * from "${t}" order by rowid`).all()]));
  return { database, counter, dump };
}

interface World {
  store: SqliteStore;
  engine: PortfolioEngine;
  ids: { avg: string; fifo: string };
  counter: { calls: number; failAt: number };
  dump: () => Record<string, unknown[]>;
}

/** The same starting state every time: two portfolios with cash, positions, lots and a watchlist. */
async function world(): Promise<World> {
  const { database, counter, dump } = faultyDatabase();
  const store = await createSqliteStore({ database: database as never });
  const clock = createManualClock('2026-04-01T15:00:00.000Z');
  const engine = createPortfolioEngine({
    store,
    marketData: createTestProvider({ prices: { AAPL: '100', MSFT: '200' }, clock }),
    clock,
    logger: silentLogger,
  });
  const avg = await engine.createPortfolio({ name: 'avg', initialCash: 10_000 });
  const fifo = await engine.createPortfolio({ name: 'fifo', initialCash: 10_000, costBasisMethod: 'fifo' });
  await engine.trade(avg.id, { symbol: 'AAPL', side: 'buy', quantity: 10 });
  await engine.trade(fifo.id, { symbol: 'MSFT', side: 'buy', quantity: 5, price: '190' });
  await engine.trade(fifo.id, { symbol: 'MSFT', side: 'buy', quantity: 5, price: '210' });
  await engine.addToWatchlist(avg.id, 'MSFT');
  // The next day: the daily job values 2026-04-01, and every market order asks for a fresh price.
  await clock.advanceTo('2026-04-02T00:30:00.000Z');
  return { store, engine, ids: { avg: avg.id, fifo: fifo.id }, counter, dump };
}

const WRITE_PATHS: Record<string, (w: World) => Promise<unknown>> = {
  createPortfolio: (w) => w.engine.createPortfolio({ name: 'new', initialCash: 500 }),
  deposit: (w) => w.engine.deposit(w.ids.avg, { amount: '12.5', idempotencyKey: 'd1' }),
  withdraw: (w) => w.engine.withdraw(w.ids.avg, { amount: 1 }),
  'buy (market price, snapshot)': (w) => w.engine.trade(w.ids.avg, { symbol: 'MSFT', side: 'buy', quantity: 2 }),
  'sell (average cost)': (w) => w.engine.trade(w.ids.avg, { symbol: 'AAPL', side: 'sell', quantity: 3, fee: 1 }),
  'sell (FIFO, across lots)': (w) => w.engine.trade(w.ids.fifo, { symbol: 'MSFT', side: 'sell', quantity: 7 }),
  updatePortfolio: (w) => w.engine.updatePortfolio(w.ids.avg, { name: 'renamed' }),
  deletePortfolio: (w) => w.engine.deletePortfolio(w.ids.fifo),
  addToWatchlist: (w) => w.engine.addToWatchlist(w.ids.avg, 'NVDA'),
  recordSnapshot: (w) => w.engine.recordSnapshot(w.ids.avg),
  runDailySnapshots: (w) => w.engine.runDailySnapshots({ day: '2026-04-01' }),
  removeFromWatchlist: (w) => w.engine.removeFromWatchlist(w.ids.avg, 'MSFT'),
};

/** Paths that may retry past a fault (a job), and whose rerun replaces rather than adds. */
const IDEMPOTENT = new Set(['runDailySnapshots']);

describe('fault injection at every database call of every write path', () => {
  for (const [name, op] of Object.entries(WRITE_PATHS)) {
    it(name, async () => {
      let faults = 0;
      for (let n = 1; n < 200; n++) {
        const w = await world();
        const before = w.dump();
        w.counter.failAt = w.counter.calls + n;
        let error: unknown;
        try {
          const result = await op(w);
          // A job reports per-portfolio failures instead of throwing: take the first as the error.
          const failed = (result as { failed?: Array<{ code: string; message: string }> } | undefined)?.failed;
          if (name === 'runDailySnapshots' && failed?.length) {
            error = new FoliokitError(failed[0]?.code as never, failed[0]?.message ?? '');
          }
        } catch (e) {
          error = e;
        }
        const injected = w.counter.calls >= w.counter.failAt;
        w.counter.failAt = 0;
        if (!injected) {
          // The path makes fewer than n calls: every call has had its fault.
          expect(error).toBeUndefined();
          expect(faults).toBeGreaterThan(0);
          await w.store.close();
          return;
        }
        faults++;
        if (error === undefined && IDEMPOTENT.has(name)) {
          // The job retried past the fault: then its work must be complete — running it again
          // (it replaces its day) changes nothing.
          const after = w.dump();
          expect(after).not.toEqual(before);
          await op(w);
          expect(w.dump(), `${name}, fault at call ${n}: recovered, but incompletely`).toEqual(after);
          await w.store.close();
          continue;
        }
        expect(isFoliokitError(error), `${name}, fault at call ${n}: ${String(error)}`).toBe(true);
        expect((error as { code: string }).code).toBe('STORE_ERROR');
        expect(w.dump(), `${name}, fault at call ${n}: state changed`).toEqual(before);
        await op(w);
        expect(w.dump()).not.toEqual(before);
        await w.store.close();
      }
      throw new Error(`${name} made 200 database calls or more`);
    });
  }
});
