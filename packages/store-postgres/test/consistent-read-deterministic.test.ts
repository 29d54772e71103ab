/**
 * A valuation and a snapshot read cash and positions as one state, shown deterministically: the
 * store's pool is wrapped so that the read is held right after its first statement until a trade on
 * another pool (another app instance) has committed. A store that read cash and positions in two
 * statements would then pair cash from one side of the trade with quantities from the other; the
 * store reads both in one statement, so it sees the state before the trade, whole.
 */
import { createPortfolioEngine, silentLogger } from '@foliokit/core';
import { createTestProvider } from '@foliokit/core/testing';
import {
  createPostgresStore,
  type PostgresClientLike,
  type PostgresPoolLike,
  type PostgresStore,
} from '@foliokit/store-postgres';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dropSchema, PG_URL, schemaName } from './support/pg.js';

const schema = schemaName('held_read');

/** A hold on the next query that reads `portfolios` or `positions`: `reached` once it has run. */
interface Hold {
  reached: () => void;
  release: Promise<void>;
}

/** A pool whose clients, while a hold is armed, keep the next matching query's result until released. */
function holdingPool(pool: pg.Pool): { pool: PostgresPoolLike; arm(hold: Hold): void } {
  let armed: Hold | null = null;
  const wrappers = new WeakMap<object, PostgresClientLike>();
  const wrap = (client: pg.PoolClient): PostgresClientLike => {
    const known = wrappers.get(client);
    if (known) return known;
    const wrapper: PostgresClientLike = {
      async query(config) {
        const result = await (client.query(config as pg.QueryConfig) as unknown as ReturnType<
          PostgresClientLike['query']
        >);
        const hold = armed;
        if (hold && /"(portfolios|positions)"/.test(config.text)) {
          armed = null;
          hold.reached();
          await hold.release;
        }
        return result;
      },
      release: (destroy) => client.release(destroy),
      getTypeParser: (oid, format) => client.getTypeParser(oid, format as 'text'),
      on: (event, listener) => client.on(event, listener),
    };
    wrappers.set(client, wrapper);
    return wrapper;
  };
  return {
    pool: { connect: async () => wrap(await pool.connect()), end: () => pool.end() },
    arm(hold) {
      armed = hold;
    },
  };
}

let raw: pg.Pool;
let held: ReturnType<typeof holdingPool>;
let reader: PostgresStore;
let writer: PostgresStore;

beforeAll(async () => {
  raw = new pg.Pool({ connectionString: PG_URL, max: 4 });
  held = holdingPool(raw);
  reader = await createPostgresStore({ pool: held.pool, schema });
  writer = await createPostgresStore({ connectionString: PG_URL, schema });
});

afterAll(async () => {
  await reader?.close();
  await writer?.close();
  await raw?.end();
  await dropSchema(schema);
});

/** Runs `read` with its first statement held until `trade` (on the writer) has committed. */
async function readAcrossATrade<T>(read: () => Promise<T>, trade: () => Promise<unknown>): Promise<T> {
  let reached!: () => void;
  const atHold = new Promise<void>((resolve) => {
    reached = resolve;
  });
  let release!: () => void;
  held.arm({ reached, release: new Promise<void>((resolve) => (release = resolve)) });
  const pending = read();
  await atHold;
  try {
    await trade();
  } finally {
    release();
  }
  return pending;
}

it('a valuation and a snapshot held between their statements while a trade commits: one state, whole', async () => {
  const provider = createTestProvider({ prices: { AAPL: '100' } });
  const engines = [reader, writer].map((store) =>
    createPortfolioEngine({ store, marketData: provider, logger: silentLogger, snapshots: { onTrade: false } }),
  );
  const [r, w] = engines as [ReturnType<typeof createPortfolioEngine>, ReturnType<typeof createPortfolioEngine>];
  try {
    const p = await w.createPortfolio({ name: 'held', initialCash: 1000 });
    const buy = () => w.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 2, price: 100 });
    await buy();

    // Before the held read's trade: cash 800 and 2 AAPL (valued 200).
    const valuation = await readAcrossATrade(() => r.getValuation(p.id), buy);
    expect({
      cash: valuation.cash,
      quantity: valuation.positions.map((q) => q.quantity),
      totalValue: valuation.totals.totalValue,
    }).toEqual({ cash: '800', quantity: ['2'], totalValue: '1000' });

    // Now cash 600 and 4 AAPL; the snapshot's read is held while a third buy commits.
    const snapshot = await readAcrossATrade(() => r.recordSnapshot(p.id), buy);
    expect({ cash: snapshot.cash, marketValue: snapshot.marketValue, totalValue: snapshot.totalValue }).toEqual({
      cash: '600',
      marketValue: '400',
      totalValue: '1000',
    });
    expect((await r.getPortfolio(p.id)).cash).toBe('400');
  } finally {
    for (const e of engines) await e.close();
  }
});
