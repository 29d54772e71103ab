/**
 * PostgreSQL defects of issue #9: `close()` with trades in flight (1), hourly buckets on a non-UTC
 * session (6), odd `schema` names (7), and instants and days of early years on a non-UTC session
 * (10).
 */
import { createPortfolioEngine, type PortfolioRow, type SnapshotRow, silentLogger } from '@foliokit/core';
import { codeOf, createManualClock, createTestProvider } from '@foliokit/core/testing';
import { createPostgresStore, type PostgresStore } from '@foliokit/store-postgres';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { admin, dropSchema, PG_URL, schemaName } from './support/pg.js';

const schemas: string[] = [];
function fresh(prefix: string): string {
  const s = schemaName(prefix);
  schemas.push(s);
  return s;
}

afterAll(async () => {
  for (const s of schemas) await dropSchema(s);
});

/** A pool whose sessions run with these settings (`-c name=value`). */
function sessionPool(settings: Record<string, string>, max = 3): pg.Pool {
  const options = Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${v.replace(/ /g, '\\ ')}`)
    .join(' ');
  const pool = new pg.Pool({ connectionString: PG_URL, max, options } as pg.PoolConfig);
  pool.on('error', () => {});
  return pool;
}

function portfolioRow(id: string, at: string): PortfolioRow {
  return {
    id,
    ownerId: null,
    name: id,
    description: null,
    baseCurrency: 'USD',
    costBasisMethod: 'average',
    cash: '0',
    netDeposits: '0',
    realizedPnl: '0',
    ledgerAt: null,
    createdAt: at,
    updatedAt: at,
  };
}

function snapshot(portfolioId: string, at: string, cash: string): SnapshotRow {
  return {
    portfolioId,
    at,
    day: at.slice(0, 10),
    kind: 'interval',
    cash,
    marketValue: '0',
    totalValue: cash,
    costBasis: '0',
    unrealizedPnl: '0',
    realizedPnl: '0',
    netDeposits: cash,
    flags: [],
  };
}

describe('close() with trades in flight (defect 1)', () => {
  const cases: Array<[string, () => Promise<{ store: PostgresStore; end?: () => Promise<void> }>]> = [
    [
      'a pool the store created (maxConnections 1)',
      async () => ({
        store: await createPostgresStore({ connectionString: PG_URL, schema: fresh('close'), maxConnections: 1 }),
      }),
    ],
    [
      'a pool the app lends (max 2, pipelining)',
      async () => {
        const pool = new pg.Pool({ connectionString: PG_URL, max: 2, pipeline: true } as pg.PoolConfig);
        return { store: await createPostgresStore({ pool, schema: fresh('close') }), end: () => pool.end() };
      },
    ],
  ];
  for (const [name, open] of cases) {
    it(`settles every call: done, or STORE_CLOSED with nothing written (${name})`, { timeout: 120_000 }, async () => {
      const { store, end } = await open();
      const schema = store.schema;
      try {
        const clock = createManualClock('2026-03-02T15:00:00.000Z');
        const engine = createPortfolioEngine({ store, marketData: createTestProvider(), clock, logger: silentLogger });
        const p = await engine.createPortfolio({ name: 'close', initialCash: 1000 });
        const trades = Promise.allSettled(
          Array.from({ length: 20 }, () => engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1, price: 10 })),
        );
        // Let a few statements reach the server, then close under them.
        await new Promise((resolve) => setImmediate(resolve));
        await store.close();
        const settled = await trades;
        const done = settled.filter((s) => s.status === 'fulfilled').length;
        for (const s of settled) {
          if (s.status === 'rejected') expect(s.reason).toMatchObject({ code: 'STORE_CLOSED' });
        }
        expect(settled.some((s) => s.status === 'rejected')).toBe(true);
        // Nothing half-written, and nothing written after close: the ledger has exactly the trades
        // that answered, and cash agrees with them.
        const [row] = await admin<{ cash: string; buys: number }>(
          `select p.cash, (select count(*)::int from "${schema}".transactions t
             where t.portfolio_id = p.id and t.kind = 'buy') as buys
           from "${schema}".portfolios p where p.id = $1`,
          [p.id],
        );
        expect(row).toEqual({ cash: String(1000 - 10 * done), buys: done });
        expect(await codeOf(store.getPortfolio(p.id))).toBe('STORE_CLOSED');
      } finally {
        await store.close();
        await end?.();
      }
    });
  }
});

describe('hourly buckets on a non-UTC session (defect 6)', () => {
  it('buckets by the UTC hour whatever the session TimeZone', async () => {
    const pool = sessionPool({ TimeZone: 'Asia/Kolkata' });
    const store = await createPostgresStore({ pool, schema: fresh('bucket') });
    try {
      await store.createPortfolio(portfolioRow('pf_b', '2026-03-02T00:00:00.000Z'));
      // 10:10 and 10:40 UTC share the UTC hour 10 but fall in two +05:30 hours (15:40, 16:10).
      const rows = [
        snapshot('pf_b', '2026-03-02T10:10:00.000Z', '1'),
        snapshot('pf_b', '2026-03-02T10:40:00.000Z', '2'),
        snapshot('pf_b', '2026-03-02T11:20:00.000Z', '3'),
        snapshot('pf_b', '2026-03-02T11:50:00.000Z', '4'),
      ];
      await store.insertSnapshots(rows);
      const hourly = await store.listSnapshots('pf_b', { bucket: 'hour' });
      expect(hourly.map((s) => s.at)).toEqual(['2026-03-02T10:40:00.000Z', '2026-03-02T11:50:00.000Z']);
    } finally {
      await store.close();
      await pool.end();
    }
  });
});

describe('schema option (defect 7)', () => {
  it('refuses a schema name that is not a plain identifier, naming the field', async () => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 1 });
    try {
      for (const schema of [
        'a.b',
        ' foliokit',
        'foliokit ',
        '',
        'x'.repeat(64),
        'é'.repeat(32),
        '1abc',
        'a"b',
        'a-b',
      ]) {
        const error = await createPostgresStore({ pool, schema }).then(
          async (store) => {
            schemas.push(schema);
            await store.close();
            return undefined;
          },
          (e: unknown) => e,
        );
        expect(error, JSON.stringify(schema)).toMatchObject({
          code: 'INVALID_CONFIGURATION',
          details: { field: 'schema' },
        });
      }
      // The longest name allowed still opens.
      const longest = `s${'x'.repeat(62)}`;
      schemas.push(longest);
      const store = await createPostgresStore({ pool, schema: longest });
      await store.close();
    } finally {
      await pool.end();
    }
  });
});

describe('early years on a non-UTC session (defect 10)', () => {
  const sessions: Array<Record<string, string>> = [
    { TimeZone: 'Asia/Kolkata' },
    { TimeZone: 'America/New_York' },
    { TimeZone: 'Pacific/Kiritimati', DateStyle: 'SQL, DMY' },
    { TimeZone: 'America/St_Johns', DateStyle: 'German' },
    { TimeZone: 'Europe/Paris', DateStyle: 'Postgres, MDY' },
  ];
  for (const settings of sessions) {
    it(`round-trips instants and days of years 0001-9999 (${JSON.stringify(settings)})`, async () => {
      const pool = sessionPool(settings);
      const store = await createPostgresStore({ pool, schema: fresh('years') });
      try {
        const instants = [
          '0001-01-01T00:00:00.000Z',
          '0050-06-15T12:34:56.789Z',
          '0099-12-31T23:59:59.999Z',
          '1899-12-31T23:00:00.000Z',
          '2026-03-02T15:00:00.000Z',
          '9999-12-31T23:59:59.999Z',
        ];
        for (const [i, at] of instants.entries()) {
          const id = `pf_${i}`;
          await store.createPortfolio(portfolioRow(id, at));
          expect((await store.getPortfolio(id))?.createdAt).toBe(at);
          const snap = { ...snapshot(id, at, '1'), kind: 'daily' as const };
          await store.insertSnapshots([snap]);
          expect(await store.listSnapshots(id, {})).toEqual([snap]);
          expect(await store.listSnapshots(id, { bucket: 'hour' })).toEqual([snap]);
          const bar = {
            symbol: `Y${i}`,
            day: at.slice(0, 10),
            open: null,
            high: null,
            low: null,
            close: '1.5',
            adjClose: null,
            volume: null,
            source: 'test',
          };
          await store.upsertDailyBars([bar]);
          expect(await store.listDailyBars(bar.symbol, { from: bar.day, to: bar.day })).toEqual([bar]);
        }
        // Through the engine: a trade executed in year 0050 reads back in year 0050.
        const clock = createManualClock('2026-03-02T15:00:00.000Z');
        const engine = createPortfolioEngine({ store, marketData: createTestProvider(), clock, logger: silentLogger });
        await store.upsertPrices([
          {
            symbol: 'AAPL',
            price: '1',
            at: '0050-06-15T12:34:56.789Z',
            currency: 'USD',
            source: 'test',
            updatedAt: '0050-06-15T12:34:56.789Z',
          },
        ]);
        expect((await store.getPrices(['AAPL']))[0]?.at).toBe('0050-06-15T12:34:56.789Z');
        const t = await engine.deposit('pf_0', { amount: 10, at: '0050-06-15T12:34:56.789Z' });
        expect(t.executedAt).toBe('0050-06-15T12:34:56.789Z');
        const [stored] = await store.listTransactions('pf_0', { limit: 1 });
        expect(stored?.executedAt).toBe('0050-06-15T12:34:56.789Z');
      } finally {
        await store.close();
        await pool.end();
      }
    });
  }
});
