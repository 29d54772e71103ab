/**
 * A ledger write as one PostgreSQL statement of data-modifying CTEs (portfolio balances, position
 * upsert, lot deletes, updates and inserts as arrays, ledger row, snapshot), built from core's
 * ledger contract: the same columns, values and position upsert as every store, in one round trip.
 */
import type { LedgerWrite } from '@foliokit/core';
import {
  columnList,
  type LedgerColumn,
  LOT_BALANCE_COLUMNS,
  LOT_COLUMNS,
  lotBalanceValues,
  lotValues,
  PORTFOLIO_BALANCE_COLUMNS,
  POSITION_COLUMNS,
  POSITION_UPSERT_CLAUSE,
  portfolioBalanceValues,
  positionValues,
  postgresType,
  quoteIdent,
  SNAPSHOT_COLUMNS,
  type SqlSyntax,
  type SqlValue,
  snapshotValues,
  TRANSACTION_COLUMNS,
  transactionValues,
} from '@foliokit/core/sql';
import type { Stmt } from './pipeline.js';

/**
 * The write statement for one shape of write (not a re-plan: the native path runs a re-plan's
 * plain statements from the contract), and its values. Its text depends only on the shape
 * (which parts are present), so it is prepared once per connection and shape. Its one row counts
 * the portfolio rows updated: 1 when the write applied.
 */
export function ledgerWriteStatement(w: LedgerWrite, syntax: SqlSyntax): Stmt {
  const values: unknown[] = [];
  const param = (value: unknown, type: string) => {
    values.push(value);
    return `$${values.length}::${type}`;
  };
  /** Parameters for one row of `columns`. */
  const row = (columns: readonly LedgerColumn[], of: readonly SqlValue[]) =>
    columns.map((c, i) => param(of[i], postgresType(c))).join(', ');
  /** One array parameter per column, from many rows (for `unnest`). */
  const arrays = (columns: readonly LedgerColumn[], of: ReadonlyArray<readonly SqlValue[]>) =>
    columns
      .map((c, i) =>
        param(
          of.map((v) => v[i]),
          `${postgresType(c)}[]`,
        ),
      )
      .join(', ');
  const table = (name: Parameters<SqlSyntax['table']>[0]) => syntax.table(name);
  const id = param(w.portfolioId, 'text');
  const balances = portfolioBalanceValues(w.portfolio);

  const ctes = [
    `p as (update ${table('portfolios')} set ${PORTFOLIO_BALANCE_COLUMNS.map(
      (c, i) => `${quoteIdent(c)} = ${param(balances[i], postgresType(c))}`,
    ).join(', ')} where "id" = ${id} returning 1)`,
  ];
  if (w.transaction) {
    ctes.push(
      `t as (insert into ${table('transactions')} (${columnList(TRANSACTION_COLUMNS)}) values (${row(
        TRANSACTION_COLUMNS,
        transactionValues(w.transaction),
      )}))`,
    );
  }
  if (w.staleFrom !== undefined) {
    // Snapshots of this statement's own snapshot CTE are not seen here: the new one stays current.
    ctes.push(
      `st as (update ${table('snapshots')} set "stale" = 1 where "portfolio_id" = ${id} and "at" >= ${param(
        w.staleFrom,
        'timestamptz',
      )} and "stale" = 0)`,
    );
  }
  if (w.position) {
    ctes.push(
      `pos as (insert into ${table('positions')} (${columnList(POSITION_COLUMNS)}) values (${row(
        POSITION_COLUMNS,
        positionValues(w.position),
      )}) ${POSITION_UPSERT_CLAUSE})`,
    );
  }
  if (w.lots) {
    const { insert, update, delete: del } = w.lots;
    if (del.length > 0) {
      ctes.push(
        `ld as (delete from ${table('lots')} where "portfolio_id" = ${id} and "id" = any(${param(del, 'text[]')}))`,
      );
    }
    if (update.length > 0) {
      const set = LOT_BALANCE_COLUMNS.map((c) => `${quoteIdent(c)} = v.${quoteIdent(c)}`).join(', ');
      const ids = param(
        update.map((l) => l.id),
        'text[]',
      );
      ctes.push(
        `lu as (update ${table('lots')} as l set ${set} from unnest(${ids}, ${arrays(
          LOT_BALANCE_COLUMNS,
          update.map(lotBalanceValues),
        )}) as v("id", ${columnList(LOT_BALANCE_COLUMNS)}) where l."id" = v."id" and l."portfolio_id" = ${id})`,
      );
    }
    if (insert.length > 0) {
      ctes.push(
        `li as (insert into ${table('lots')} (${columnList(LOT_COLUMNS)}) select * from unnest(${arrays(
          LOT_COLUMNS,
          insert.map(lotValues),
        )}))`,
      );
    }
  }
  if (w.snapshot) {
    ctes.push(
      `s as (insert into ${table('snapshots')} (${columnList(SNAPSHOT_COLUMNS)}) values (${row(
        SNAPSHOT_COLUMNS,
        snapshotValues(w.snapshot),
      )}))`,
    );
  }
  // Every data-modifying CTE runs to completion whether or not the final select reads it.
  return { text: `with ${ctes.join(',\n')}\nselect count(*)::int as updated from p`, values };
}
