/**
 * Several processes on one SQLite file, writing through the store's non-trade paths at once:
 * portfolios created and deleted, watchlists, snapshots, prices. Each of those writes is a Kysely
 * transaction that must begin with BEGIN IMMEDIATE (a deferred BEGIN that reads before it writes
 * fails with SQLITE_BUSY when the other process committed in between, without waiting), so two
 * processes writing together lose nothing and see no error.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type PreparedChild, prepareChild } from '../../../test-support/crash-harness.js';
import { createSqliteStore } from '../src/index.js';
import { tempDir } from './helpers.js';

const ROUNDS = 150;
const here = dirname(fileURLToPath(import.meta.url));
const filename = join(tempDir('foliokit-multiprocess-writes-'), 'shared.db');
let child: PreparedChild;

interface Summary {
  kept: string[];
  deleted: string[];
  errors: Record<string, number>;
}

beforeAll(async () => {
  child = await prepareChild(join(here, 'fixtures/multi-process-writes-child.ts'), ['better-sqlite3']);
});
afterAll(() => child?.dispose());

/** Starts one child per tag, tells them all `go` once every one is ready, and returns their summaries. */
async function runChildren(tags: string[]): Promise<Summary[]> {
  const children = tags.map((tag) =>
    spawn(process.execPath, [...child.args, filename, tag, String(ROUNDS)], {
      cwd: join(here, '..'),
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  const outputs = children.map((c) => {
    let out = '';
    c.stdout.on('data', (chunk) => {
      out += String(chunk);
    });
    const ready = new Promise<void>((resolve) => {
      const check = () => (out.includes('ready') ? resolve() : setTimeout(check, 5));
      check();
    });
    const done = new Promise<string>((resolve, reject) => {
      c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited with ${code}`))));
    });
    return { ready, done };
  });
  await Promise.all(outputs.map((o) => o.ready));
  for (const c of children) c.stdin.end('go\n');
  return (await Promise.all(outputs.map((o) => o.done))).map(
    (out) => JSON.parse(out.trim().split('\n').pop() as string) as Summary,
  );
}

it('two processes writing watchlists, snapshots, prices and deletes on one file: no error, nothing lost', async () => {
  // Create the file and run its migrations once, before the children open it.
  await (await createSqliteStore({ filename })).close();

  const results = await runChildren(['a', 'b']);
  expect(results.map((r) => r.errors)).toEqual([{}, {}]);
  const kept = results.flatMap((r) => r.kept);
  const deleted = results.flatMap((r) => r.deleted);
  expect(kept).toHaveLength(ROUNDS);
  expect(deleted).toHaveLength(ROUNDS);

  const store = await createSqliteStore({ filename });
  try {
    expect(store.database.pragma('integrity_check', { simple: true })).toBe('ok');
    const all = await store.listPortfolios({ limit: 10 * ROUNDS });
    expect(all.map((p) => p.id).sort()).toEqual([...kept].sort());
    for (const id of kept) {
      expect((await store.listWatch(id)).map((w) => w.symbol)).toEqual(['AAPL']);
      expect(await store.listSnapshots(id, {})).toHaveLength(1);
      expect((await store.listTransactions(id, { limit: 10 })).map((t) => t.kind)).toEqual(['deposit']);
    }
    const count = (table: string) =>
      Number((store.database.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n);
    // Nothing of a deleted portfolio is left behind.
    expect(count('watchlist')).toBe(ROUNDS);
    expect(count('snapshots')).toBe(ROUNDS);
    expect(count('transactions')).toBe(ROUNDS);
    expect((await store.getPrices(['AAPL', 'MSFT'])).map((p) => p.symbol)).toEqual(['AAPL', 'MSFT']);
  } finally {
    await store.close();
  }
});
