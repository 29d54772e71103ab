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
    const engineRates: number[] = [];
    const rawRates: number[] = [];
    // Alternate the two so neither profits from a warmer disk or cache.
    for (let r = 0; r < ROUNDS; r++) {
      rawRates.push(await rawTrades(join(dir, `raw-${r}.db`)));
      engineRates.push(await engineTrades(join(dir, `engine-${r}.db`)));
    }
    const engine = median(engineRates);
    const raw = median(rawRates);
    report({ name: 'sqlite raw better-sqlite3 trades (baseline)', value: raw, unit: 'trades/s' });
    report({
      name: 'sqlite engine.trade sequential',
      value: engine,
      unit: 'trades/s',
      baseline: 'raw better-sqlite3',
      ratio: engine / raw,
      goal: '≥ 0.6 of raw',
      pass: engine / raw >= 0.6,
    });
    const valuation = await valuationMedian(join(dir, 'valuation.db'));
    report({ name: 'getValuation, 1,000 positions (median)', value: valuation, unit: 'ms', goal: '< 5 ms', pass: valuation < 5 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL'];

async function engineTrades(filename: string): Promise<number> {
  const store = await createSqliteStore({ filename });
  const engine = createPortfolioEngine({
    store,
    marketData: createStaticProvider({ prices: Object.fromEntries(SYMBOLS.map((s) => [s, '100.25'])) }),
    logger: silentLogger,
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
async function rawTrades(filename: string): Promise<number> {
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
