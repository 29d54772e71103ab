/**
 * The series tables of the Kysely store: portfolio snapshots (with hour/day downsampling in SQL),
 * the latest price of each symbol, daily bars, and the symbols held or watched that the poller
 * follows. Batches go in chunks of 500 rows inside one transaction.
 */
import { type Kysely, sql } from 'kysely';
import type { Store } from '../ports/index.js';
import type { SqlDialect } from './migrations.js';
import { barFromRow, barToRow, priceFromRow, priceToRow, snapshotFromRow, snapshotToRow } from './rows.js';
import type { FoliokitDatabase } from './schema.js';

type HistoryMethods = Pick<
  Store,
  | 'insertSnapshots'
  | 'listSnapshots'
  | 'upsertPrices'
  | 'getPrices'
  | 'upsertDailyBars'
  | 'listDailyBars'
  | 'listActiveSymbols'
>;

const CHUNK = 500;

/** Builds the series methods on a Kysely instance. */
export function kyselyHistory(db: Kysely<FoliokitDatabase>, dialect: SqlDialect): HistoryMethods {
  return {
    async insertSnapshots(rows, opts) {
      if (rows.length === 0) return;
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += CHUNK) {
          const chunk = rows.slice(i, i + CHUNK).map(snapshotToRow);
          if (opts?.replace !== 'day') {
            await trx.insertInto('snapshots').values(chunk).execute();
            continue;
          }
          await trx
            .insertInto('snapshots')
            .values(chunk)
            .onConflict((oc) =>
              oc
                .columns(['portfolio_id', 'kind', 'day'])
                .where(sql<boolean>`kind in ('daily', 'backfill')`)
                .doUpdateSet((eb) => ({
                  at: eb.ref('excluded.at'),
                  cash: eb.ref('excluded.cash'),
                  market_value: eb.ref('excluded.market_value'),
                  total_value: eb.ref('excluded.total_value'),
                  cost_basis: eb.ref('excluded.cost_basis'),
                  unrealized_pnl: eb.ref('excluded.unrealized_pnl'),
                  realized_pnl: eb.ref('excluded.realized_pnl'),
                  net_deposits: eb.ref('excluded.net_deposits'),
                  flags: eb.ref('excluded.flags'),
                  // A recomputed row is current again.
                  stale: 0,
                })),
            )
            .execute();
        }
      });
    },

    async listSnapshots(portfolioId, query) {
      let q = db.selectFrom('snapshots').selectAll().where('portfolio_id', '=', portfolioId);
      if (query.from !== undefined) q = q.where('at', '>=', query.from);
      if (query.to !== undefined) q = q.where('at', '<=', query.to);
      if (query.kinds && query.kinds.length > 0) q = q.where('kind', 'in', [...query.kinds]);
      if (query.bucket) {
        // The last snapshot of each bucket, by a window function (SQLite >= 3.25, any PostgreSQL).
        // Buckets are UTC hours and days on every store: `day` is the UTC day, and on PostgreSQL
        // the hour is taken of `at` in UTC, never in the session's TimeZone (a +05:30 session
        // would otherwise cut its hours at :30 UTC).
        const bucket =
          query.bucket === 'day'
            ? sql.ref('day')
            : dialect === 'postgres'
              ? sql`date_trunc('hour', ${sql.ref('at')} at time zone 'UTC')`
              : sql`substr(${sql.ref('at')}, 1, 13)`;
        const rank = sql<number>`row_number() over (partition by ${bucket} order by ${sql.ref('at')} desc, ${sql.ref('id')} desc)`;
        const ranked = q.select(rank.as('rn'));
        let outer = db.selectFrom(ranked.as('ranked')).selectAll().where('rn', '=', 1).orderBy('at').orderBy('id');
        if (query.limit !== undefined) outer = outer.limit(query.limit);
        return (await outer.execute()).map(snapshotFromRow);
      }
      q = q.orderBy('at').orderBy('id');
      if (query.limit !== undefined) q = q.limit(query.limit);
      return (await q.execute()).map(snapshotFromRow);
    },

    async upsertPrices(rows) {
      if (rows.length === 0) return;
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += CHUNK) {
          await trx
            .insertInto('symbols')
            .values(rows.slice(i, i + CHUNK).map(priceToRow))
            .onConflict((oc) =>
              oc
                .column('symbol')
                .doUpdateSet((eb) => ({
                  price: eb.ref('excluded.price'),
                  at: eb.ref('excluded.at'),
                  currency: eb.ref('excluded.currency'),
                  source: eb.ref('excluded.source'),
                  updated_at: eb.ref('excluded.updated_at'),
                }))
                .where(sql.ref('excluded.at'), '>=', sql.ref('symbols.at')),
            )
            .execute();
        }
      });
    },

    async getPrices(symbols) {
      let q = db.selectFrom('symbols').selectAll().orderBy('symbol');
      if (symbols !== undefined) {
        if (symbols.length === 0) return [];
        q = q.where('symbol', 'in', [...symbols]);
      }
      return (await q.execute()).map(priceFromRow);
    },

    async upsertDailyBars(rows) {
      if (rows.length === 0) return;
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += CHUNK) {
          await trx
            .insertInto('price_history')
            .values(rows.slice(i, i + CHUNK).map(barToRow))
            .onConflict((oc) =>
              oc.columns(['symbol', 'day']).doUpdateSet((eb) => ({
                open: eb.ref('excluded.open'),
                high: eb.ref('excluded.high'),
                low: eb.ref('excluded.low'),
                close: eb.ref('excluded.close'),
                adj_close: eb.ref('excluded.adj_close'),
                volume: eb.ref('excluded.volume'),
                source: eb.ref('excluded.source'),
              })),
            )
            .execute();
        }
      });
    },

    async listDailyBars(symbol, range) {
      const rows = await db
        .selectFrom('price_history')
        .selectAll()
        .where('symbol', '=', symbol)
        .where('day', '>=', range.from)
        .where('day', '<=', range.to)
        .orderBy('day')
        .execute();
      return rows.map(barFromRow);
    },

    async listActiveSymbols() {
      const rows = await db
        .selectFrom('positions')
        .select('symbol')
        .where('quantity', '<>', '0')
        .union(db.selectFrom('watchlist').select('symbol'))
        .execute();
      return [...new Set(rows.map((r) => r.symbol))].sort();
    },
  };
}
