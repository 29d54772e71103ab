/**
 * A failure injected at the N-th database statement of each write path, for every N, on PostgreSQL:
 * the call fails with a typed error, every table of the store's schema is what it was, and the
 * same call then succeeds. RELIABILITY.md, "Crash safety"; the SQLite twin is
 * packages/store-sqlite/test/fault-injection.test.ts.
 *
 * The fault is real, at the server: the N-th statement a client of the pool sends is replaced by
 * one PostgreSQL refuses (an error, which aborts the transaction it is in) or by one that ends the
 * connection (`pg_terminate_backend` of its own session). Pipelined and one-at-a-time clients both.
 */
import {
  createPortfolioEngine,
  FoliokitError,
  isFoliokitError,
  type PortfolioEngine,
  type SnapshotRow,
  silentLogger,
} from '@foliokit/core';
import { createManualClock, createTestProvider } from '@foliokit/core/testing';
import {
  createPostgresStore,
  type PostgresClientLike,
  type PostgresPoolLike,
  type PostgresQueryConfigLike,
  type PostgresStore,
} from '@foliokit/store-postgres';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { admin, dropSchema, PG_URL, schemaName } from './support/pg.js';

const schemas: string[] = [];
afterAll(async () => {
  for (const s of schemas) await dropSchema(s);
});

/**
 * Every table a write path may change. `symbols` (the price book) is compared only by the paths
 * that write it alone: a market order records the quote it asked for before its transaction
 * begins, and a quote the provider gave is true whether or not the trade then commits.
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

type Fault = 'error' | 'disconnect';

interface Counter {
  statements: number;
  failAt: number;
}

/** What replaces the N-th statement. */
const FAULT_SQL: Record<Fault, string> = {
  // 22012 division_by_zero: a statement the server refuses; the transaction it is in is aborted.
  error: 'select 1 / 0 as injected_fault',
  // The server ends this very session: the statement and everything after it on the connection fail.
  disconnect: 'select pg_terminate_backend(pg_backend_pid()) as injected_fault',
};

/** A pg client as the wrapper uses it. */
type Client = PostgresClientLike & {
  getTypeParser(oid: number, format?: string): (value: string) => unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  pipeline?: boolean;
};

/**
 * A pg pool whose clients count every statement sent and swap the `failAt`-th one for a fault.
 * Each raw client keeps one wrapper, as a pool keeps its clients.
 */
function faultyPool(pipeline: boolean, fault: Fault) {
  const real = new pg.Pool({ connectionString: PG_URL, max: 4, pipeline } as pg.PoolConfig);
  real.on('error', () => {});
  const counter: Counter = { statements: 0, failAt: 0 };
  const wrappers = new WeakMap<object, Client>();
  const wrap = (client: Client): Client => {
    let w = wrappers.get(client);
    if (!w) {
      w = {
        query(config: PostgresQueryConfigLike) {
          counter.statements++;
          if (counter.failAt > 0 && counter.statements === counter.failAt) {
            if (process.env.FAULT_DEBUG) console.log(`fault (${fault}) in:`, config.text.slice(0, 120));
            return client.query({ text: FAULT_SQL[fault], ...(config.types ? { types: config.types } : {}) });
          }
          return client.query(config);
        },
        release: (destroy) => client.release(destroy),
        getTypeParser: (oid, format) => client.getTypeParser(oid, format),
        on: (event, listener) => client.on(event, listener),
        pipeline: client.pipeline,
      };
      wrappers.set(client, w);
    }
    return w;
  };
  const pool: PostgresPoolLike = {
    async connect() {
      return wrap((await real.connect()) as unknown as Client);
    },
    end: () => real.end(),
  };
  return { pool, counter, end: () => real.end() };
}

/** Every row of every table of the schema, read on a connection of its own. */
async function dump(schema: string, tables: readonly string[]): Promise<Record<string, unknown[]>> {
  const select = tables.map(
    (t) => `select '${t}' as t, coalesce(json_agg(r order by r), '[]') as rows from "${schema}"."${t}" r`,
  );
  const found = await admin<{ t: string; rows: unknown[] }>(select.join(' union all '));
  return Object.fromEntries(found.map((f) => [f.t, f.rows]));
}

interface World {
  store: PostgresStore;
  engine: PortfolioEngine;
  ids: { avg: string; fifo: string };
}

