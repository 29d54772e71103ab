/**
 * Snapshots and jobs:
 * - the daily job (`runDailySnapshots`) over 100,000 portfolios × 10 positions, on a SQLite file
 *   and on PostgreSQL: portfolios per second, the first run of a day (inserts) and a rerun
 *   (upserts replacing the day's rows). Data is seeded with bulk SQL, not engine trades;
 * - backfill of one portfolio holding 50 symbols over 10 years of daily history (3,651 days) from
 *   an in-memory provider, end to end (ledger read, history fetch, walk, upsert of 3,651 rows);
 * - the cost of the post-trade snapshot: sequential trades on a SQLite file with 10 open positions,
 *   `snapshots.onTrade` on versus off, in the same run.
 *
 * Needs the server of `FOLIOKIT_PG_URL` (default postgres://postgres@127.0.0.1:5432/test).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPortfolioEngine, type DailyBar, type PortfolioEngine, type Store, silentLogger } from '@foliokit/core';
import { createStaticProvider } from '@foliokit/providers';
import { createPostgresStore } from '@foliokit/store-postgres';
import { createSqliteStore, type SqliteStore } from '@foliokit/store-sqlite';
import pg from 'pg';
import type { Report } from './run.js';

const URL = process.env.FOLIOKIT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PORTFOLIOS = 100_000;
const POSITIONS = 10;
const UNIVERSE = 500;
const SYMBOLS = Array.from({ length: UNIVERSE }, (_, i) => `S${String(i).padStart(3, '0')}`);
const PRICES = Object.fromEntries(SYMBOLS.map((s, i) => [s, `${10 + (i % 90)}.${String(i % 100).padStart(2, '0')}`]));
const DAY = '2026-01-05';
const NOW = Date.parse('2026-01-06T00:00:05.000Z');
const clock = { now: () => NOW, setTimeout: () => 0, clearTimeout: () => {} };

/** The symbols of portfolio p: 10 distinct ones of the universe. */
const symbolOf = (p: number, k: number) => (p * 7 + k * 13) % UNIVERSE;

