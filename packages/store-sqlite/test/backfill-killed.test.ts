/**
 * A backfill killed part-way and run again leaves one row per portfolio and day, none missing,
 * equal to a backfill that was never interrupted (RELIABILITY.md, Jobs). A child process runs
 * `backfillAll` on a SQLite file (WAL) and is killed with SIGKILL after a few pages of portfolios;
 * the parent checks that the kill left the file whole and the backfill half done, runs the backfill
 * again, and compares every row with a clean run on a copy of the file taken before the child ran.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSqliteStore } from '@foliokit/store-sqlite';
import { afterAll, expect, it } from 'vitest';
import { prepareChild } from '../../../test-support/crash-harness.js';
import { BACKFILL_PAGE, BACKFILL_RANGE, BACKFILL_SYMBOLS, backfillEngine } from './fixtures/backfill-child.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'foliokit-backfill-killed-'));
const killedFile = join(dir, 'killed.db');
const cleanFile = join(dir, 'clean.db');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Portfolios backfilled: several pages, so a kill after the first pages leaves most undone. */
const PORTFOLIOS = 60;

/** Every column of a backfill row but its id, in a stable order. */
const ROWS = `select portfolio_id, day, kind, at, cash, market_value, total_value, cost_basis, unrealized_pnl,
  realized_pnl, net_deposits, flags from snapshots where kind = 'backfill' order by portfolio_id, day`;

/** Days from `from` to `to`, both included. */
const daysBetween = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;

/**
 * Portfolios with ledgers starting on different days of the range (average cost and FIFO, buys,
 * sells, a withdrawal); returns each one's id and first ledger day.
 */
async function seed(filename: string): Promise<Map<string, string>> {
  const store = await createSqliteStore({ filename });
  const engine = backfillEngine(store);
  const firstDay = new Map<string, string>();
  try {
    for (let i = 0; i < PORTFOLIOS; i++) {
      const p = await engine.createPortfolio({ name: `bf${i}`, costBasisMethod: i % 2 === 0 ? 'average' : 'fifo' });
      const start = new Date(Date.parse('2024-01-02T00:00:00Z') + i * 3 * 86_400_000).toISOString().slice(0, 10);
      const symbol = BACKFILL_SYMBOLS[i % BACKFILL_SYMBOLS.length] as string;
      await engine.deposit(p.id, { amount: '50000', at: `${start}T14:00:00Z` });
      await engine.trade(p.id, { symbol, side: 'buy', quantity: 10 + i, price: '101.25', at: `${start}T15:00:00Z` });
      await engine.trade(p.id, { symbol: 'MSFT', side: 'buy', quantity: 3, price: '180', at: '2024-09-03T15:00:00Z' });
      await engine.trade(p.id, { symbol, side: 'sell', quantity: 4, price: '120.5', at: '2025-03-03T15:00:00Z' });
      await engine.withdraw(p.id, { amount: '1000.01', at: '2025-06-02T15:00:00Z' });
      firstDay.set(p.id, start);
    }
  } finally {
    await engine.close();
    await store.close();
  }
  return firstDay;
}

/** Copies a closed SQLite file (and its WAL, if one is left). */
function copyDatabase(from: string, to: string): void {
  copyFileSync(from, to);
  if (existsSync(`${from}-wal`)) copyFileSync(`${from}-wal`, `${to}-wal`);
}

/** Runs the backfill in this process and returns every backfill row. */
async function backfillHere(filename: string): Promise<Array<Record<string, unknown>>> {
  const store = await createSqliteStore({ filename });
  const engine = backfillEngine(store);
  try {
    const report = await engine.backfillAll(BACKFILL_RANGE);
    expect(report.failed).toEqual([]);
    return store.database.prepare(ROWS).all() as Array<Record<string, unknown>>;
  } finally {
    await engine.close();
    await store.close();
  }
}

/**
 * Starts the child on `filename` and kills it with SIGKILL once it reports `pages` pages of
 * portfolios done. Fails when it finishes, or ends, before that.
 */
async function killPartWay(args: string[], filename: string, pages: number): Promise<void> {
  const proc: ChildProcess = spawn(process.execPath, [...args, filename], {
    cwd: join(here, '..'),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const closed = new Promise<NodeJS.Signals | null>((resolve) => proc.on('close', (_code, signal) => resolve(signal)));
  const outcome = await new Promise<string>((resolve) => {
    let partial = '';
    proc.stdout?.setEncoding('utf8');
    proc.stdout?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('done')) resolve(line);
        if (line === `page ${pages * BACKFILL_PAGE}`) {
          proc.kill('SIGKILL');
          resolve('killed');
        }
      }
    });
    void closed.then(() => resolve('ended'));
  });
  if (outcome !== 'killed') proc.kill('SIGKILL');
  const signal = await closed;
  expect(outcome, `the child must be killed part-way, not reach "${outcome}": ${stderr}`).toBe('killed');
  expect(signal).toBe('SIGKILL');
}

it('a backfill killed part-way and run again leaves one row per portfolio and day, equal to a clean run', async () => {
  const firstDay = await seed(killedFile);
  copyDatabase(killedFile, cleanFile);
  const expectedRows = [...firstDay.values()].reduce((n, d) => n + daysBetween(d, BACKFILL_RANGE.to), 0);

  const child = await prepareChild(join(here, 'fixtures/backfill-child.ts'), ['better-sqlite3']);
  const pages = 1 + Math.floor(Math.random() * 3);
  try {
    await killPartWay(child.args, killedFile, pages);
  } finally {
    child.dispose();
  }

  // The kill left a whole file with the backfill half done: some portfolios written, not all.
  const killed = await createSqliteStore({ filename: killedFile });
  try {
    expect(killed.database.pragma('integrity_check', { simple: true })).toBe('ok');
    const { n } = killed.database.prepare(`select count(*) as n from snapshots where kind = 'backfill'`).get() as {
      n: number;
    };
    expect(n, `rows written before the kill after ${pages} pages`).toBeGreaterThan(0);
    expect(n).toBeLessThan(expectedRows);
  } finally {
    await killed.close();
  }

  const rerun = await backfillHere(killedFile);
  const clean = await backfillHere(cleanFile);

  // One row per portfolio and day: every day from the portfolio's first entry to the end of the range.
  const perPortfolio = new Map<string, Set<string>>();
  for (const row of rerun) {
    const days = perPortfolio.get(row.portfolio_id as string) ?? new Set<string>();
    expect(days.has(row.day as string), `${row.portfolio_id} ${row.day} twice`).toBe(false);
    days.add(row.day as string);
    perPortfolio.set(row.portfolio_id as string, days);
  }
  for (const [id, start] of firstDay) {
    const days = perPortfolio.get(id);
    expect(days?.size, `days of ${id}`).toBe(daysBetween(start, BACKFILL_RANGE.to));
    expect([...(days ?? [])].sort()[0], `first day of ${id}`).toBe(start);
  }
  expect(rerun).toHaveLength(expectedRows);
  // And every row as a backfill that was never interrupted writes it.
  expect(rerun).toEqual(clean);
}, 120_000);
