/**
 * Sequential trades through the engine on a SQLite file store (WAL) versus raw better-sqlite3
 * doing the same reads and writes with prepared statements, in the same run; and getValuation on a
 * portfolio of 1,000 positions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPortfolioEngine, dec, fmt, newId, silentLogger } from '@foliokit/core';
import { createStaticProvider } from '@foliokit/providers';
import { createSqliteStore } from '@foliokit/store-sqlite';
import Database from 'better-sqlite3';
import type { Report } from './run.js';

const TRADES = 20_000;
const ROUNDS = 3;

export default async function run(report: Report): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'foliokit-bench-'));
  try {
    // Like for like: the engine without its post-trade snapshot against a raw trade, and the
    // engine's default (snapshot in the same transaction) against a raw trade that also reads every
    // position and writes the same snapshot row. Rounds alternate so neither gets a warmer disk.
    const rates = { engine: [] as number[], raw: [] as number[], engineSnap: [] as number[], rawSnap: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      rates.raw.push(await rawTrades(join(dir, `raw-${r}.db`), false));
      rates.engine.push(await engineTrades(join(dir, `engine-${r}.db`), false));
      rates.rawSnap.push(await rawTrades(join(dir, `raw-snap-${r}.db`), true));
      rates.engineSnap.push(await engineTrades(join(dir, `engine-snap-${r}.db`), true));
    }
    const raw = median(rates.raw);
    const engine = median(rates.engine);
    const rawSnap = median(rates.rawSnap);
    const engineSnap = median(rates.engineSnap);
    report({ name: 'sqlite raw better-sqlite3 trade (baseline)', value: raw, unit: 'trades/s' });
    report({
      name: 'sqlite engine.trade, snapshots.onTrade off',
      value: engine,
      unit: 'trades/s',
      baseline: 'raw trade',
      ratio: engine / raw,
      goal: '≥ 0.6 of raw',
      pass: engine / raw >= 0.6,
    });
    report({ name: 'sqlite raw trade + post-trade snapshot (baseline)', value: rawSnap, unit: 'trades/s' });
    report({
      name: 'sqlite engine.trade, default (post-trade snapshot)',
      value: engineSnap,
      unit: 'trades/s',
      baseline: 'raw trade + snapshot',
      ratio: engineSnap / rawSnap,
      goal: '≥ 0.6 of raw',
      pass: engineSnap / rawSnap >= 0.6,
    });
    const valuation = await valuationMedian(join(dir, 'valuation.db'));
    report({
      name: 'getValuation, 1,000 positions (median)',
      value: valuation,
      unit: 'ms',
      goal: '< 5 ms',
      pass: valuation < 5,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL'];

async function engineTrades(filename: string, onTrade: boolean): Promise<number> {
  const store = await createSqliteStore({ filename });
  const engine = createPortfolioEngine({
    store,
    marketData: createStaticProvider({ prices: Object.fromEntries(SYMBOLS.map((s) => [s, '100.25'])) }),
    logger: silentLogger,
    snapshots: { onTrade },
  });
  const p = await engine.createPortfolio({ name: 'bench', initialCash: '1000000000' });
  const start = performance.now();
  for (let i = 0; i < TRADES; i++) {
    await engine.trade(p.id, { symbol: SYMBOLS[i % 5] as string, side: 'buy', quantity: '1', price: '100.25' });
  }
  const rate = TRADES / ((performance.now() - start) / 1000);
  await store.close();
  return rate;
}

/**
 * The baseline: what a hand-written better-sqlite3 app does for one buy — read the portfolio,
 * read the position, update cash, upsert the position, insert the ledger row — in one
 * synchronous IMMEDIATE transaction, with exact decimal arithmetic done the same way.
 */
