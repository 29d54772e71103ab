/**
 * Several engine instances on one PostgreSQL schema, each with its own pool and its own manual
 * clock, schedulers running: each daily tick is run once across them (advisory lock + job-run
 * records), and a runner that dies part-way is finished by another, with no row duplicated or
 * missing.
 */
import { createPortfolioEngine, type PortfolioEngine, type Store, silentLogger } from '@foliokit/core';
import type { FoliokitDatabase } from '@foliokit/core/sql';
import { createManualClock, createTestProvider, type ManualClock, type TestProvider } from '@foliokit/core/testing';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore, type PostgresStore } from '../src/index.js';
import { admin, dropSchema, PG_URL, schemaName } from './support/pg.js';

const DAY = 86_400_000;
const SYMBOLS = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE', 'FFF', 'GGG', 'HHH', 'III', 'JJJ'];
const PRICES = Object.fromEntries(SYMBOLS.map((s, i) => [s, `${10 + i}.5`]));

/** Seeds portfolios with 10 positions each by bulk insert (the engine is not what this tests). */
async function seed(db: Kysely<FoliokitDatabase>, count: number, prefix: string): Promise<string[]> {
  const at = '2026-01-01T00:00:00.000Z';
  const ids = Array.from({ length: count }, (_, i) => `pf_${prefix}_${String(i).padStart(6, '0')}`);
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    await db
      .insertInto('portfolios')
      .values(
        chunk.map((id) => ({
          id,
          owner_id: null,
          name: id,
          description: null,
          base_currency: 'USD',
          cost_basis_method: 'average',
          cash: '1000',
          net_deposits: '2000',
          realized_pnl: '0',
          created_at: at,
          updated_at: at,
        })),
      )
      .execute();
    await db
      .insertInto('positions')
      .values(
        chunk.flatMap((id) =>
          SYMBOLS.map((symbol) => ({
            portfolio_id: id,
            symbol,
            quantity: '2',
            cost_basis: '20',
            realized_pnl: '0',
            opened_at: at,
            updated_at: at,
          })),
        ),
      )
      .execute();
  }
  return ids;
}

/** Σ 2 × (10.5 + 11.5 + … + 19.5) = 300, plus 1000 cash. */
const TOTAL = '1300';

interface Instance {
  store: PostgresStore;
  engine: PortfolioEngine;
  clock: ManualClock;
  provider: TestProvider;
}

function instance(store: PostgresStore, start: string, batchSize = 1000): Instance {
  const clock = createManualClock(start);
  const provider = createTestProvider({ prices: PRICES, clock });
  const engine = createPortfolioEngine({
    store,
    marketData: provider,
    clock,
    logger: silentLogger,
    snapshots: { batchSize },
  });
  return { store, engine, clock, provider };
}

async function count(schema: string, where = "kind = 'daily'"): Promise<{ rows: number; distinct: number }> {
  const [r] = await admin<{ rows: string; distinct: string }>(
    `select count(*) as rows, count(distinct (portfolio_id, day)) as distinct from "${schema}".snapshots where ${where}`,
  );
  return { rows: Number(r?.rows), distinct: Number(r?.distinct) };
}

/** Advisory locks held on this schema's job keys. */
async function heldLocks(schema: string): Promise<number[]> {
  const rows = await admin<{ pid: number }>(
    `select l.pid from pg_locks l
      cross join (select hashtextextended('foliokit:' || $1 || ':job:daily-snapshots', 0) as h) k
      where l.locktype = 'advisory' and l.granted
        and l.classid::bigint = ((k.h >> 32) & 4294967295) and l.objid::bigint = (k.h & 4294967295)`,
    [schema],
  );
  return rows.map((r) => r.pid);
}

