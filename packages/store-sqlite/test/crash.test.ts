/**
 * Crash safety on a SQLite file (WAL): a child process trading in a loop is killed with SIGKILL at
 * a random moment, until 100 kills have landed after the child acknowledged a trade (RELIABILITY.md),
 * plus the kills that land earlier (some on purpose while the store opens). The loop counts kills,
 * not time: on a busy machine it runs more rounds, within a generous cap that fails loudly. After
 * each kill the file is reopened: `PRAGMA integrity_check` is ok, every trade the child
 * acknowledged is there, and cash, positions and FIFO lots equal a replay of the ledger (no
 * half-applied trade).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPortfolioEngine, type MarketDataProvider, silentLogger } from '@foliokit/core';
import { expectStateMatchesLedger } from '@foliokit/core/testing';
import { createSqliteStore } from '@foliokit/store-sqlite';
import { afterAll, expect, it } from 'vitest';
import { type CrashRound, prepareChild, runCrashRounds } from '../../../test-support/crash-harness.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Kills that must land after the child acknowledged at least one entry. */
const KILLS = 100;
/** The loop fails loudly when it has not reached {@link KILLS} by then (a quiet machine needs ~15 s). */
const CAP_MS = 300_000;
const dir = mkdtempSync(join(tmpdir(), 'foliokit-crash-'));
const filename = join(dir, 'crash.db');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const noMarket: MarketDataProvider = {
  name: 'none',
  getQuotes: async (symbols) => ({ quotes: {}, unknown: [...symbols] }),
  getDailyHistory: async () => [],
};

it(
  `survives ${KILLS} SIGKILLs at random moments while trading, with every acknowledged trade whole`,
  async () => {
    const setup = await createSqliteStore({ filename });
    const engine = createPortfolioEngine({ store: setup, marketData: noMarket, logger: silentLogger });
    const ids = [
      (await engine.createPortfolio({ name: 'avg', initialCash: '1000000' })).id,
      (await engine.createPortfolio({ name: 'fifo', initialCash: '1000000', costBasisMethod: 'fifo' })).id,
      (await engine.createPortfolio({ name: 'poor', initialCash: '2500', costBasisMethod: 'fifo' })).id,
    ];
    await setup.close();

    const child = await prepareChild(join(here, 'fixtures/crash-child.ts'), ['better-sqlite3']);
    const allAcked: string[] = [];
    const rounds: CrashRound[] = [];
    const acknowledgedKills = () => rounds.filter((r) => r.acked.length > 0).length;
    const cap = Date.now() + CAP_MS;
    try {
      // Each batch runs as many rounds as kills are still missing; kills before the first
      // acknowledgement do not count, so a busy machine runs another batch.
      while (acknowledgedKills() < KILLS) {
        await runCrashRounds({
          args: [...child.args, filename, ...ids],
          cwd: join(here, '..'),
          rounds: KILLS - acknowledgedKills(),
          maxTradingMs: 120,
          prewarm: child.bundled ? 1 : 2,
          check: async (r: CrashRound) => {
            const { acked } = r;
            const round = rounds.length;
            const store = await createSqliteStore({ filename });
            try {
              expect(store.database.pragma('integrity_check', { simple: true }), `round ${round}`).toBe('ok');
              expect(store.database.pragma('foreign_key_check'), `round ${round}`).toEqual([]);
              const byId = store.database.prepare('select 1 from transactions where id = ?');
              const missing = acked.filter((id) => byId.get(id) === undefined);
              expect(missing, `round ${round}: acknowledged but missing`).toEqual([]);
              for (const id of ids) await expectStateMatchesLedger(store, id);
            } finally {
              await store.close();
            }
            allAcked.push(...acked);
            rounds.push({ ...r, round });
            if (acknowledgedKills() < KILLS && Date.now() > cap) {
              throw new Error(
                `crash loop cap: ${acknowledgedKills()} of ${KILLS} acknowledged kills after ${CAP_MS / 1000} s (${rounds.length} rounds)`,
              );
            }
          },
        });
      }
    } finally {
      child.dispose();
    }

    // Nothing acknowledged in an early round was lost by a later crash.
    const store = await createSqliteStore({ filename });
    try {
      const byId = store.database.prepare('select 1 from transactions where id = ?');
      expect(allAcked.filter((id) => byId.get(id) === undefined)).toEqual([]);
    } finally {
      await store.close();
    }
    expect(acknowledgedKills()).toBe(KILLS);
    console.info(
      `sqlite crash: ${rounds.length} kills, ${KILLS} after an acknowledgement, ${rounds.filter((r) => r.beforeReady).length} while opening, ${allAcked.length} acknowledged entries`,
    );
  },
  CAP_MS + 60_000,
);