async function rawTrades(filename: string, withSnapshot: boolean): Promise<number> {
  // The schema comes from the store's own migrations so both write the same tables and indexes.
  const setup = await createSqliteStore({ filename });
  await setup.close();
  const db = new Database(filename);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  const now = new Date().toISOString();
  const id = 'pf_raw';
  db.prepare(
    `insert into portfolios (id, owner_id, name, description, base_currency, cost_basis_method, cash, net_deposits, realized_pnl, created_at, updated_at)
     values (?, null, 'raw', null, 'USD', 'average', '1000000000', '1000000000', '0', ?, ?)`,
  ).run(id, now, now);
  const selP = db.prepare('select * from portfolios where id = ?');
  const selPos = db.prepare('select * from positions where portfolio_id = ? and symbol = ?');
  const updP = db.prepare('update portfolios set cash = ?, updated_at = ? where id = ?');
  const upsPos = db.prepare(
    `insert into positions (portfolio_id, symbol, quantity, cost_basis, realized_pnl, opened_at, updated_at) values (?, ?, ?, ?, '0', ?, ?)
     on conflict (portfolio_id, symbol) do update set quantity = excluded.quantity, cost_basis = excluded.cost_basis, updated_at = excluded.updated_at`,
  );
  const insT = db.prepare(
    `insert into transactions (id, portfolio_id, kind, symbol, quantity, price, fee, amount, realized_pnl, cash_after, quantity_after, idempotency_key, request_hash, executed_at, created_at)
     values (?, ?, 'buy', ?, ?, ?, '0', ?, null, ?, ?, null, null, ?, ?)`,
  );
  const selAll = db.prepare('select symbol, quantity, cost_basis from positions where portfolio_id = ?');
  const insSnap = db.prepare(
    `insert into snapshots (portfolio_id, at, day, kind, cash, market_value, total_value, cost_basis, unrealized_pnl, realized_pnl, net_deposits, flags)
     values (?, ?, ?, 'trade', ?, ?, ?, ?, ?, '0', '1000000000', '[]')`,
  );
  const trade = db.transaction((symbol: string, quantity: string, price: string) => {
    const at = new Date().toISOString();
    const p = selP.get(id) as { cash: string };
    const pos = selPos.get(id, symbol) as { quantity: string; cost_basis: string } | undefined;
    const cost = dec(quantity).times(price);
    const cash = dec(p.cash).minus(cost);
    if (cash.isNegative()) throw new Error('insufficient cash');
    const qty = dec(pos?.quantity ?? '0').plus(quantity);
    updP.run(fmt(cash), at, id);
    upsPos.run(id, symbol, fmt(qty), fmt(dec(pos?.cost_basis ?? '0').plus(cost)), at, at);
    insT.run(newId('tx', Date.now()), id, symbol, quantity, price, fmt(cost.neg()), fmt(cash), fmt(qty), at, at);
    if (withSnapshot) {
      let mv = dec(0);
      let basis = dec(0);
      for (const row of selAll.all(id) as Array<{ symbol: string; quantity: string; cost_basis: string }>) {
        mv = mv.plus(dec(row.quantity).times(price));
        basis = basis.plus(row.cost_basis);
      }
      insSnap.run(id, at, at.slice(0, 10), fmt(cash), fmt(mv), fmt(cash.plus(mv)), fmt(basis), fmt(mv.minus(basis)));
    }
  });
  const start = performance.now();
  for (let i = 0; i < TRADES; i++) {
    trade.immediate(SYMBOLS[i % 5] as string, '1', '100.25');
    // The engine's API is async; give the baseline the same one await per trade.
    await undefined;
  }
  const rate = TRADES / ((performance.now() - start) / 1000);
  db.close();
  return rate;
}

async function valuationMedian(filename: string): Promise<number> {
  const store = await createSqliteStore({ filename });
  const symbols = Array.from({ length: 1000 }, (_, i) => `SYM${i}`);
  const provider = createStaticProvider({ prices: Object.fromEntries(symbols.map((s, i) => [s, `${10 + i}.37`])) });
  const engine = createPortfolioEngine({ store, marketData: provider, logger: silentLogger });
  const p = await engine.createPortfolio({ name: 'wide', initialCash: '100000000' });
  for (const s of symbols) await engine.trade(p.id, { symbol: s, side: 'buy', quantity: '3.5' });
  for (let i = 0; i < 20; i++) await engine.getValuation(p.id);
  const times: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t = performance.now();
    await engine.getValuation(p.id);
    times.push(performance.now() - t);
  }
  await store.close();
  return median(times);
}
