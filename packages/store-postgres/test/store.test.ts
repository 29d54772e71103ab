/**
 * What is particular to the PostgreSQL store: options, pools it owns or borrows, schemas,
 * concurrent migrations, per-pool type parsing, exact decimals, session time zones, and the
 * hot path's contract (lock first, read after the lock, roll back on any failure).
 */
import {
  createPortfolioEngine,
  FoliokitError,
  type LedgerState,
  type LedgerWrite,
  type PortfolioRow,
  type SnapshotRow,
  silentLogger,
  type TransactionRow,
} from '@foliokit/core';
import { foliokitMigrations } from '@foliokit/core/sql';
import { codeOf, createManualClock, createTestProvider } from '@foliokit/core/testing';
import { createPostgresStore, parseTimestamptz } from '@foliokit/store-postgres';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { admin, dropSchema, PG_URL, schemaName } from './support/pg.js';

const schemas: string[] = [];
function fresh(prefix = 'store'): string {
  const s = schemaName(prefix);
  schemas.push(s);
  return s;
}

afterAll(async () => {
  for (const s of schemas) await dropSchema(s);
});

const T0 = '2026-03-02T15:00:00.000Z';

function portfolioRow(id: string, cash = '0', method: 'average' | 'fifo' = 'average'): PortfolioRow {
  return {
    id,
    ownerId: null,
    name: id,
    description: null,
    baseCurrency: 'USD',
    costBasisMethod: method,
    cash,
    netDeposits: cash,
    realizedPnl: '0',
    ledgerAt: null,
    createdAt: T0,
    updatedAt: T0,
  };
}

function entry(id: string, portfolioId: string, fields: Partial<TransactionRow>): TransactionRow {
  return {
    id,
    portfolioId,
    kind: 'deposit',
    symbol: null,
    quantity: null,
    price: null,
    fee: '0',
    amount: '0',
    realizedPnl: null,
    cashAfter: '0',
    quantityAfter: null,
    idempotencyKey: null,
    requestHash: null,
    executedAt: T0,
    createdAt: T0,
    voidedAt: null,
    voidKey: null,
    ...fields,
  };
}

describe('options', () => {
  it('wants exactly one of connectionString and pool, and valid values', async () => {
    const pool = new pg.Pool({ connectionString: PG_URL });
    try {
      const bad: unknown[] = [
        undefined,
        {},
        { connectionString: PG_URL, pool },
        { connectionString: '' },
        { connectionString: PG_URL, schema: '' },
        { connectionString: PG_URL, schema: 'x'.repeat(64) },
        { connectionString: PG_URL, maxConnections: 0 },
        { pool, maxConnections: 5 },
        { pool: {} },
        { connectionString: PG_URL, migrate: 'yes' },
      ];
      for (const options of bad) {
        expect(await codeOf(createPostgresStore(options as never)), JSON.stringify(options ?? null)).toBe(
          'INVALID_CONFIGURATION',
        );
      }
    } finally {
      await pool.end();
    }
  });

  it('fails with STORE_ERROR, not a hang, when the server is not there', async () => {
    const store = createPostgresStore({ connectionString: 'postgres://postgres@127.0.0.1:1/none' });
    expect(await codeOf(store)).toBe('STORE_ERROR');
  });
});

describe('pools', () => {
  it('borrows a pool (or a factory for one) without ending it, with or without pipelining', async () => {
    for (const pipeline of [false, true]) {
      const pool = new pg.Pool({ connectionString: PG_URL, max: 3, pipeline } as pg.PoolConfig);
      try {
        const schema = fresh('pool');
        const store = await createPostgresStore({ pool: async () => pool, schema });
        const engine = createPortfolioEngine({
          store,
          marketData: createTestProvider({ prices: { AAPL: '10' } }),
          logger: silentLogger,
        });
        const p = await engine.createPortfolio({ name: 'borrowed', initialCash: 100 });
        await Promise.all([1, 2, 3, 4, 5].map(() => engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 2 })));
        expect(await codeOf(engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1 }))).toBe(
          'INSUFFICIENT_CASH',
        );
        expect((await engine.getPortfolio(p.id)).cash).toBe('0');
        await store.close();
        await store.close();
        expect(await codeOf(store.getPortfolio(p.id))).toBe('STORE_CLOSED');
        expect(await codeOf(store.applyLedgerChange({ portfolioId: p.id }, () => null))).toBe('STORE_CLOSED');
        // The pool is still the user's, and still open.
        const { rows } = await pool.query(`select cash::text from "${schema}".portfolios where id = $1`, [p.id]);
        expect(rows[0].cash).toBe('0');
      } finally {
        await pool.end();
      }
    }
  });

  it('ends the pool it created', async () => {
    const store = await createPostgresStore({ connectionString: PG_URL, schema: fresh(), maxConnections: 2 });
    const pool = store.pool as unknown as pg.Pool;
    await store.getPortfolio('pf_x');
    await store.close();
    expect(pool.ended).toBe(true);
  });
});