describe('three instances, 20 midnights, 1,000 portfolios', () => {
  const schema = schemaName('sched');
  const instances: Instance[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      const store = await createPostgresStore({ connectionString: PG_URL, schema, maxConnections: 4 });
      instances.push(instance(store, '2026-01-05T23:59:00.000Z'));
    }
    await seed((instances[0] as Instance).store.db, 1000, 'm');
  });

  afterAll(async () => {
    for (const i of instances) {
      await i.engine.close();
      await i.store.close();
    }
    await dropSchema(schema);
  });

  it('records exactly one daily snapshot per portfolio and day', async () => {
    for (const i of instances)
      i.engine.startScheduler({ prices: false, interval: false, instanceId: `node-${instances.indexOf(i)}` });
    const all = <T>(fn: (i: Instance) => Promise<T>) => Promise.all(instances.map(fn));
    await all((i) => i.clock.advance(0));
    await all((i) => i.engine.whenJobsIdle());
    const first = Date.parse('2026-01-06T00:00:00.000Z');
    for (let d = 0; d < 20; d++) {
      const midnight = first + d * DAY;
      await all((i) => i.clock.advanceTo(midnight + 1000));
      await all((i) => i.engine.whenJobsIdle());
      // Instances that found the tick held retry it a minute later, and find it done.
      await all((i) => i.clock.advanceTo(midnight + 180_000));
      await all((i) => i.engine.whenJobsIdle());
    }
    expect(await count(schema)).toEqual({ rows: 20_000, distinct: 20_000 });
    const days = await admin<{ day: string; n: string }>(
      `select to_char(day, 'YYYY-MM-DD') as day, count(*) as n from "${schema}".snapshots where kind = 'daily' group by day order by day`,
    );
    expect(days).toHaveLength(20);
    expect(days[0]).toEqual({ day: '2026-01-05', n: '1000' });
    expect(days[19]).toEqual({ day: '2026-01-24', n: '1000' });
    const values = await admin<{ total_value: string }>(`select distinct total_value::text from "${schema}".snapshots`);
    expect(values.map((v) => Number(v.total_value))).toEqual([Number(TOTAL)]);
    const runs = await admin<{ status: string; n: string }>(
      `select status, count(*) as n from "${schema}".job_runs where job = 'daily-snapshots' group by status`,
    );
    // 20 days, and the first start's catch-up record.
    expect(runs).toEqual([{ status: 'completed', n: '21' }]);
    const ran = instances.map(
      (i) => i.engine.getSchedulerStatus().jobs.find((j) => j.name === 'daily-snapshots')?.runCount ?? 0,
    );
    expect(ran.reduce((a, b) => a + b, 0)).toBe(21);
    for (const i of instances) await i.engine.stopScheduler();
    for (const i of instances) expect(i.clock.pending()).toBe(0);
    expect(await heldLocks(schema)).toEqual([]);
  });
});

