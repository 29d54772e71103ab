/**
 * Crash safety on PostgreSQL: a child process trading in a loop (4 trades in flight, so a kill
 * nearly always lands inside open transactions) while holding a job lock (`store.runExclusive`, a
 * session advisory lock) is killed with SIGKILL until 100 kills have landed after the child
 * acknowledged a trade (RELIABILITY.md). The loop counts kills, not time: on a busy machine it runs
 * more rounds, within a generous cap that fails loudly. After each kill: the child's connections
 * are gone, no advisory lock is left and the job lock can be taken again, every acknowledged trade
 * is there, and cash, positions and FIFO lots equal a replay of the ledger.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPortfolioEngine, type MarketDataProvider, silentLogger } from '@foliokit/core';
import { expectStateMatchesLedger } from '@foliokit/core/testing';
import { createPostgresStore, type PostgresStore } from '@foliokit/store-postgres';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CrashRound, prepareChild, runCrashRounds } from '../../../test-support/crash-harness.js';
import { dropSchema, PG_URL, schemaName } from './support/pg.js';

const here = dirname(fileURLToPath(import.meta.url));
const schema = schemaName('crash');
const appName = `foliokit-crash-${schema}`;
const jobKey = 'job:crash-test';
/** Kills that must land after the child acknowledged at least one entry. */
const KILLS = 100;
/** The loop fails loudly when it has not reached {@link KILLS} by then (a quiet machine needs ~25 s). */
const CAP_MS = 300_000;
let store: PostgresStore;
/** One connection for the checks around each kill (a connection per query costs more than the query). */
let watcher: pg.Client;

/** Runs a query on the watcher connection. */
async function watch<T>(text: string, values: unknown[] = []): Promise<T[]> {
  return (await watcher.query(text, values)).rows as T[];
}

const noMarket: MarketDataProvider = {
  name: 'none',
  getQuotes: async (symbols) => ({ quotes: {}, unknown: [...symbols] }),
  getDailyHistory: async () => [],
};

beforeAll(async () => {
  store = await createPostgresStore({ connectionString: PG_URL, schema });
  watcher = new pg.Client({ connectionString: PG_URL });
  await watcher.connect();
});

afterAll(async () => {
  await watcher?.end();
  await store?.close();
  await dropSchema(schema);
});

/** Backends the child left, after waiting up to 5 s for the server to notice the dead sockets. */
async function childBackends(): Promise<number> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const [row] = await watch<{ n: string }>(
      'select count(*)::text as n from pg_stat_activity where application_name = $1',
      [appName],
    );
    const n = Number(row?.n);
    if (n === 0 || Date.now() > deadline) return n;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Holders of the job's advisory lock (runExclusive locks hashtextextended('foliokit:<schema>:<key>')). */
async function jobLocks(): Promise<string | undefined> {
  const [row] = await watch<{ n: string }>(
    `select count(*)::text as n from pg_locks where locktype = 'advisory' and granted
       and database = (select oid from pg_database where datname = current_database())
       and classid = ((hashtextextended($1, 0) >> 32) & 4294967295)::oid and objid = (hashtextextended($1, 0) & 4294967295)::oid`,
    [`foliokit:${schema}:${jobKey}`],
  );
  return row?.n;
}

it(
  'survives SIGKILL mid-trade: nothing lost, nothing half-applied, no lock left',
  async () => {
    const engine = createPortfolioEngine({ store, marketData: noMarket, logger: silentLogger });
    const ids = [
      (await engine.createPortfolio({ name: 'avg', initialCash: '1000000' })).id,
      (await engine.createPortfolio({ name: 'fifo', initialCash: '1000000', costBasisMethod: 'fifo' })).id,
      (await engine.createPortfolio({ name: 'poor', initialCash: '2500', costBasisMethod: 'fifo' })).id,
    ];
    const url = new URL(PG_URL);
    url.searchParams.set('application_name', appName);
    const child = await prepareChild(join(here, 'fixtures/crash-child.ts'), ['pg', 'pg-native']);
    let midTransaction = 0;
    let jobLockSeenHeld = false;
    let acknowledged = 0;
    const rounds: CrashRound[] = [];
    const acknowledgedKills = () => rounds.filter((r) => r.acked.length > 0).length;
    const cap = Date.now() + CAP_MS;
    try {
      // Each batch runs as many rounds as kills are still missing; kills before the first
      // acknowledgement do not count, so a busy machine runs another batch.
      while (acknowledgedKills() < KILLS) {
        await runCrashRounds({
          args: [...child.args, url.toString(), schema, jobKey, ...ids],
          cwd: join(here, '..'),
          rounds: KILLS - acknowledgedKills(),
          maxTradingMs: 150,
          earlyKillShare: 0,
          prewarm: child.bundled ? 1 : 2,
          beforeKill: async () => {
            // While the child lives (it reported ready from inside runExclusive) the lock is visibly held.
            jobLockSeenHeld = (await jobLocks()) === '1';
            const [row] = await watch<{ n: string }>(
              'select count(*)::text as n from pg_stat_activity where application_name = $1 and xact_start is not null',
              [appName],
            );
            if (row?.n !== '0') midTransaction++;
          },
          check: async (r: CrashRound) => {
            const { acked } = r;
            const round = rounds.length;
            expect(await childBackends(), `round ${round}: connections of the dead child`).toBe(0);
            expect(await jobLocks(), `round ${round}: the dead child's job lock`).toBe('0');
            expect(jobLockSeenHeld, 'the lock check sees a held lock').toBe(true);
            expect(await store.runExclusive?.(jobKey, async () => 'mine'), `round ${round}: job lock`).toEqual({
              ran: true,
              value: 'mine',
            });
            const [found] = await watch<{ n: number }>(
              `select count(*)::int as n from "${schema}".transactions where id = any($1)`,
              [acked],
            );
            expect(found?.n, `round ${round}: acknowledged entries`).toBe(acked.length);
            for (const id of ids) await expectStateMatchesLedger(store, id);
            acknowledged += acked.length;
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
    expect(acknowledgedKills()).toBe(KILLS);
    // The kills must hit open transactions, not only the gaps between them.
    expect(midTransaction).toBeGreaterThan(0);
    console.info(
      `postgres crash: ${rounds.length} kills, ${KILLS} after an acknowledgement, ${midTransaction} inside an open transaction, ${acknowledged} acknowledged entries`,
    );
  },
  CAP_MS + 60_000,
);
