/**
 * Trades per second on PostgreSQL through the engine, with 1 client and with 8 concurrent clients on
 * distinct portfolios, beside raw `pg` doing the same statements in the same run:
 *
 * - raw, 7 round trips (the baseline of the goal): BEGIN; select portfolio for update; select
 *   position; update portfolio; upsert position; insert ledger row; COMMIT — each awaited, as a
 *   hand-written pg app does it, with prepared statements;
 * - raw, pipelined (for scale): the same seven statements in two round trips (everything up to the
 *   reads, then the writes and COMMIT), the least a lock-then-write trade can cost.
 *
 * The engine runs twice: with `snapshots: { onTrade: false }`, so it writes what the baseline
 * writes (the goal row), and with the defaults, where each trade also reads the positions and
 * prices and records a post-trade snapshot in its transaction (for information).
 *
 * Each mode runs for a fixed time, modes alternate over rounds, and the median rate is reported.
 * Needs the server of `FOLIOKIT_PG_URL` (default postgres://postgres@127.0.0.1:5432/test).
 */
import { randomBytes } from 'node:crypto';
import { createPortfolioEngine, dec, fmt, newId, silentLogger } from '@foliokit/core';
import { createStaticProvider } from '@foliokit/providers';
import { createPostgresStore, type PostgresStore } from '@foliokit/store-postgres';
import pg from 'pg';
import type { Report } from './run.js';

const URL = process.env.FOLIOKIT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECONDS = 1.2;
const ROUNDS = 3;
const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL'];
const PRICE = '100.25';

type Mode = 'engine' | 'engineSnapshots' | 'raw' | 'rawPipelined';

export default async function run(report: Report): Promise<void> {
  const schema = `fk_bench_${randomBytes(4).toString('hex')}`;
  const store = await createPostgresStore({ connectionString: URL, schema, maxConnections: 8 });
  const rawPool = new pg.Pool({ connectionString: URL, max: 8 });
  const pipePool = new pg.Pool({ connectionString: URL, max: 8, pipeline: true } as pg.PoolConfig);
  try {
    const rates: Record<string, number[]> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const clients of [1, 8]) {
        for (const mode of ['raw', 'engine', 'rawPipelined', 'engineSnapshots'] as Mode[]) {
          const rate = await measure(mode, clients, { store, rawPool, pipePool, schema });
          (rates[`${mode}/${clients}`] ??= []).push(rate);
        }
      }
    }
    for (const clients of [1, 8]) {
      const engine = median(rates[`engine/${clients}`] as number[]);
      const raw = median(rates[`raw/${clients}`] as number[]);
      const piped = median(rates[`rawPipelined/${clients}`] as number[]);
      const snapshots = median(rates[`engineSnapshots/${clients}`] as number[]);
      const label = clients === 1 ? '1 client' : `${clients} clients, distinct portfolios`;
      report({ name: `postgres raw pg trades, 7 round trips (baseline), ${label}`, value: raw, unit: 'trades/s' });
      report({
        name: `postgres raw pg trades, pipelined in 2 round trips, ${label}`,
        value: piped,
        unit: 'trades/s',
        baseline: 'raw pg, 7 round trips',
        ratio: piped / raw,
      });
      report({
        name: `postgres engine.trade, ${label}`,
        value: engine,
        unit: 'trades/s',
        baseline: 'raw pg, 7 round trips',
        ratio: engine / raw,
        goal: '≥ 0.7 of raw',
        pass: engine / raw >= 0.7,
        note: `no post-trade snapshot, as the baseline; ${((engine / piped) * 100).toFixed(0)} % of raw pipelined`,
      });
      report({
        name: `postgres engine.trade with post-trade snapshot (default), ${label}`,
        value: snapshots,
        unit: 'trades/s',
        baseline: 'raw pg, 7 round trips',
        ratio: snapshots / raw,
        note: 'also reads positions and prices and writes a snapshot row',
      });
    }
  } finally {
    await store.close();
    await rawPool.end();
    await pipePool.end();
    const c = new pg.Client({ connectionString: URL });
    await c.connect();
    await c.query(`drop schema if exists "${schema}" cascade`);
    await c.end();
  }
}

interface Ctx {
  store: PostgresStore;
  rawPool: pg.Pool;
  pipePool: pg.Pool;
  schema: string;
}