/** A fresh pair of portfolios (cash, positions, lots, a watchlist) in the store, the same every time. */
async function world(store: PostgresStore): Promise<World> {
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
  return { store, engine, ids: { avg: avg.id, fifo: fifo.id } };
}

let seq = 0;
/** A snapshot row of `portfolioId`, distinct on every call. */
function snapshotRow(portfolioId: string, kind: 'interval' | 'daily'): SnapshotRow {
  seq++;
  return {
    portfolioId,
    at: `2026-04-01T12:00:${String(seq % 60).padStart(2, '0')}.000Z`,
    day: '2026-04-01',
    kind,
    cash: String(seq),
    marketValue: '0',
    totalValue: String(seq),
    costBasis: '0',
    unrealizedPnl: '0',
    realizedPnl: '0',
    netDeposits: '1',
    flags: [],
  };
}

interface Path {
  run: (w: World) => Promise<unknown>;
  /** Tables compared (default {@link TABLES}). */
  tables?: readonly string[];
}

const WRITE_PATHS: Record<string, Path> = {
  'createPortfolio (opening deposit)': { run: (w) => w.engine.createPortfolio({ name: 'new', initialCash: 500 }) },
  deposit: { run: (w) => w.engine.deposit(w.ids.avg, { amount: '12.5', idempotencyKey: `d${seq++}` }) },
  withdraw: { run: (w) => w.engine.withdraw(w.ids.avg, { amount: 1 }) },
  'buy (market price, snapshot)': {
    run: (w) => w.engine.trade(w.ids.avg, { symbol: 'MSFT', side: 'buy', quantity: 2 }),
  },
  'buy (given price, keyed)': {
    run: (w) =>
      w.engine.trade(w.ids.fifo, {
        symbol: 'AAPL',
        side: 'buy',
        quantity: 1,
        price: '99',
        idempotencyKey: `b${seq++}`,
      }),
  },
  'sell (average cost)': {
    run: (w) => w.engine.trade(w.ids.avg, { symbol: 'AAPL', side: 'sell', quantity: 3, fee: 1 }),
  },
  'sell (FIFO, across lots)': { run: (w) => w.engine.trade(w.ids.fifo, { symbol: 'MSFT', side: 'sell', quantity: 7 }) },
  updatePortfolio: { run: (w) => w.engine.updatePortfolio(w.ids.avg, { name: 'renamed' }) },
  deletePortfolio: { run: (w) => w.engine.deletePortfolio(w.ids.fifo) },
  addToWatchlist: { run: (w) => w.engine.addToWatchlist(w.ids.avg, 'NVDA') },
  removeFromWatchlist: { run: (w) => w.engine.removeFromWatchlist(w.ids.avg, 'MSFT') },
  recordSnapshot: { run: (w) => w.engine.recordSnapshot(w.ids.avg) },
  'insertSnapshots (two rows)': {
    run: (w) => w.store.insertSnapshots([snapshotRow(w.ids.avg, 'interval'), snapshotRow(w.ids.fifo, 'interval')]),
  },
  'insertSnapshots (replace day)': {
    run: (w) =>
      w.store.insertSnapshots([snapshotRow(w.ids.avg, 'daily'), snapshotRow(w.ids.fifo, 'daily')], { replace: 'day' }),
  },
  runDailySnapshots: { run: (w) => w.engine.runDailySnapshots({ day: '2026-04-01' }) },
  upsertPrices: {
    run: (w) => {
      seq++;
      const at = `2026-04-0${1 + (seq % 9)}T10:00:00.000Z`;
      return w.store.upsertPrices([
        { symbol: 'AAPL', price: `${100 + seq}`, at, currency: 'USD', source: 'fault', updatedAt: at },
        { symbol: `NEW${seq}`, price: '1', at, currency: 'USD', source: 'fault', updatedAt: at },
      ]);
    },
    tables: [...TABLES, 'symbols'],
  },
  upsertDailyBars: {
    run: (w) => {
      seq++;
      const bar = { open: null, high: null, low: null, adjClose: null, volume: null, source: 'fault' };
      return w.store.upsertDailyBars([
        { symbol: 'AAPL', day: '2026-03-31', close: `${seq}`, ...bar },
        { symbol: `BAR${seq}`, day: '2026-03-31', close: '1', ...bar },
      ]);
    },
  },
};

