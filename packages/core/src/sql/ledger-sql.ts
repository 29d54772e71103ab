/**
 * The ledger contract as SQL text for one dialect: the reads of a ledger change and its plain write
 * statements, with the fragments a batching writer builds on. The Kysely store and the SQLite native
 * path run these statements as they are; the PostgreSQL native path folds the writes into one
 * statement of CTEs from the same columns, values and fragments.
 */

import type { LedgerWrite } from '../ports/index.js';
import {
  COLUMN_KINDS,
  type ColumnKind,
  entryDerivedValues,
  LEDGER_READS,
  type LedgerColumn,
  type LedgerReadKind,
  type LedgerTable,
  LOT_BALANCE_COLUMNS,
  LOT_COLUMNS,
  lotBalanceValues,
  lotValues,
  PORTFOLIO_BALANCE_COLUMNS,
  POSITION_COLUMNS,
  POSITION_KEY,
  portfolioBalanceValues,
  positionValues,
  SNAPSHOT_COLUMNS,
  type SqlValue,
  snapshotValues,
  TRANSACTION_COLUMNS,
  TRANSACTION_DERIVED_COLUMNS,
  transactionValues,
} from './ledger-contract.js';
import type { SqlDialect } from './migrations.js';

/** Quotes an identifier (`"name"`, inner quotes doubled). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quoted, comma-separated column names. */
export function columnList(columns: readonly string[]): string {
  return columns.map(quoteIdent).join(', ');
}

const POSTGRES_TYPES: Readonly<Record<ColumnKind, string>> = {
  text: 'text',
  decimal: 'numeric',
  instant: 'timestamptz',
  day: 'date',
};

/** The PostgreSQL type of a ledger column (what its parameters are cast to). */
export function postgresType(column: LedgerColumn): string {
  return POSTGRES_TYPES[COLUMN_KINDS[column]];
}

/** How one dialect spells tables, parameters and the portfolio lock. */
export interface SqlSyntax {
  readonly dialect: SqlDialect;
  /** A table as statements name it: quoted, schema-qualified when the store has a schema. */
  table(name: LedgerTable): string;
  /** The `n`-th parameter (from 1), bound to a value of `column`. */
  param(n: number, column: LedgerColumn): string;
  /** Appended to the portfolio read of a change to lock its row ('' where the write transaction is the lock). */
  readonly lock: string;
}

/**
 * The syntax of a dialect: SQLite `?` parameters, its `BEGIN IMMEDIATE` transaction as the lock;
 * PostgreSQL `$n::type` parameters and `FOR NO KEY UPDATE` (it does not block inserts that only
 * reference the portfolio).
 */
export function sqlSyntax(dialect: SqlDialect, schema?: string): SqlSyntax {
  const prefix = schema ? `${quoteIdent(schema)}.` : '';
  const table = (name: LedgerTable) => `${prefix}${quoteIdent(name)}`;
  if (dialect === 'postgres') {
    return { dialect, table, param: (n, column) => `$${n}::${postgresType(column)}`, lock: 'for no key update' };
  }
  return { dialect, table, param: () => '?', lock: '' };
}

/** The statement of one read of {@link LEDGER_READS}; with `lock`, the syntax's lock clause is appended. */
export function selectSql(kind: LedgerReadKind, syntax: SqlSyntax, options: { lock?: boolean } = {}): string {
  const shape = LEDGER_READS[kind];
  const where = shape.where.map((c, i) => `${quoteIdent(c)} = ${syntax.param(i + 1, c)}`).join(' and ');
  const order = shape.orderBy.length > 0 ? ` order by ${columnList(shape.orderBy)}` : '';
  const lock = options.lock && syntax.lock ? ` ${syntax.lock}` : '';
  return `select ${columnList(shape.columns)} from ${syntax.table(shape.table)} where ${where}${order}${lock}`;
}

/** The statement of every read of a ledger change, the portfolio read locking its row. */
export type LedgerReadSql = Readonly<Record<LedgerReadKind, string>>;

/** Builds {@link LedgerReadSql} for a syntax (once per store). */
export function ledgerReadSql(syntax: SqlSyntax): LedgerReadSql {
  return {
    portfolio: selectSql('portfolio', syntax, { lock: true }),
    existing: selectSql('existing', syntax),
    position: selectSql('position', syntax),
    positions: selectSql('positions', syntax),
    lots: selectSql('lots', syntax),
    ledger: selectSql('ledger', syntax),
  };
}

/** The upsert of the touched position: on its key, every other column takes the new value. */
export const POSITION_UPSERT_CLAUSE = `on conflict (${columnList(POSITION_KEY)}) do update set ${POSITION_COLUMNS.filter(
  (c) => !(POSITION_KEY as readonly string[]).includes(c),
)
  .map((c) => `${quoteIdent(c)} = excluded.${quoteIdent(c)}`)
  .join(', ')}`;

/** `a = P1, b = P2, ...`, parameters numbered from `first`. */
function assignments(syntax: SqlSyntax, columns: readonly LedgerColumn[], first: number): string {
  return columns.map((c, i) => `${quoteIdent(c)} = ${syntax.param(first + i, c)}`).join(', ');
}

/** `insert into table (columns) values (P1, ...)`. */
function insertSql(syntax: SqlSyntax, table: LedgerTable, columns: readonly LedgerColumn[]): string {
  const params = columns.map((c, i) => syntax.param(i + 1, c)).join(', ');
  return `insert into ${syntax.table(table)} (${columnList(columns)}) values (${params})`;
}

