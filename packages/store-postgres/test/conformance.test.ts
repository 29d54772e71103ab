/**
 * The store conformance suite on PostgreSQL: each block gets a fresh schema, checked with raw SQL
 * that bypasses the store, and every schema is dropped at the end.
 */
import { type PORTFOLIO_TABLES, runStoreConformance } from '@foliokit/core/testing';
import { createPostgresStore } from '@foliokit/store-postgres';
import { afterAll } from 'vitest';
import { admin, dropSchema, PG_URL, schemaName } from './support/pg.js';

const schemas: string[] = [];

afterAll(async () => {
  for (const s of schemas) await dropSchema(s);
});

/** Sums a per-portfolio query over every schema the suite created (portfolio ids are unique). */
async function acrossSchemas(sql: (schema: string) => string, portfolioId: string): Promise<string[]> {
  const out: string[] = [];
  for (const s of schemas) {
    for (const r of await admin<{ v: string }>(sql(`"${s}"`), [portfolioId])) out.push(r.v);
  }
  return out;
}

runStoreConformance({
  name: 'postgres',
  createStore: async () => {
    const schema = schemaName('conf');
    schemas.push(schema);
    return createPostgresStore({ connectionString: PG_URL, schema });
  },
  raw: {
    async countRows(table: (typeof PORTFOLIO_TABLES)[number], portfolioId: string) {
      const counts = await acrossSchemas(
        (s) => `select count(*)::text as v from ${s}."${table}" where portfolio_id = $1`,
        portfolioId,
      );
      return counts.reduce((n, c) => n + Number(c), 0);
    },
    async cash(portfolioId: string) {
      const [cash] = await acrossSchemas(
        (s) => `select cash::text as v from ${s}.portfolios where id = $1`,
        portfolioId,
      );
      if (cash === undefined) throw new Error(`no portfolio ${portfolioId}`);
      return cash;
    },
  },
});