/** A portfolio a job could not do, as its report lists it. */
interface JobFailure {
  portfolioId: string;
  code: string;
  message: string;
}

/** The tables whose rows belong to a portfolio (`portfolio_id`), besides `portfolios` itself. */
const OWNED = ['positions', 'lots', 'transactions', 'snapshots', 'watchlist'];

/** The rows of a dump that belong to these portfolios. */
function rowsOf(tables: Record<string, unknown[]>, portfolioIds: ReadonlySet<string>): Record<string, unknown[]> {
  const mine = (id: unknown) => typeof id === 'string' && portfolioIds.has(id);
  const out: Record<string, unknown[]> = {
    portfolios: (tables.portfolios ?? []).filter((r) => mine((r as { id?: unknown }).id)),
  };
  for (const t of OWNED) out[t] = (tables[t] ?? []).filter((r) => mine((r as { portfolio_id?: unknown }).portfolio_id));
  return out;
}

/** Paths that may retry past a fault (a job), and whose rerun replaces rather than adds. */
const IDEMPOTENT = new Set(['runDailySnapshots']);

const SETUPS: Array<{ fault: Fault; pipeline: boolean }> = [
  { fault: 'error', pipeline: true },
  { fault: 'error', pipeline: false },
  { fault: 'disconnect', pipeline: true },
];

for (const { fault, pipeline } of SETUPS) {
  describe(`a fault (${fault}) at every statement of every write path, ${pipeline ? 'pipelined' : 'one at a time'}`, () => {
    for (const [name, path] of Object.entries(WRITE_PATHS)) {
      it(name, { timeout: 180_000 }, async () => {
        const schema = schemaName('fault');
        schemas.push(schema);
        const { pool, counter, end } = faultyPool(pipeline, fault);
        const store = await createPostgresStore({ pool, schema });
        const tables = path.tables ?? TABLES;
        try {
          let faults = 0;
          for (let n = 1; n < 100; n++) {
            const w = await world(store);
            const before = await dump(schema, tables);
            counter.failAt = counter.statements + n;
            let error: unknown;
            /** The portfolios a job reports as failed (it goes on with the others). */
            let failedIds: Set<string> | undefined;
            try {
              const result = await path.run(w);
              // A job reports per-portfolio failures instead of throwing: take the first as the error.
              const failed = (result as { failed?: JobFailure[] } | undefined)?.failed;
              if (IDEMPOTENT.has(name) && failed?.length) {
                error = new FoliokitError(failed[0]?.code as never, failed[0]?.message ?? '');
                failedIds = new Set(failed.map((f) => f.portfolioId));
              }
            } catch (e) {
              error = e;
            }
            const injected = counter.statements >= counter.failAt;
            counter.failAt = 0;
            if (!injected) {
              // The path sends fewer than n statements: every one has had its fault.
              expect(error).toBeUndefined();
              expect(faults).toBeGreaterThan(0);
              return;
            }
            faults++;
            const where = `${name}, fault at statement ${n}`;
            if (error === undefined && IDEMPOTENT.has(name)) {
              // The job retried past the fault: then its work is complete, and a rerun (which
              // replaces its day) changes nothing.
              const after = await dump(schema, tables);
              expect(after, where).not.toEqual(before);
              await path.run(w);
              expect(await dump(schema, tables), `${where}: recovered, but incompletely`).toEqual(after);
              continue;
            }
            expect(isFoliokitError(error), `${where}: ${String(error)}`).toBe(true);
            expect((error as FoliokitError).code, where).toBe('STORE_ERROR');
            const after = await dump(schema, tables);
            if (failedIds) {
              // A job is all or nothing per portfolio: those it reports failed are untouched.
              expect(rowsOf(after, failedIds), `${where}: a failed portfolio changed`).toEqual(
                rowsOf(before, failedIds),
              );
            } else {
              expect(after, `${where}: state changed`).toEqual(before);
            }
            // The next call succeeds, on the same store and pool.
            const again = await path.run(w);
            expect((again as { failed?: JobFailure[] } | undefined)?.failed ?? [], where).toEqual([]);
            expect(await dump(schema, tables), `${where}: the retry wrote nothing`).not.toEqual(before);
          }
          throw new Error(`${name} sent 100 statements or more`);
        } finally {
          await store.close();
          await end();
        }
      });
    }
  });
}