describe('a runner that dies part-way', () => {
  const schema = schemaName('schkill');
  const stores: PostgresStore[] = [];
  const pools: pg.Pool[] = [];

  /** A store on a pool whose clients never crash the process when the server kills them. */
  async function store(): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 4 });
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    pools.push(pool);
    const s = await createPostgresStore({ pool, schema });
    stores.push(s);
    return s;
  }

  afterAll(async () => {
    for (const s of stores) await s.close();
    for (const p of pools) await p.end();
    await dropSchema(schema);
  });

  it('is finished by another instance when its lock session dies; nothing duplicated or missing', async () => {
    const realA = await store();
    await seed(realA.db, 200, 'k');
    // A hangs reading its second batch, with the first batch written.
    let calls = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let reached: () => void = () => {};
    const atGate = new Promise<void>((r) => {
      reached = r;
    });
    const hanging = {
      ...realA,
      readPortfolioStates: async (ids: readonly string[]) => {
        if (++calls === 2) {
          reached();
          await gate;
        }
        return realA.readPortfolioStates(ids);
      },
    } as PostgresStore;
    const a = instance(hanging, '2026-01-05T23:59:00.000Z', 50);
    const b = instance(await store(), '2026-01-05T23:59:00.000Z', 50);
    const c = instance(await store(), '2026-01-05T23:59:00.000Z', 50);
    const opts = (id: string) => ({
      prices: false as const,
      interval: false as const,
      daily: { catchUpDays: 0 },
      instanceId: id,
    });
    a.engine.startScheduler(opts('A'));
    b.engine.startScheduler(opts('B'));
    c.engine.startScheduler(opts('C'));
    const midnight = '2026-01-06T00:00:00.000Z';
    await a.clock.advanceTo(midnight);
    await atGate;
    expect(await count(schema)).toEqual({ rows: 50, distinct: 50 }); // half-written, and marked running:
    expect(await admin(`select run_key, status, instance from "${schema}".job_runs`)).toEqual([
      { run_key: '2026-01-05', status: 'running', instance: 'A' },
    ]);
    await Promise.all([b.clock.advanceTo(midnight), c.clock.advanceTo(midnight)]);
    await Promise.all([b.engine.whenJobsIdle(), c.engine.whenJobsIdle()]);
    const status = (i: Instance) => i.engine.getSchedulerStatus().jobs.find((j) => j.name === 'daily-snapshots');
    expect(status(b)).toMatchObject({ lastResult: 'skipped', runCount: 0 });
    expect(status(c)).toMatchObject({ lastResult: 'skipped', runCount: 0 });

    // A's process "dies": the server ends its session, and with it the advisory lock.
    const holders = await heldLocks(schema);
    expect(holders).toHaveLength(1);
    await admin('select pg_terminate_backend($1)', [holders[0]]);
    for (let i = 0; i < 50 && (await heldLocks(schema)).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await heldLocks(schema)).toEqual([]);

    // B's and C's retries, a minute later: one of them takes the lock, sees the dead run, runs the day whole.
    await Promise.all([b.clock.advance(61_000), c.clock.advance(61_000)]);
    await Promise.all([b.engine.whenJobsIdle(), c.engine.whenJobsIdle()]);
    expect(await count(schema)).toEqual({ rows: 200, distinct: 200 });
    const [run] = await admin<{ status: string; instance: string }>(
      `select status, instance from "${schema}".job_runs`,
    );
    expect(run?.status).toBe('completed');
    expect(['B', 'C']).toContain(run?.instance);
    expect((status(b)?.runCount ?? 0) + (status(c)?.runCount ?? 0)).toBe(1);

    // The zombie wakes up and finishes too: its upserts replace, they never duplicate.
    release();
    await a.engine.whenJobsIdle();
    expect(await count(schema)).toEqual({ rows: 200, distinct: 200 });
    const totals = await admin<{ total_value: string }>(`select distinct total_value::text from "${schema}".snapshots`);
    expect(totals.map((t) => Number(t.total_value))).toEqual([Number(TOTAL)]);
    for (const i of [a, b, c]) {
      await i.engine.stopScheduler();
      expect(i.clock.pending()).toBe(0);
      await i.engine.close();
    }
    expect(await heldLocks(schema)).toEqual([]);
  });

  it('is rerun whole by the next instance when it fails part-way', async () => {
    await admin(`delete from "${schema}".snapshots; delete from "${schema}".job_runs`);
    const realA = await store();
    let pages = 0;
    // A's store fails on its second page of portfolios: the run fails with one batch written.
    const failing: Store = {
      ...realA,
      listPortfolios: async (q) => {
        if (++pages === 2) throw new Error('connection reset');
        return realA.listPortfolios(q);
      },
    };
    const a = instance(realA, '2026-01-05T23:59:00.000Z', 50);
    const aEngine = createPortfolioEngine({
      store: failing,
      marketData: a.provider,
      clock: a.clock,
      logger: silentLogger,
      snapshots: { batchSize: 50 },
    });
    const b = instance(await store(), '2026-01-05T23:59:00.000Z', 50);
    const opts = (id: string) => ({
      prices: false as const,
      interval: false as const,
      daily: { catchUpDays: 0 },
      instanceId: id,
    });
    aEngine.startScheduler(opts('A'));
    b.engine.startScheduler(opts('B'));
    const midnight = '2026-01-06T00:00:00.000Z';
    await a.clock.advanceTo(midnight);
    await aEngine.whenJobsIdle();
    expect(aEngine.getSchedulerStatus().jobs[0]).toMatchObject({ lastResult: 'failed', consecutiveFailures: 1 });
    expect(await count(schema)).toEqual({ rows: 50, distinct: 50 });
    expect(await admin(`select status from "${schema}".job_runs`)).toEqual([{ status: 'failed' }]);
    await b.clock.advanceTo(midnight);
    await b.engine.whenJobsIdle();
    expect(await count(schema)).toEqual({ rows: 200, distinct: 200 });
    expect(await admin(`select status, instance from "${schema}".job_runs`)).toEqual([
      { status: 'completed', instance: 'B' },
    ]);
    await aEngine.close();
    await b.engine.close();
    expect(a.clock.pending() + b.clock.pending()).toBe(0);
    expect(await heldLocks(schema)).toEqual([]);
  });
});
