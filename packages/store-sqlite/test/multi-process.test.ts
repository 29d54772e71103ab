/**
 * Several processes on one SQLite file: writes begin with BEGIN IMMEDIATE and wait on the busy
 * timeout, so trades from two processes on one portfolio never overspend and nothing is lost.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPortfolioEngine, silentLogger } from '@foliokit/core';
import { createTestProvider, expectStateMatchesLedger } from '@foliokit/core/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type PreparedChild, prepareChild } from '../../../test-support/crash-harness.js';
import { createSqliteStore } from '../src/index.js';
import { tempDir } from './helpers.js';

const CASH = 600;
const ATTEMPTS = 500;
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
  // Cash for exactly CASH buys at 1; the two processes try ATTEMPTS each, starting together.
  const p = await engine.createPortfolio({ name: 'shared', initialCash: CASH });
  await setup.close();

  const children = [0, 1].map(() =>
    spawn(process.execPath, [...child.args, filename, p.id, String(ATTEMPTS)], {
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
  const results = (await Promise.all(outputs.map((o) => o.done))).map(
    (out) => JSON.parse(out.trim().split('\n').pop() as string) as { filled: string[]; errors: Record<string, number> },
  );
  const filled = results.flatMap((r) => r.filled);
  expect(filled).toHaveLength(CASH);
  expect(
    results.every((r) => r.filled.length > 0),
    'both processes traded',
  ).toBe(true);
  expect(results.flatMap((r) => Object.keys(r.errors)).filter((c) => c !== 'INSUFFICIENT_CASH')).toEqual([]);
  expect(results.reduce((n, r) => n + (r.errors.INSUFFICIENT_CASH ?? 0), 0)).toBe(2 * ATTEMPTS - CASH);

  const store = await createSqliteStore({ filename });
  try {
    expect(store.database.pragma('integrity_check', { simple: true })).toBe('ok');
    const p2 = await store.getPortfolio(p.id);
    expect(p2?.cash).toBe('0');
    const [position] = await store.listPositions(p.id);
    expect(position?.quantity).toBe(String(CASH));
    const ids = new Set((await store.listTransactions(p.id, { limit: 5000, kinds: ['buy'] })).map((t) => t.id));
    expect(filled.every((id) => ids.has(id))).toBe(true);
    expect(ids.size).toBe(CASH);
    expect(await store.listSnapshots(p.id, { kinds: ['trade'], limit: 5000 })).toHaveLength(CASH);
    await expectStateMatchesLedger(store, p.id);
  } finally {
    await store.close();
  }
});