/** The plain write statements of a ledger change, one per row operation. */
export interface LedgerWriteSql {
  /** Values: {@link portfolioBalanceValues}, then the portfolio id. */
  readonly updatePortfolio: string;
  /** Values: {@link positionValues}. */
  readonly upsertPosition: string;
  /** Values: the lot id. */
  readonly deleteLot: string;
  /** Values: {@link lotBalanceValues}, then the lot id. */
  readonly updateLot: string;
  /** Values: {@link lotValues}. */
  readonly insertLot: string;
  /** Values: {@link transactionValues}. */
  readonly insertTransaction: string;
  /** Values: {@link snapshotValues}. */
  readonly insertSnapshot: string;
  /** Values: the portfolio id (a re-plan replaces every lot). */
  readonly deletePortfolioLots: string;
  /** Values: {@link entryDerivedValues}, then the entry id. */
  readonly updateEntry: string;
  /** Values: `voided_at`, `void_key`, then the entry id. */
  readonly voidEntry: string;
  /** Values: the portfolio id, the instant from which its snapshots are stale. */
  readonly markStale: string;
}

/** Builds {@link LedgerWriteSql} for a syntax (once per store). */
export function ledgerWriteSql(syntax: SqlSyntax): LedgerWriteSql {
  const balance = PORTFOLIO_BALANCE_COLUMNS.length;
  const lotBalance = LOT_BALANCE_COLUMNS.length;
  return {
    updatePortfolio: `update ${syntax.table('portfolios')} set ${assignments(syntax, PORTFOLIO_BALANCE_COLUMNS, 1)} where "id" = ${syntax.param(balance + 1, 'id')}`,
    upsertPosition: `${insertSql(syntax, 'positions', POSITION_COLUMNS)} ${POSITION_UPSERT_CLAUSE}`,
    deleteLot: `delete from ${syntax.table('lots')} where "id" = ${syntax.param(1, 'id')}`,
    updateLot: `update ${syntax.table('lots')} set ${assignments(syntax, LOT_BALANCE_COLUMNS, 1)} where "id" = ${syntax.param(lotBalance + 1, 'id')}`,
    insertLot: insertSql(syntax, 'lots', LOT_COLUMNS),
    insertTransaction: insertSql(syntax, 'transactions', TRANSACTION_COLUMNS),
    insertSnapshot: insertSql(syntax, 'snapshots', SNAPSHOT_COLUMNS),
    deletePortfolioLots: `delete from ${syntax.table('lots')} where "portfolio_id" = ${syntax.param(1, 'portfolio_id')}`,
    updateEntry: `update ${syntax.table('transactions')} set ${assignments(syntax, TRANSACTION_DERIVED_COLUMNS, 1)} where "id" = ${syntax.param(TRANSACTION_DERIVED_COLUMNS.length + 1, 'id')}`,
    voidEntry: `update ${syntax.table('transactions')} set ${assignments(syntax, ['voided_at', 'void_key'], 1)} where "id" = ${syntax.param(3, 'id')}`,
    markStale: `update ${syntax.table('snapshots')} set "stale" = 1 where "portfolio_id" = ${syntax.param(1, 'portfolio_id')} and "at" >= ${syntax.param(2, 'at')} and "stale" = 0`,
  };
}

/** A statement and the values of its parameters. */
export interface SqlStatement {
  readonly text: string;
  readonly values: readonly SqlValue[];
}

/**
 * The statements of a planned write, in the order a store runs them: the portfolio's balances,
 * the touched position, its lots (deletes, updates, inserts); for a re-plan every position, the
 * lots replaced, the entries' derived values and the void; the new ledger row, the stale marks,
 * the snapshot.
 */
export function ledgerWriteStatements(write: LedgerWrite, sql: LedgerWriteSql): SqlStatement[] {
  const { portfolioId, replan } = write;
  const out: SqlStatement[] = [
    { text: sql.updatePortfolio, values: [...portfolioBalanceValues(write.portfolio), portfolioId] },
  ];
  if (write.position) out.push({ text: sql.upsertPosition, values: positionValues(write.position) });
  if (write.lots) {
    for (const id of write.lots.delete) out.push({ text: sql.deleteLot, values: [id] });
    for (const l of write.lots.update) out.push({ text: sql.updateLot, values: [...lotBalanceValues(l), l.id] });
    for (const l of write.lots.insert) out.push({ text: sql.insertLot, values: lotValues(l) });
  }
  if (replan) {
    for (const p of replan.positions) out.push({ text: sql.upsertPosition, values: positionValues(p) });
    out.push({ text: sql.deletePortfolioLots, values: [portfolioId] });
    for (const l of replan.lots) out.push({ text: sql.insertLot, values: lotValues(l) });
    for (const e of replan.entries) out.push({ text: sql.updateEntry, values: [...entryDerivedValues(e), e.id] });
    if (replan.void) {
      const v = replan.void;
      out.push({ text: sql.voidEntry, values: [v.voidedAt, v.voidKey, v.id] });
    }
  }
  if (write.transaction) out.push({ text: sql.insertTransaction, values: transactionValues(write.transaction) });
  if (write.staleFrom !== undefined) out.push({ text: sql.markStale, values: [portfolioId, write.staleFrom] });
  if (write.snapshot) out.push({ text: sql.insertSnapshot, values: snapshotValues(write.snapshot) });
  return out;
}