describe('schemas and migrations', () => {
  it('migrates a fresh schema from 4 stores opened at once, once', async () => {
    for (let round = 0; round < 5; round++) {
      const schema = fresh('mig');
      const stores = await Promise.all(
        Array.from({ length: 4 }, () => createPostgresStore({ connectionString: PG_URL, schema, maxConnections: 2 })),
      );
      const applied = await admin<{ name: string }>(`select name from "${schema}".foliokit_migration order by name`);
      expect(applied.map((r) => r.name)).toEqual(Object.keys(foliokitMigrations('postgres')).sort());
      await Promise.all(stores.map((s) => s.migrate()));
      for (const s of stores) await s.close();
    }
  });

  it('without a schema, uses the connection search_path', async () => {
    const schema = fresh('path');
    await admin(`create schema "${schema}"`);
    const url = new URL(PG_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const store = await createPostgresStore({ connectionString: url.toString() });
    try {
      expect(store.schema).toBe(schema);
      const engine = createPortfolioEngine({ store, marketData: createTestProvider(), logger: silentLogger });
      const p = await engine.createPortfolio({ name: 'on the path', initialCash: 100, costBasisMethod: 'fifo' });
      await engine.trade(p.id, { symbol: 'X', side: 'buy', quantity: 2, price: 10 });
      await engine.trade(p.id, { symbol: 'X', side: 'sell', quantity: 1, price: 12, idempotencyKey: 'k' });
      expect((await engine.getPortfolio(p.id)).cash).toBe('92');
      const [row] = await admin<{ cash: string }>(`select cash::text from "${schema}".portfolios where id = $1`, [
        p.id,
      ]);
      expect(row?.cash).toBe('92');
    } finally {
      await store.close();
    }
  });

  it('opens as an app role without CREATE on the database, in a schema made for it', async () => {
    const schema = fresh('role');
    const role = `${schema}_app`;
    await admin(`create role "${role}" login`);
    try {
      await admin(`create schema "${schema}"`);
      await admin(`grant usage, create on schema "${schema}" to "${role}"`);
      const url = new URL(PG_URL);
      url.username = role;
      const store = await createPostgresStore({ connectionString: url.toString(), schema });
      try {
        const engine = createPortfolioEngine({ store, marketData: createTestProvider(), logger: silentLogger });
        const p = await engine.createPortfolio({ name: 'least privilege', initialCash: 5 });
        expect((await engine.deposit(p.id, { amount: 1 })).cashAfter).toBe('6');
        await store.migrate();
      } finally {
        await store.close();
      }
    } finally {
      await admin(`drop schema if exists "${schema}" cascade`);
      await admin(`drop owned by "${role}"`);
      await admin(`drop role "${role}"`);
    }
  });

  it('keeps every table, constraint and reference inside its schema', async () => {
    const a = fresh('iso');
    const b = fresh('iso');
    const sa = await createPostgresStore({ connectionString: PG_URL, schema: a });
    const sb = await createPostgresStore({ connectionString: PG_URL, schema: b });
    try {
      const tables = await admin<{ table_name: string }>(
        `select table_name from information_schema.tables where table_schema = $1 order by 1`,
        [a],
      );
      expect(tables.map((t) => t.table_name)).toEqual(
        expect.arrayContaining([
          'foliokit_migration',
          'foliokit_migration_lock',
          'lots',
          'portfolios',
          'positions',
          'price_history',
          'snapshots',
          'symbols',
          'transactions',
          'watchlist',
        ]),
      );
      const refs = await admin<{ target: string }>(
        `select distinct confrelid::regclass::text as target from pg_constraint where contype = 'f' and connamespace = $1::regnamespace`,
        [a],
      );
      expect(refs.length).toBeGreaterThan(0);
      for (const r of refs) expect(r.target.startsWith(`${a}.`), r.target).toBe(true);
      await sa.createPortfolio(portfolioRow('pf_only_in_a', '5'));
      expect(await sb.getPortfolio('pf_only_in_a')).toBeNull();
      expect(await codeOf(sb.applyLedgerChange({ portfolioId: 'pf_only_in_a' }, () => null))).toBe(
        'PORTFOLIO_NOT_FOUND',
      );
      expect((await sa.getPortfolio('pf_only_in_a'))?.cash).toBe('5');
      expect(sa.supportsMultiInstance).toBe(true);
      expect(sa.name).toBe('postgres');
    } finally {
      await sa.close();
      await sb.close();
    }
  });
});

/** Decimals of 18 significant digits, 10 of them decimal places, and other edges. */
const DIGITS = [
  '12345678.0123456789',
  '99999999.9999999999',
  '10000000.0000000001',
  '0.0000000001',
  '123456789012345678',
];

describe('exact values', () => {
  it('round-trips 18 significant digits with 10 decimal places through every path', async () => {
    const store = await createPostgresStore({ connectionString: PG_URL, schema: fresh('dec') });
    try {
      for (const [i, d] of DIGITS.entries()) {
        const id = `pf_digits_${i}`;
        await store.createPortfolio(
          portfolioRow(id, d, 'fifo'),
          entry(`tx_open_${i}`, id, { amount: d, cashAfter: d }),
        );
        expect((await store.getPortfolio(id))?.cash).toBe(d);
        const neg = `-${d}`;
        const write: LedgerWrite = {
          portfolioId: id,
          portfolio: {
            cash: d,
            netDeposits: d,
            realizedPnl: neg,
            ledgerAt: null,
            updatedAt: '2026-03-02T15:00:01.001Z',
          },
          position: {
            portfolioId: id,
            symbol: 'X',
            quantity: d,
            costBasis: d,
            realizedPnl: neg,
            openedAt: '2026-03-02T15:00:01.001Z',
            updatedAt: '2026-03-02T15:00:01.001Z',
          },
          lots: {
            insert: [
              {
                id: `lot_${i}`,
                portfolioId: id,
                symbol: 'X',
                openedAt: '2026-03-02T15:00:01.001Z',
                quantity: d,
                costBasis: d,
              },
            ],
            update: [],
            delete: [],
          },
          transaction: entry(`tx_${i}`, id, {
            kind: 'buy',
            symbol: 'X',
            quantity: d,
            price: d,
            fee: d,
            amount: neg,
            realizedPnl: neg,
            cashAfter: d,
            quantityAfter: d,
            idempotencyKey: 'key',
            requestHash: 'hash',
            executedAt: '2026-03-02T15:00:01.001Z',
          }),
          snapshot: {
            portfolioId: id,
            at: '2026-03-02T15:00:01.001Z',
            day: '2026-03-02',
            kind: 'trade',
            cash: d,
            marketValue: d,
            totalValue: d,
            costBasis: d,
            unrealizedPnl: neg,
            realizedPnl: neg,
            netDeposits: d,
            flags: ['X:stale'],
          },
        };
        await store.applyLedgerChange({ portfolioId: id, symbol: 'X' }, () => write);
        // Read back through the hot path's own reads...
        let seen: LedgerState | undefined;
        await store.applyLedgerChange(
          { portfolioId: id, symbol: 'X', loadLots: true, loadAllPositions: true, idempotencyKey: 'key' },
          (s) => {
            seen = s;
            return null;
          },
        );
        expect(seen?.portfolio).toMatchObject({ ...write.portfolio, createdAt: T0 });
        expect(seen?.position).toEqual(write.position);
        expect(seen?.positions).toEqual([write.position]);
        expect(seen?.lots).toEqual(write.lots?.insert);
        expect(seen?.existing).toEqual(write.transaction);
        // ...and through the store's getters.
        expect(await store.listPositions(id)).toEqual([write.position]);
        expect(await store.listLots(id)).toEqual(write.lots?.insert);
        expect((await store.listTransactions(id, { limit: 1 }))[0]).toEqual(write.transaction);
        expect(await store.listSnapshots(id, {})).toEqual([write.snapshot]);
        // What the database holds, printed by the database.
        const raw = await admin<{ cash: string; quantity: string }>(
          `select p.cash::text, x.quantity::text from "${store.schema}".portfolios p join "${store.schema}".positions x on x.portfolio_id = p.id where p.id = $1`,
          [id],
        );
        expect(raw).toEqual([{ cash: d, quantity: d }]);
      }
      await store.upsertPrices([
        { symbol: 'X', price: DIGITS[0] as string, at: T0, currency: 'USD', source: 's', updatedAt: T0 },
      ]);
      expect((await store.getPrices(['X']))[0]?.price).toBe(DIGITS[0]);
    } finally {
      await store.close();
    }
  });

  it('round-trips decimals through the engine', async () => {
    const store = await createPostgresStore({ connectionString: PG_URL, schema: fresh('dec') });
    try {
      const engine = createPortfolioEngine({ store, marketData: createTestProvider(), logger: silentLogger });
      const p = await engine.createPortfolio({ name: 'digits', initialCash: '12345678.0123456789' });
      await engine.deposit(p.id, { amount: '99999999.9999999999' });
      const t = await engine.trade(p.id, {
        symbol: 'X',
        side: 'buy',
        quantity: '1234567.0123456789',
        price: '0.0000000001',
      });
      expect(t.quantity).toBe('1234567.0123456789');
      expect(t.amount).toBe('-0.00012345670123456789');
      const s = await engine.trade(p.id, {
        symbol: 'X',
        side: 'sell',
        quantity: '0.0000000001',
        price: '12345678.0123456789',
      });
      expect(s.price).toBe('12345678.0123456789');
      const [pos] = await engine.getPositions(p.id);
      expect(pos?.quantity).toBe('1234567.0123456788');
      expect((await engine.getPortfolio(p.id)).cash).toBe(
        (
          await admin<{ c: string }>(`select cash::text as c from "${store.schema}".portfolios where id = $1`, [p.id])
        )[0]?.c,
      );
    } finally {
      await store.close();
    }
  });

  it('keeps its parsers when the app changed pg.types globally', async () => {
    const saved = [1700, 1082, 1184].map((oid) => [oid, pg.types.getTypeParser(oid, 'text')] as const);
    pg.types.setTypeParser(1700, (v: string) => Number.parseFloat(v));
    pg.types.setTypeParser(1082, () => 'not a day');
    pg.types.setTypeParser(1184, () => 'not an instant');
    const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
    try {
      for (const store of [
        await createPostgresStore({ connectionString: PG_URL, schema: fresh('types') }),
        await createPostgresStore({ pool, schema: fresh('types') }),
      ]) {
        await store.createPortfolio(portfolioRow('pf_types', '12345678.0123456789'));
        expect(await store.getPortfolio('pf_types')).toEqual(portfolioRow('pf_types', '12345678.0123456789'));
        const snap: SnapshotRow = {
          portfolioId: 'pf_types',
          at: T0,
          day: '2026-03-01',
          kind: 'daily',
          cash: '0.1234567890123456789',
          marketValue: '0',
          totalValue: '0',
          costBasis: '0',
          unrealizedPnl: '0',
          realizedPnl: '0',
          netDeposits: '0',
          flags: [],
        };
        await store.insertSnapshots([snap]);
        expect(await store.listSnapshots('pf_types', {})).toEqual([snap]);
        await store.close();
      }
    } finally {
      for (const [oid, parser] of saved) pg.types.setTypeParser(oid, parser);
      await pool.end();
    }
  });

  it('reads instants and days right whatever the session time zone', async () => {
    for (const zone of ['Asia/Kolkata', 'America/St_Johns', 'Pacific/Kiritimati']) {
      const url = new URL(PG_URL);
      url.searchParams.set('options', `-c TimeZone=${zone}`);
      const store = await createPostgresStore({ connectionString: url.toString(), schema: fresh('tz') });
      try {
        const client = await store.pool.connect();
        try {
          expect((await client.query({ text: 'show timezone' })).rows[0]).toEqual({ TimeZone: zone });
        } finally {
          client.release();
        }
        const clock = createManualClock('2026-03-01T23:30:00.123Z');
        const engine = createPortfolioEngine({ store, marketData: createTestProvider(), clock, logger: silentLogger });
        const p = await engine.createPortfolio({
          name: zone,
          initialCash: 10,
          initialCashAt: '2026-02-28T00:00:00.000Z',
        });
        expect(p.createdAt).toBe('2026-03-01T23:30:00.123Z');
        expect((await engine.getPortfolio(p.id)).createdAt).toBe('2026-03-01T23:30:00.123Z');
        const t = await engine.trade(p.id, {
          symbol: 'X',
          side: 'buy',
          quantity: 1,
          price: 1,
          at: '2026-03-01T00:00:00.001Z',
        });
        expect(t.executedAt).toBe('2026-03-01T00:00:00.001Z');
        expect((await store.listTransactions(p.id, { limit: 1, kinds: ['buy'] }))[0]?.executedAt).toBe(
          '2026-03-01T00:00:00.001Z',
        );
        expect((await store.listPositions(p.id))[0]?.openedAt).toBe('2026-03-01T00:00:00.001Z');
        let seen: LedgerState | undefined;
        await store.applyLedgerChange({ portfolioId: p.id, symbol: 'X' }, (s) => {
          seen = s;
          return null;
        });
        expect(seen?.position?.openedAt).toBe('2026-03-01T00:00:00.001Z');
        expect(seen?.portfolio.createdAt).toBe('2026-03-01T23:30:00.123Z');
        const snap: SnapshotRow = {
          portfolioId: p.id,
          at: '2026-03-01T23:59:59.999Z',
          day: '2026-03-01',
          kind: 'daily',
          cash: '9',
          marketValue: '1',
          totalValue: '10',
          costBasis: '1',
          unrealizedPnl: '0',
          realizedPnl: '0',
          netDeposits: '10',
          flags: [],
        };
        await store.insertSnapshots([snap]);
        expect(await store.listSnapshots(p.id, { from: '2026-03-01T23:59:59.999Z' })).toEqual([snap]);
      } finally {
        await store.close();
      }
    }
  });

  it('parses PostgreSQL timestamptz text in any offset', () => {
    expect(parseTimestamptz('2026-03-02 15:00:00+00')).toBe('2026-03-02T15:00:00.000Z');
    expect(parseTimestamptz('2026-03-02 15:00:00.1+00')).toBe('2026-03-02T15:00:00.100Z');
    expect(parseTimestamptz('2026-03-02 15:00:00.123456+00')).toBe('2026-03-02T15:00:00.123Z');
    expect(parseTimestamptz('2026-03-02 20:30:00.5+05:30')).toBe('2026-03-02T15:00:00.500Z');
    expect(parseTimestamptz('2026-03-02 11:30:00-03:30')).toBe('2026-03-02T15:00:00.000Z');
    expect(parseTimestamptz('2026-03-02 05:00:00-10')).toBe('2026-03-02T15:00:00.000Z');
    expect(parseTimestamptz('1900-01-01 00:53:28+00:53:28')).toBe('1900-01-01T00:00:00.000Z');
    expect(parseTimestamptz('infinity')).toBe('infinity');
  });
});

describe('applyLedgerChange', () => {
  it('rolls back and rethrows the planner error unchanged; writes nothing for null', async () => {
    const schema = fresh('alc');
    const url = new URL(PG_URL);
    url.searchParams.set('application_name', schema);
    const store = await createPostgresStore({ connectionString: url.toString(), schema, maxConnections: 1 });
    try {
      await store.createPortfolio(portfolioRow('pf_a', '10'));
      const oops = new FoliokitError('INSUFFICIENT_CASH', 'no');
      await expect(
        store.applyLedgerChange({ portfolioId: 'pf_a' }, () => {
          throw oops;
        }),
      ).rejects.toBe(oops);
      const plain = new Error('planner bug');
      await expect(
        store.applyLedgerChange({ portfolioId: 'pf_a' }, () => {
          throw plain;
        }),
      ).rejects.toBe(plain);
      await store.applyLedgerChange({ portfolioId: 'pf_a' }, () => null);
      expect(await codeOf(store.applyLedgerChange({ portfolioId: 'pf_missing' }, () => null))).toBe(
        'PORTFOLIO_NOT_FOUND',
      );
      // The CHECK constraint is the last line of defence: a write of negative cash fails whole.
      const negative: LedgerWrite = {
        portfolioId: 'pf_a',
        portfolio: { cash: '-1', netDeposits: '10', realizedPnl: '0', ledgerAt: null, updatedAt: T0 },
        transaction: entry('tx_neg', 'pf_a', { kind: 'withdrawal', amount: '-11', cashAfter: '-1' }),
      };
      const failed = await store.applyLedgerChange({ portfolioId: 'pf_a' }, () => negative).catch((e) => e);
      expect(failed).toMatchObject({ code: 'STORE_ERROR' });
      expect((failed as Error).cause).toMatchObject({ code: '23514' });
      expect(await store.listTransactions('pf_a', { limit: 10 })).toEqual([]);
      // A duplicate ledger id fails the whole write too, and the connection is fine afterwards.
      await store.applyLedgerChange({ portfolioId: 'pf_a' }, () => ({
        portfolioId: 'pf_a',
        portfolio: { cash: '9', netDeposits: '9', realizedPnl: '0', ledgerAt: null, updatedAt: T0 },
        transaction: entry('tx_one', 'pf_a', { kind: 'withdrawal', amount: '-1', cashAfter: '9' }),
      }));
      const dup = await store
        .applyLedgerChange({ portfolioId: 'pf_a' }, () => ({
          portfolioId: 'pf_a',
          portfolio: { cash: '8', netDeposits: '8', realizedPnl: '0', ledgerAt: null, updatedAt: T0 },
          transaction: entry('tx_one', 'pf_a', { kind: 'withdrawal', amount: '-1', cashAfter: '8' }),
        }))
        .catch((e) => e);
      expect(dup).toMatchObject({ code: 'STORE_ERROR' });
      expect((await store.getPortfolio('pf_a'))?.cash).toBe('9');
      const idle = await admin<{ n: string }>(
        `select count(*)::text as n from pg_stat_activity where application_name = $1 and state like 'idle in transaction%'`,
        [schema],
      );
      expect(idle[0]?.n).toBe('0');
    } finally {
      await store.close();
    }
  });

  it('reads position, lots and keyed entry after the lock is granted, never from before the wait', async () => {
    for (const pipeline of [true, false]) {
      const schema = fresh('lock');
      const pool = new pg.Pool({ connectionString: PG_URL, max: 2, pipeline } as pg.PoolConfig);
      const store = await createPostgresStore({ pool, schema });
      const other = new pg.Client({ connectionString: PG_URL });
      await other.connect();
      try {
        await store.createPortfolio(portfolioRow('pf_l', '100'));
        await store.applyLedgerChange({ portfolioId: 'pf_l', symbol: 'X' }, () => ({
          portfolioId: 'pf_l',
          portfolio: { cash: '90', netDeposits: '100', realizedPnl: '0', ledgerAt: null, updatedAt: T0 },
          position: {
            portfolioId: 'pf_l',
            symbol: 'X',
            quantity: '1',
            costBasis: '10',
            realizedPnl: '0',
            openedAt: T0,
            updatedAt: T0,
          },
          transaction: entry('tx_b1', 'pf_l', {
            kind: 'buy',
            symbol: 'X',
            quantity: '1',
            price: '10',
            amount: '-10',
            cashAfter: '90',
            quantityAfter: '1',
          }),
        }));
        // Another writer holds the lock and changes everything a plan reads...
        await other.query('begin');
        await other.query(`select 1 from "${schema}".portfolios where id = 'pf_l' for update`);
        await other.query(`update "${schema}".portfolios set cash = 80 where id = 'pf_l'`);
        await other.query(`update "${schema}".positions set quantity = 2, cost_basis = 20 where portfolio_id = 'pf_l'`);
        await other.query(
          `insert into "${schema}".transactions (id, portfolio_id, kind, symbol, quantity, price, fee, amount, cash_after, quantity_after, idempotency_key, request_hash, executed_at, created_at)
           values ('tx_b2', 'pf_l', 'buy', 'X', 1, 10, 0, -10, 80, 2, 'k2', 'h', now(), now())`,
        );
        // ...while the store's change waits for that lock.
        let seen: LedgerState | undefined;
        const waiting = store.applyLedgerChange({ portfolioId: 'pf_l', symbol: 'X', idempotencyKey: 'k2' }, (s) => {
          seen = s;
          return null;
        });
        await waitForLockWait(schema);
        await other.query('commit');
        await waiting;
        expect(seen?.portfolio.cash).toBe('80');
        expect(seen?.position?.quantity).toBe('2');
        expect(seen?.existing?.id).toBe('tx_b2');
      } finally {
        await other.end();
        await store.close();
        await pool.end();
      }
    }
  });
});

/** Waits until a backend is blocked on a lock in `schema`, or fails after 5 s. */
async function waitForLockWait(schema: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const [row] = await admin<{ n: string }>(
      `select count(*)::text as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and position($1 in query) > 0`,
      [schema],
    );
    if (row?.n !== '0') return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the store never waited for the lock');
}
