/**
 * The native ledger change's round trips, counted at the client: on a pipelining pool a change is
 * two (begin, lock and reads; then the one write statement and commit), whatever it reads and
 * writes; on a pool without pipelining every statement is its own.
 */
import { createPortfolioEngine, type LedgerWrite, silentLogger } from '@foliokit/core';
import { createTestProvider } from '@foliokit/core/testing';
import { createPostgresStore, type PostgresClientLike, type PostgresPoolLike } from '@foliokit/store-postgres';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { dropSchema, PG_URL, schemaName } from './support/pg.js';

const schemas: string[] = [];
afterAll(async () => {
  for (const s of schemas) await dropSchema(s);
});

/**
 * A pool whose clients note, for each query, how many queries had completed when it was sent:
 * queries sent with the same count went out together, in one round trip.
 */
function countingPool(pipeline: boolean) {
  const pool = new pg.Pool({ connectionString: PG_URL, max: 2, pipeline } as pg.PoolConfig);
  const trace = { on: false, completed: 0, sentAt: [] as number[], texts: [] as string[] };
  /** One counting view per client, kept: the store attaches its error listener once per client it sees. */
  const views = new WeakMap<object, PostgresClientLike>();
  const view = (client: PostgresClientLike): PostgresClientLike =>
    new Proxy(client, {
      get(target, key) {
        if (key === 'query') {
          return (config: Parameters<PostgresClientLike['query']>[0]) => {
            if (!trace.on) return target.query(config);
            trace.sentAt.push(trace.completed);
            trace.texts.push(config.text);
            const result = target.query(config);
            result.then(
              () => trace.completed++,
              () => trace.completed++,
            );
            return result;
          };
        }
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  const counted: PostgresPoolLike = {
    async connect() {
      const client = (await pool.connect()) as unknown as PostgresClientLike;
      let counting = views.get(client);
      if (!counting) {
        counting = view(client);
        views.set(client, counting);
      }
      return counting;
    },
    end: () => pool.end(),
  };
  /** Round trips and statements of `fn`. */
  async function measure(fn: () => Promise<unknown>): Promise<{ trips: number; statements: string[] }> {
    trace.on = true;
    trace.sentAt.length = 0;
    trace.texts.length = 0;
    try {
      await fn();
    } finally {
      trace.on = false;
    }
    return { trips: new Set(trace.sentAt).size, statements: [...trace.texts] };
  }
  return { pool, counted, measure };
}

const T = '2026-03-03T15:00:00.000Z';

for (const pipeline of [true, false]) {
  it(`runs a ledger change in ${pipeline ? 'two round trips' : 'one round trip per statement'} (pipeline: ${pipeline})`, async () => {
    const { pool, counted, measure } = countingPool(pipeline);
    const schema = schemaName('trips');
    schemas.push(schema);
    const store = await createPostgresStore({ pool: counted, schema });
    const engine = createPortfolioEngine({ store, marketData: createTestProvider(), logger: silentLogger });
    try {
      const { id } = await engine.createPortfolio({ name: 'trips', initialCash: '1000', costBasisMethod: 'fifo' });
      await engine.trade(id, { symbol: 'MSFT', side: 'buy', quantity: '1', price: '20' });
      await engine.trade(id, { symbol: 'AAPL', side: 'buy', quantity: '3', price: '10' });
      // Every read (keyed entry, all positions, lots) and every kind of write (balances, position,
      // lot update, ledger row, snapshot).
      const request = { portfolioId: id, symbol: 'AAPL', loadLots: true, loadAllPositions: true, idempotencyKey: 'k' };
      const { trips, statements } = await measure(() =>
        store.applyLedgerChange(request, (state): LedgerWrite => {
          const [lot] = state.lots;
          if (!lot || !state.position) throw new Error('the reads found no lot or position');
          expect(state.positions.map((x) => x.symbol)).toEqual(['AAPL', 'MSFT']);
          const values = { cash: '981', netDeposits: '1000', realizedPnl: '1', ledgerAt: null, updatedAt: T };
          return {
            portfolioId: id,
            portfolio: values,
            position: { ...state.position, quantity: '2', costBasis: '20', realizedPnl: '1', updatedAt: T },
            lots: { insert: [], update: [{ id: lot.id, quantity: '2', costBasis: '20' }], delete: [] },
            transaction: {
              id: 'tx_trips',
              portfolioId: id,
              kind: 'sell',
              symbol: 'AAPL',
              quantity: '1',
              price: '11',
              fee: '0',
              amount: '11',
              realizedPnl: '1',
              cashAfter: '981',
              quantityAfter: '2',
              idempotencyKey: 'k',
              requestHash: 'h',
              executedAt: T,
              createdAt: T,
              voidedAt: null,
              voidKey: null,
            },
            snapshot: {
              portfolioId: id,
              at: T,
              day: T.slice(0, 10),
              kind: 'trade',
              cash: '981',
              marketValue: '42',
              totalValue: '1023',
              costBasis: '40',
              unrealizedPnl: '2',
              realizedPnl: '1',
              netDeposits: '1000',
              flags: [],
            },
          };
        }),
      );
      // begin, lock, keyed entry, positions, lots; one write statement; commit.
      expect(statements).toHaveLength(7);
      expect(statements[0]).toMatch(/^begin/);
      expect(statements[1]).toMatch(/for no key update$/);
      expect(statements[5]).toMatch(/^with /);
      expect(statements[6]).toBe('commit');
      expect(trips).toBe(pipeline ? 2 : 7);
      expect(await store.listLots(id, 'AAPL')).toMatchObject([{ quantity: '2', costBasis: '20' }]);
      expect((await store.listTransactions(id, { limit: 10 })).map((t) => t.id)).toContain('tx_trips');
    } finally {
      await engine.close();
      await store.close();
      await pool.end();
    }
  });
}
