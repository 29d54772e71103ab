/**
 * `readPortfolioStates` on Kysely: portfolios and their open positions, each portfolio read as one
 * consistent snapshot (one statement per chunk of ids), for valuations, snapshots and the jobs.
 */
import { type Kysely, sql } from 'kysely';
import type { PortfolioState } from '../ports/index.js';
import type { SqlDialect } from './migrations.js';
import { portfolioFromRow, positionFromRow } from './rows.js';
import type { FoliokitDatabase } from './schema.js';

/** Builds `readPortfolioStates` on a Kysely instance (`schema` qualifies the raw PostgreSQL statement). */
export function kyselyPortfolioStates(
  db: Kysely<FoliokitDatabase>,
  dialect: SqlDialect,
  schema: string | undefined,
): (portfolioIds: readonly string[]) => Promise<PortfolioState[]> {
  /** A table in raw SQL, qualified with the schema (Kysely's withSchema does not reach raw SQL). */
  const table = (name: string) => sql.table(schema ? `${schema}.${name}` : name);

  /** One row per portfolio, its open positions aggregated as JSON text arrays (decimals cast to text: JSON numbers would pass through floats). */
  async function readPostgres(ids: readonly string[], states: Map<string, PortfolioState>): Promise<void> {
    const result = await sql<Record<string, unknown> & { open_positions: string | null }>`
      select p.*, (
        select json_agg(json_build_array(q.symbol, q.quantity::text, q.cost_basis::text,
          q.realized_pnl::text, q.opened_at, q.updated_at) order by q.symbol)::text
        from ${table('positions')} q
        where q.portfolio_id = p.id and q.quantity <> 0
      ) as open_positions
      from ${table('portfolios')} p
      where p.id in (${sql.join(ids)})`.execute(db);
    for (const r of result.rows) {
      const list = r.open_positions
        ? (JSON.parse(r.open_positions) as Array<[string, string, string, string, string | null, string]>)
        : [];
      states.set(r.id as string, {
        portfolio: portfolioFromRow(r),
        positions: list.map((q) =>
          positionFromRow({
            portfolio_id: r.id,
            symbol: q[0],
            quantity: q[1],
            cost_basis: q[2],
            realized_pnl: q[3],
            opened_at: q[4],
            updated_at: q[5],
          }),
        ),
      });
    }
  }

  /** Portfolios left-joined to their open positions, ordered by portfolio and symbol. */
  async function readJoined(ids: readonly string[], states: Map<string, PortfolioState>): Promise<void> {
    const rows = await db
      .selectFrom('portfolios as p')
      .leftJoin('positions as q', (join) => join.onRef('q.portfolio_id', '=', 'p.id').on('q.quantity', '<>', '0'))
      .selectAll('p')
      .select([
        'q.symbol as q_symbol',
        'q.quantity as q_quantity',
        'q.cost_basis as q_cost_basis',
        'q.realized_pnl as q_realized_pnl',
        'q.opened_at as q_opened_at',
        'q.updated_at as q_updated_at',
      ])
      .where('p.id', 'in', [...ids])
      .orderBy('p.id')
      .orderBy('q.symbol')
      .execute();
    for (const r of rows) {
      let state = states.get(r.id);
      if (!state) {
        state = { portfolio: portfolioFromRow(r), positions: [] };
        states.set(r.id, state);
      }
      if (r.q_symbol !== null && r.q_symbol !== undefined) {
        state.positions.push(
          positionFromRow({
            portfolio_id: r.id,
            symbol: r.q_symbol,
            quantity: r.q_quantity,
            cost_basis: r.q_cost_basis,
            realized_pnl: r.q_realized_pnl,
            opened_at: r.q_opened_at,
            updated_at: r.q_updated_at,
          }),
        );
      }
    }
  }

  return async (portfolioIds) => {
    const states = new Map<string, PortfolioState>();
    // One statement per chunk: a portfolio and its positions come from one snapshot of the
    // database, so a trade committing meanwhile is seen whole or not at all. Chunks keep every
    // statement under the drivers' parameter limits.
    for (let i = 0; i < portfolioIds.length; i += 500) {
      const ids = portfolioIds.slice(i, i + 500);
      await (dialect === 'postgres' ? readPostgres(ids, states) : readJoined(ids, states));
    }
    const out: PortfolioState[] = [];
    for (const id of portfolioIds) {
      const state = states.get(id);
      if (state) out.push(state);
    }
    return out;
  };
}
