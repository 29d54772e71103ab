/**
 * Several processes on one SQLite file: writes begin with BEGIN IMMEDIATE and wait on the busy
 * timeout, so trades from two processes on one portfolio never overspend and nothing is lost.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createPortfolioEngine, silentLogger } from '@foliokit/core';
import { createTestProvider, expectStateMatchesLedger } from '@foliokit/core/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type PreparedChild, prepareChild } from '../../../test-support/crash-harness.js';
import { createSqliteStore } from '../src/index.js';
import { tempDir } from './helpers.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const filename = join(tempDir('foliokit-multiprocess-'), 'shared.db');
let child: PreparedChild;

beforeAll(async () => {
  child = await prepareChild(join(here, 'fixtures/multi-process-child.ts'), ['better-sqlite3']);
});
afterAll(() => child?.dispose());

it('two processes buying on one portfolio: exactly the cash is spent, every fill recorded', async () => {
  const setup = await createSqliteStore({ filename });
  const engine = createPortfolioEngine({ store: setup, marketData: createTestProvider(), logger: silentLogger });
  // Cash for exactly 150 buys at 1; the two processes try 200 each.
  const p = await engine.createPortfolio({ name: 'shared', initialCash: 150 });
  await setup.close();

  const results = await Promise.all(
    [0, 1].map(async () => {
      const { stdout } = await run(process.execPath, [...child.args, filename, p.id, '200'], {
        cwd: join(here, '..'),
        timeout: 60_000,
      });
      return JSON.parse(stdout.trim().split('\n').pop() as string) as {
        filled: string[];
        errors: Record<string, number>;
      };
    }),
  );
  const filled = results.flatMap((r) => r.filled);
  expect(filled).toHaveLength(150);
  expect(
    results.every((r) => r.filled.length > 0),
    'both processes traded',
  ).toBe(true);
  expect(results.flatMap((r) => Object.keys(r.errors)).filter((c) => c !== 'INSUFFICIENT_CASH')).toEqual([]);
  expect(results.reduce((n, r) => n + (r.errors.INSUFFICIENT_CASH ?? 0), 0)).toBe(250);

  const store = await createSqliteStore({ filename });
  try {
    expect(store.database.pragma('integrity_check', { simple: true })).toBe('ok');
    const p2 = await store.getPortfolio(p.id);
    expect(p2?.cash).toBe('0');
    const [position] = await store.listPositions(p.id);
    expect(position?.quantity).toBe('150');
    const ids = new Set((await store.listTransactions(p.id, { limit: 1000, kinds: ['buy'] })).map((t) => t.id));
    expect(filled.every((id) => ids.has(id))).toBe(true);
    expect(ids.size).toBe(150);
    expect(await store.listSnapshots(p.id, { kinds: ['trade'], limit: 1000 })).toHaveLength(150);
    await expectStateMatchesLedger(store, p.id);
  } finally {
    await store.close();
  }
});
