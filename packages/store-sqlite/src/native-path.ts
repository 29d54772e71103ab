/**
 * The native path on SQLite, run in place of Kysely's for the calls that are hot: the ledger change
 * (one synchronous `IMMEDIATE` transaction of cached prepared statements, following core's ledger
 * contract: its reads, the state it assembles, its write statements) and the reads of valuations and
 * snapshots (a portfolio, its positions, portfolio states). Kysely's async path costs ~17 µs a
 * statement here, this path a few (docs/benchmarks.md).
 */
import type { LedgerChangeRequest, LedgerPlanner, PortfolioState } from '@foliokit/core';
import {
  assembleLedgerState,
  columnList,
  LEDGER_READS,
  ledgerReadSql,
  ledgerReads,
  ledgerWriteSql,
  ledgerWriteStatements,
  PORTFOLIO_COLUMNS,
  POSITION_COLUMNS,
  positionFromValues,
  rows,
  type StoreHotPath,
  selectSql,
  sqlSyntax,
} from '@foliokit/core/sql';
import type { SqliteDatabaseLike } from './database.js';
import type { ConnectionLock } from './lock.js';
import type { StatementCache } from './statement-cache.js';

type Raw = Record<string, unknown>;

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');
/** Portfolios by id (for readPortfolioStates). */
const PORTFOLIOS_IN = (n: number) =>
  `select ${columnList(PORTFOLIO_COLUMNS)} from "portfolios" where "id" in (${placeholders(n)})`;
/** Open positions of several portfolios, read in array mode (columns in the contract's order). */
const OPEN_POSITIONS_IN = (n: number) =>
  `select ${columnList(POSITION_COLUMNS)} from "positions" where "portfolio_id" in (${placeholders(n)}) and "quantity" <> '0' order by "portfolio_id", "symbol"`;

/**
 * Builds the native methods on the store's one connection. `lock` is the connection lock shared
 * with the Kysely dialect and with every other store of this process on the same file (lock.ts), so
 * a synchronous call never lands inside an open Kysely transaction, nor waits in SQLite for one.
 */
export function createSqliteNativePath(
  db: SqliteDatabaseLike,
  statements: StatementCache,
  lock: ConnectionLock,
): Required<StoreHotPath> {
  const syntax = sqlSyntax('sqlite');
  const readSql = ledgerReadSql(syntax);
  const writeSql = ledgerWriteSql(syntax);
  const portfolioSql = selectSql('portfolio', syntax);
  const positionsSql = selectSql('positions', syntax);

  /** One ledger change, run inside `db.transaction(...).immediate`. */
  function change(request: LedgerChangeRequest, plan: LedgerPlanner): void {
    const reads = ledgerReads(request);
    const results: Raw[][] = new Array(reads.length);
    for (let i = 0; i < reads.length; i++) {
      const { kind, params } = reads[i] as (typeof reads)[number];
      // better-sqlite3 binds an array's items as the anonymous parameters, in order.
      const stmt = statements.get(readSql[kind]);
      if (LEDGER_READS[kind].unique) {
        const row = stmt.get(params) as Raw | undefined;
        results[i] = row === undefined ? [] : [row];
      } else {
        results[i] = stmt.all(params) as Raw[];
      }
    }
    const write = plan(assembleLedgerState(request, reads, results));
    if (!write) return;
    for (const s of ledgerWriteStatements(write, writeSql)) statements.get(s.text).run(s.values);
  }
  const runChange = db.transaction(change);

  const readStates = db.transaction((portfolioIds: readonly string[]): PortfolioState[] => {
    const states = new Map<string, PortfolioState>();
    for (let i = 0; i < portfolioIds.length; i += 500) {
      const ids = portfolioIds.slice(i, i + 500);
      for (const r of statements.get(PORTFOLIOS_IN(ids.length)).all(...ids) as Raw[]) {
        states.set(r.id as string, { portfolio: rows.portfolioFromRow(r), positions: [] });
      }
      for (const values of statements.arrays(OPEN_POSITIONS_IN(ids.length)).all(...ids) as unknown[][]) {
        const p = positionFromValues(values);
        states.get(p.portfolioId)?.positions.push(p);
      }
    }
    const out: PortfolioState[] = [];
    for (const id of portfolioIds) {
      const state = states.get(id);
      if (state) out.push(state);
    }
    return out;
  });

  /** Runs `fn` synchronously when the connection is free, else after the lock. */
  async function locked<T>(fn: () => T): Promise<T> {
    if (!lock.tryAcquire()) await lock.acquire();
    try {
      return fn();
    } finally {
      lock.release();
    }
  }

  return {
    applyLedgerChange(request, plan) {
      return locked(() => runChange.immediate(request, plan));
    },
    getPortfolio(id) {
      return locked(() => {
        const r = statements.get(portfolioSql).get(id) as Raw | undefined;
        return r ? rows.portfolioFromRow(r) : null;
      });
    },
    listPositions(portfolioId) {
      return locked(() => (statements.arrays(positionsSql).all(portfolioId) as unknown[][]).map(positionFromValues));
    },
    /**
     * Portfolios and their open positions in one deferred read transaction: one WAL snapshot, so
     * another process's trade is seen whole or not at all (and in-process, the lock excludes ours).
     */
    readPortfolioStates(portfolioIds) {
      return locked(() => readStates(portfolioIds));
    },
  };
}
