/**
 * The ledger in date order: what a backdated entry costs in a 10,000-entry ledger (the portfolio is
 * re-planned from scratch: the whole ledger read under the lock, every entry planned again, every
 * changed entry rewritten), beside an entry at the end of the same ledger in the same run, on SQLite
 * (file, WAL) and PostgreSQL. The backdated entry is the worst case: a deposit dated before every
 * other entry changes the `cashAfter` of all 10,000.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPortfolioEngine, type PortfolioEngine, type Store, silentLogger } from '@foliokit/core';
import { createManualClock } from '@foliokit/core/testing';
import { createStaticProvider } from '@foliokit/providers';
import { createPostgresStore } from '@foliokit/store-postgres';
import { createSqliteStore } from '@foliokit/store-sqlite';
import pg from 'pg';
import type { Report } from './run.js';

const ENTRIES = 10_000;
const REPEATS = 5;
const URL = process.env.FOLIOKIT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SYMBOLS = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE'];
const START = Date.parse('2020-01-01T00:00:00Z');

/** A portfolio with `ENTRIES` entries in date order (one a minute), through the engine. */
async function fill(engine: PortfolioEngine): Promise<string> {
  const p = await engine.createPortfolio({
    name: 'Bench',
    initialCash: '100000000',
    initialCashAt: new Date(START).toISOString(),
  });
  for (let i = 1; i < ENTRIES; i++) {
    const symbol = SYMBOLS[i % SYMBOLS.length] as string;
    const at = new Date(START + i * 60_000).toISOString();
    // Buys and sells alternate per symbol, so positions stay open and every sell realizes P&L.
    const side = Math.floor(i / SYMBOLS.length) % 3 === 2 ? 'sell' : 'buy';
    await engine.trade(p.id, { symbol, side, quantity: 1, price: 100 + (i % 7), at });
  }
  return p.id;
}

/** Median ms of `REPEATS` runs of `fn`. */
async function medianMs(fn: (i: number) => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    await fn(i);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

async function measure(report: Report, label: string, store: Store): Promise<void> {
  const clock = createManualClock('2026-01-05T12:00:00.000Z');
  const engine = createPortfolioEngine({
    store,
    clock,
    logger: silentLogger,
    marketData: createStaticProvider({ prices: Object.fromEntries(SYMBOLS.map((s) => [s, '100'])) }),
    snapshots: { onTrade: false },
  });
  try {
    const id = await fill(engine);
    const atEnd = await medianMs((i) =>
      engine.deposit(id, { amount: 1, at: new Date(START + (ENTRIES + i) * 60_000).toISOString() }),
    );
    const backdated = await medianMs((i) =>
      engine.deposit(id, { amount: 1, at: new Date(START - (i + 1) * 60_000).toISOString() }),
    );
    report({ name: `${label}: entry at the end of a 10,000-entry ledger (baseline)`, value: atEnd, unit: 'ms' });
    report({
      name: `${label}: backdated entry before all 10,000 (re-plan)`,
      value: backdated,
      unit: 'ms',
      baseline: 'entry at the end',
      ratio: backdated / atEnd,
      note: `${(backdated / ENTRIES).toFixed(3)} ms per re-planned entry`,
    });
  } finally {
    await engine.close();
  }
}

export default async function run(report: Report): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'foliokit-bench-date-'));
  try {
    const sqlite = await createSqliteStore({ filename: join(dir, 'ledger.db') });
    try {
      await measure(report, 'sqlite', sqlite);
    } finally {
      await sqlite.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const schema = `fk_bench_${randomBytes(4).toString('hex')}`;
  const store = await createPostgresStore({ connectionString: URL, schema });
  try {
    await measure(report, 'postgres', store);
  } finally {
    await store.close();
    const c = new pg.Client({ connectionString: URL });
    await c.connect();
    await c.query(`drop schema if exists "${schema}" cascade`);
    await c.end();
  }
}