export default async function run(report: Report): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'foliokit-jobs-bench-'));
  try {
    await dailySqlite(report, join(dir, 'daily.db'));
    await dailyPostgres(report);
    await backfill(report, join(dir, 'backfill.db'));
    await tradeSnapshots(report, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function engineOn(
  store: Store,
  options: Parameters<typeof createPortfolioEngine>[0]['snapshots'] = {},
): PortfolioEngine {
  return createPortfolioEngine({
    store,
    marketData: createStaticProvider({ prices: PRICES }),
    clock,
    logger: silentLogger,
    prices: { maxAgeMs: 3_600_000, batchSize: UNIVERSE },
    snapshots: options,
  });
}

async function measureDaily(report: Report, label: string, engine: PortfolioEngine, goal: boolean): Promise<void> {
  for (const pass of ['first run of the day', 'rerun (replaces the day)']) {
    const t0 = performance.now();
    const r = await engine.runDailySnapshots({ day: DAY });
    const seconds = (performance.now() - t0) / 1000;
    if (r.succeeded !== PORTFOLIOS) throw new Error(`${label}: ${r.succeeded} of ${PORTFOLIOS} succeeded`);
    const rate = PORTFOLIOS / seconds;
    report({
      name: `daily job, ${label}, 100,000 portfolios × 10 positions, ${pass}`,
      value: rate,
      unit: 'portfolios/s',
      ...(goal ? { goal: '≥ 20,000 portfolios/s', pass: rate >= 20_000 } : {}),
      note: `${seconds.toFixed(2)} s`,
    });
  }
}

async function dailySqlite(report: Report, filename: string): Promise<void> {
  const store = await createSqliteStore({ filename });
  seedSqlite(store);
  const engine = engineOn(store);
  await measureDaily(report, 'SQLite file', engine, true);
  await engine.close();
  await store.close();
}

function seedSqlite(store: SqliteStore): void {
  const db = store.database;
  const at = '2026-01-01T00:00:00.000Z';
  const insertP = db.prepare(
    'insert into portfolios (id, owner_id, name, description, base_currency, cost_basis_method, cash, net_deposits, realized_pnl, created_at, updated_at) values (?, null, ?, null, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insertPos = db.prepare(
    'insert into positions (portfolio_id, symbol, quantity, cost_basis, realized_pnl, opened_at, updated_at) values (?, ?, ?, ?, ?, ?, ?)',
  );
  db.transaction(() => {
    for (let p = 0; p < PORTFOLIOS; p++) {
      const id = `pf_${String(p).padStart(7, '0')}`;
      insertP.run(id, id, 'USD', 'average', '1000.5', '5000', '12.25', at, at);
      for (let k = 0; k < POSITIONS; k++) {
        insertPos.run(id, SYMBOLS[symbolOf(p, k)], `${1 + ((p + k) % 9)}.5`, '1234.5678', '0', at, at);
      }
    }
  })();
}

async function dailyPostgres(report: Report): Promise<void> {
  const schema = `fk_jobs_${randomBytes(4).toString('hex')}`;
  const store = await createPostgresStore({ connectionString: URL, schema, maxConnections: 4 });
  const admin = new pg.Client({ connectionString: URL });
  await admin.connect();
  try {
    const s = `"${schema}"`;
    const at = '2026-01-01T00:00:00.000Z';
    await admin.query(
      `insert into ${s}.portfolios select 'pf_' || lpad(g::text, 7, '0'), null, 'p' || g, null, 'USD', 'average',
        1000.5, 5000, 12.25, $1::timestamptz, $1::timestamptz from generate_series(0, ${PORTFOLIOS - 1}) g`,
      [at],
    );
    await admin.query(
      `insert into ${s}.positions select 'pf_' || lpad(p::text, 7, '0'), 'S' || lpad(((p * 7 + k * 13) % ${UNIVERSE})::text, 3, '0'),
        (1 + (p + k) % 9) + 0.5, 1234.5678, 0, $1::timestamptz, $1::timestamptz
        from generate_series(0, ${PORTFOLIOS - 1}) p, generate_series(0, ${POSITIONS - 1}) k`,
      [at],
    );
    await admin.query(`analyze ${s}.portfolios, ${s}.positions`);
    const engine = engineOn(store);
    await measureDaily(report, 'PostgreSQL', engine, false);
    await engine.close();
  } finally {
    await admin.query(`drop schema if exists "${schema}" cascade`).catch(() => {});
    await admin.end();
    await store.close();
  }
}

async function backfill(report: Report, filename: string): Promise<void> {
  const symbols = SYMBOLS.slice(0, 50);
  const from = '2016-01-22';
  const to = '2026-01-19';
  const history: Record<string, DailyBar[]> = {};
  for (const [k, s] of symbols.entries()) {
    const bars: DailyBar[] = [];
    for (
      let ms = Date.parse(`${from}T00:00:00Z`) - 14 * 86_400_000;
      ms <= Date.parse(`${to}T00:00:00Z`);
      ms += 86_400_000
    ) {
      const wd = new Date(ms).getUTCDay();
      if (wd === 0 || wd === 6) continue;
      bars.push({
        day: new Date(ms).toISOString().slice(0, 10),
        close: `${50 + k + ((ms / 86_400_000) % 37)}.${(ms / 86_400_000) % 100}`,
      });
    }
    history[s] = bars;
  }
  const store = await createSqliteStore({ filename });
  const engine = createPortfolioEngine({
    store,
    marketData: createStaticProvider({ prices: {}, history }),
    clock: { now: () => Date.parse('2026-01-20T12:00:00Z'), setTimeout: () => 0, clearTimeout: () => {} },
    logger: silentLogger,
  });
  const p = await engine.createPortfolio({ name: 'backfill' });
  await engine.deposit(p.id, { amount: '10000000', at: `${from}T10:00:00Z` });
  for (const [k, s] of symbols.entries()) {
    await engine.trade(p.id, {
      symbol: s,
      side: 'buy',
      quantity: `${10 + k}.5`,
      price: '100',
      at: `${from}T11:00:00Z`,
    });
  }
  // Trades spread over the years, so the walk replays as it goes.
  for (let y = 1; y < 10; y++) {
    for (const s of symbols.slice(0, 10)) {
      await engine.trade(p.id, {
        symbol: s,
        side: y % 2 ? 'sell' : 'buy',
        quantity: '1',
        price: '90',
        at: `${2016 + y}-03-0${1 + (y % 5)}T15:00:00Z`,
      });
    }
  }
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    const r = await engine.backfill(p.id, { from, to });
    times.push(performance.now() - t0);
    if (r.written !== 3651) throw new Error(`backfill wrote ${r.written}`);
  }
  const cold = times[0] as number;
  const ms = median(times.slice(1));
  report({
    name: 'backfill, 1 portfolio × 50 symbols × 3,651 days, in-memory provider (median of 6 warm runs)',
    value: ms,
    unit: 'ms',
    goal: '< 250 ms',
    pass: ms < 250,
    note: `first, cold run ${cold.toFixed(0)} ms`,
  });
  await engine.close();
  await store.close();
}

async function tradeSnapshots(report: Report, dir: string): Promise<void> {
  const TRADES = 5000;
  const rates: Record<'on' | 'off', number[]> = { on: [], off: [] };
  for (let round = 0; round < 3; round++) {
    for (const mode of ['off', 'on'] as const) {
      const store = await createSqliteStore({ filename: join(dir, `trades-${mode}-${round}.db`) });
      const engine = createPortfolioEngine({
        store,
        marketData: createStaticProvider({ prices: PRICES }),
        logger: silentLogger,
        snapshots: { onTrade: mode === 'on' },
      });
      const p = await engine.createPortfolio({ name: 't', initialCash: '1000000000' });
      for (const s of SYMBOLS.slice(0, 10))
        await engine.trade(p.id, { symbol: s, side: 'buy', quantity: '1', price: '10' });
      const t0 = performance.now();
      for (let i = 0; i < TRADES; i++) {
        await engine.trade(p.id, { symbol: SYMBOLS[i % 10] as string, side: 'buy', quantity: '1', price: '10.25' });
      }
      rates[mode].push(TRADES / ((performance.now() - t0) / 1000));
      await engine.close();
      await store.close();
    }
  }
  const off = median(rates.off);
  const on = median(rates.on);
  report({ name: 'sqlite engine.trade, 10 open positions, snapshots.onTrade off', value: off, unit: 'trades/s' });
  report({
    name: 'sqlite engine.trade, 10 open positions, post-trade snapshot on (default)',
    value: on,
    unit: 'trades/s',
    baseline: 'onTrade off',
    ratio: on / off,
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}
