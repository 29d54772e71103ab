/**
 * A connection that dies while checked out (server restart, pg_terminate_backend) fails the call
 * under way with STORE_ERROR; it never crashes the process, and the store goes on working.
 */
import { createPortfolioEngine, silentLogger } from '@foliokit/core';
import { createTestProvider } from '@foliokit/core/testing';
import { sql } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import { createPostgresStore } from '../src/index.js';
import { admin, dropSchema, PG_URL, schemaName } from './support/pg.js';

const schema = schemaName('connloss');
afterAll(() => dropSchema(schema));

it('survives a backend terminated mid-query', async () => {
  const store = await createPostgresStore({ connectionString: PG_URL, schema });
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);
  process.on('uncaughtException', onUncaught);
  try {
    const marker = `foliokit-connloss-${schema}`;
    const sleeping = sql`select pg_sleep(10), ${marker}::text as marker`.execute(store.db).then(
      () => 'finished',
      (error: unknown) => error,
    );
    let pid: number | undefined;
    for (let i = 0; i < 100 && pid === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const rows = await admin<{ pid: number }>(
        "select pid from pg_stat_activity where query like '%pg_sleep(10)%' and query not like '%pg_stat_activity%'",
      );
      pid = rows[0]?.pid;
    }
    expect(pid).toBeTypeOf('number');
    await admin('select pg_terminate_backend($1)', [pid]);
    expect(await sleeping).toBeInstanceOf(Error);
    await new Promise((r) => setTimeout(r, 50));
    expect(uncaught).toEqual([]);

    // The store still works on its other connections.
    const engine = createPortfolioEngine({ store, marketData: createTestProvider(), logger: silentLogger });
    const p = await engine.createPortfolio({ name: 'after', initialCash: 5 });
    await engine.deposit(p.id, { amount: 1 });
    expect((await engine.getPortfolio(p.id)).cash).toBe('6');
  } finally {
    process.off('uncaughtException', onUncaught);
    await store.close();
  }
});