/** Trades per second of `clients` loops, each on its own new portfolio, for SECONDS. */
async function measure(mode: Mode, clients: number, ctx: Ctx): Promise<number> {
  const trade = await trader(mode, ctx);
  const ids = await Promise.all(Array.from({ length: clients }, () => trade.portfolio()));
  // Warm up: connections, prepared statements, plans.
  await Promise.all(
    ids.map(async (id) => {
      for (let i = 0; i < 50; i++) await trade.buy(id, SYMBOLS[i % 5] as string);
    }),
  );
  let count = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await Promise.all(
    ids.map(async (id) => {
      let i = 0;
      while (performance.now() < end) {
        await trade.buy(id, SYMBOLS[i++ % 5] as string);
        count++;
      }
    }),
  );
  return count / ((performance.now() - start) / 1000);
}

interface Trader {
  portfolio(): Promise<string>;
  buy(portfolioId: string, symbol: string): Promise<void>;
}

async function trader(mode: Mode, ctx: Ctx): Promise<Trader> {
  if (mode === 'engine' || mode === 'engineSnapshots') {
    const engine = createPortfolioEngine({
      store: ctx.store,
      marketData: createStaticProvider({ prices: Object.fromEntries(SYMBOLS.map((s) => [s, PRICE])) }),
      logger: silentLogger,
      ...(mode === 'engine' ? { snapshots: { onTrade: false } } : {}),
    });
    return {
      portfolio: async () => (await engine.createPortfolio({ name: 'bench', initialCash: '1000000000' })).id,
      buy: async (id, symbol) => {
        await engine.trade(id, { symbol, side: 'buy', quantity: '1', price: PRICE });
      },
    };
  }
  const t = (name: string) => `"${ctx.schema}"."${name}"`;
  const sql = {
    lock: `select * from ${t('portfolios')} where id = $1 for update`,
    position: `select * from ${t('positions')} where portfolio_id = $1 and symbol = $2`,
    update: `update ${t('portfolios')} set cash = $1, updated_at = $2 where id = $3`,
    upsert: `insert into ${t('positions')} (portfolio_id, symbol, quantity, cost_basis, realized_pnl, opened_at, updated_at) values ($1, $2, $3, $4, 0, $5, $5)
      on conflict (portfolio_id, symbol) do update set quantity = excluded.quantity, cost_basis = excluded.cost_basis, updated_at = excluded.updated_at`,
    insert: `insert into ${t('transactions')} (id, portfolio_id, kind, symbol, quantity, price, fee, amount, cash_after, quantity_after, executed_at, created_at)
      values ($1, $2, 'buy', $3, $4, $5, 0, $6, $7, $8, $9, $9)`,
  };
  const q = (name: keyof typeof sql, values: unknown[]) => ({
    name: `bench_${name}_${ctx.schema}`,
    text: sql[name],
    values,
  });
  const pool = mode === 'raw' ? ctx.rawPool : ctx.pipePool;
  return {
    portfolio: async () => {
      const id = newId('pf', Date.now());
      const now = new Date().toISOString();
      await pool.query(
        `insert into ${t('portfolios')} (id, name, base_currency, cost_basis_method, cash, net_deposits, realized_pnl, created_at, updated_at)
         values ($1, 'raw', 'USD', 'average', 1000000000, 1000000000, 0, $2, $2)`,
        [id, now],
      );
      return id;
    },
    buy: async (id, symbol) => {
      const client = await pool.connect();
      try {
        const at = new Date().toISOString();
        const plan = (p: { cash: string }, pos: { quantity: string; cost_basis: string } | undefined) => {
          const cost = dec('1').times(PRICE);
          const cash = dec(p.cash).minus(cost);
          if (cash.isNegative()) throw new Error('insufficient cash');
          const qty = dec(pos?.quantity ?? '0').plus('1');
          return [
            q('update', [fmt(cash), at, id]),
            q('upsert', [id, symbol, fmt(qty), fmt(dec(pos?.cost_basis ?? '0').plus(cost)), at]),
            q('insert', [newId('tx', Date.now()), id, symbol, '1', PRICE, fmt(cost.neg()), fmt(cash), fmt(qty), at]),
          ];
        };
        if (mode === 'raw') {
          await client.query('begin');
          const p = (await client.query(q('lock', [id]))).rows[0];
          const pos = (await client.query(q('position', [id, symbol]))).rows[0];
          for (const w of plan(p, pos)) await client.query(w);
          await client.query('commit');
        } else {
          const [, lock, position] = await Promise.all([
            client.query('begin'),
            client.query(q('lock', [id])),
            client.query(q('position', [id, symbol])),
          ]);
          await Promise.all([
            ...plan(lock.rows[0], position.rows[0]).map((w) => client.query(w)),
            client.query('commit'),
          ]);
        }
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}
