/**
 * The trade hot path on SQLite: one synchronous better-sqlite3 transaction of prepared statements
 * (read portfolio, read position, plan, write portfolio, upsert position, insert ledger row). The
 * same LedgerPlanner as every other store decides what to write; only the I/O differs. Measured in
 * docs/benchmarks.md: Kysely's async path costs ~17 µs a statement here, this path a few.
 */
import {
  FoliokitError,
  type LedgerChangeRequest,
  type LedgerPlanner,
  type LedgerState,
  type LedgerWrite,
  type PortfolioRow,
  type PortfolioState,
  type PositionRow,
} from '@foliokit/core';
import { rows, runPlanner } from '@foliokit/core/sql';
import type { SqliteDatabaseLike, SqliteStatementLike, StatementCache } from './dialect.js';
import type { ConnectionLock } from './lock.js';

type Raw = Record<string, unknown>;

const POSITION_COLUMNS =
  '"portfolio_id", "symbol", "quantity", "cost_basis", "realized_pnl", "opened_at", "updated_at"';
const POSITIONS_OF_ONE = () => `select ${POSITION_COLUMNS} from "positions" where "portfolio_id" = ? order by "symbol"`;
const OPEN_POSITIONS_IN = (placeholders: string) =>
  `select ${POSITION_COLUMNS} from "positions" where "portfolio_id" in (${placeholders}) and "quantity" <> '0' order by "portfolio_id", "symbol"`;
const PORTFOLIOS_IN = (n: number) =>
  `select * from "portfolios" where "id" in (${Array.from({ length: n }, () => '?').join(', ')})`;

export function createNativeLedger(db: SqliteDatabaseLike, statements: StatementCache, lock: ConnectionLock) {
  const sql = {
    portfolio: 'select * from "portfolios" where "id" = ?',
    position: 'select * from "positions" where "portfolio_id" = ? and "symbol" = ?',
    positions: 'select * from "positions" where "portfolio_id" = ? order by "symbol"',
    lots: 'select * from "lots" where "portfolio_id" = ? and "symbol" = ? order by "opened_at", "id"',
    existing: 'select * from "transactions" where "portfolio_id" = ? and "idempotency_key" = ?',
    updatePortfolio:
      'update "portfolios" set "cash" = ?, "net_deposits" = ?, "realized_pnl" = ?, "updated_at" = ? where "id" = ?',
    upsertPosition:
      'insert into "positions" ("portfolio_id", "symbol", "quantity", "cost_basis", "realized_pnl", "opened_at", "updated_at") values (?, ?, ?, ?, ?, ?, ?) on conflict ("portfolio_id", "symbol") do update set "quantity" = excluded."quantity", "cost_basis" = excluded."cost_basis", "realized_pnl" = excluded."realized_pnl", "opened_at" = excluded."opened_at", "updated_at" = excluded."updated_at"',
    deleteLot: 'delete from "lots" where "id" = ?',
    updateLot: 'update "lots" set "quantity" = ?, "cost_basis" = ? where "id" = ?',
    insertLot:
      'insert into "lots" ("id", "portfolio_id", "symbol", "opened_at", "quantity", "cost_basis") values (?, ?, ?, ?, ?, ?)',
    insertTransaction:
      'insert into "transactions" ("id", "portfolio_id", "kind", "symbol", "quantity", "price", "fee", "amount", "realized_pnl", "cash_after", "quantity_after", "idempotency_key", "request_hash", "executed_at", "created_at") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    insertSnapshot:
      'insert into "snapshots" ("portfolio_id", "at", "day", "kind", "cash", "market_value", "total_value", "cost_basis", "unrealized_pnl", "realized_pnl", "net_deposits", "flags") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  };

  function write(w: LedgerWrite): void {
    const t = w.transaction;
    statements
      .get(sql.updatePortfolio)
      .run(w.portfolio.cash, w.portfolio.netDeposits, w.portfolio.realizedPnl, w.portfolio.updatedAt, t.portfolioId);
    if (w.position) {
      const p = w.position;
      statements
        .get(sql.upsertPosition)
        .run(p.portfolioId, p.symbol, p.quantity, p.costBasis, p.realizedPnl, p.openedAt, p.updatedAt);
    }
    if (w.lots) {
      for (const id of w.lots.delete) statements.get(sql.deleteLot).run(id);
      for (const l of w.lots.update) statements.get(sql.updateLot).run(l.quantity, l.costBasis, l.id);
      for (const l of w.lots.insert) {
        statements.get(sql.insertLot).run(l.id, l.portfolioId, l.symbol, l.openedAt, l.quantity, l.costBasis);
      }
    }
    statements
      .get(sql.insertTransaction)
      .run(
        t.id,
        t.portfolioId,
        t.kind,
        t.symbol,
        t.quantity,
        t.price,
        t.fee,
        t.amount,
        t.realizedPnl,
        t.cashAfter,
        t.quantityAfter,
        t.idempotencyKey,
        t.requestHash,
        t.executedAt,
        t.createdAt,
      );
    if (w.snapshot) {
      const s = w.snapshot;
      statements
        .get(sql.insertSnapshot)
        .run(
          s.portfolioId,
          s.at,
          s.day,
          s.kind,
          s.cash,
          s.marketValue,
          s.totalValue,
          s.costBasis,
          s.unrealizedPnl,
          s.realizedPnl,
          s.netDeposits,
          JSON.stringify(s.flags),
        );
    }
  }

  function change(request: LedgerChangeRequest, plan: LedgerPlanner): void {
    const p = statements.get(sql.portfolio).get(request.portfolioId) as Raw | undefined;
    if (!p) {
      throw new FoliokitError('PORTFOLIO_NOT_FOUND', `No portfolio with id ${request.portfolioId}`, {
        field: 'portfolioId',
        portfolioId: request.portfolioId,
      });
    }
    const state: LedgerState = {
      portfolio: rows.portfolioFromRow(p),
      position: null,
      lots: [],
      positions: [],
      existing: null,
    };
    if (request.idempotencyKey !== undefined) {
      const e = statements.get(sql.existing).get(request.portfolioId, request.idempotencyKey) as Raw | undefined;
      state.existing = e ? rows.transactionFromRow(e) : null;
    }
    if (request.loadAllPositions) {
      state.positions = (statements.get(sql.positions).all(request.portfolioId) as Raw[]).map(rows.positionFromRow);
      if (request.symbol) state.position = state.positions.find((x) => x.symbol === request.symbol) ?? null;
    } else if (request.symbol) {
      const r = statements.get(sql.position).get(request.portfolioId, request.symbol) as Raw | undefined;
      state.position = r ? rows.positionFromRow(r) : null;
    }
    if (request.symbol && request.loadLots) {
      state.lots = (statements.get(sql.lots).all(request.portfolioId, request.symbol) as Raw[]).map(rows.lotFromRow);
    }
    const w = runPlanner(plan, state);
    if (w) write(w);
  }

  const run = db.transaction(change);
  // Array-mode statements (no object per row: measurably faster for wide portfolios), prepared on
  // first use (the tables exist only after migrations), by SQL and placeholder count.
  const rawStatements = new Map<string, SqliteStatementLike>();
  function rawStatement(make: (placeholders: string) => string, n: number): SqliteStatementLike {
    const text = make(Array.from({ length: n }, () => '?').join(', '));
    let stmt = rawStatements.get(text);
    if (!stmt) {
      stmt = db.prepare(text).raw(true);
      rawStatements.set(text, stmt);
    }
    return stmt;
  }

  function positionRows(list: unknown[][]): PositionRow[] {
    const out: PositionRow[] = new Array(list.length);
    for (let i = 0; i < list.length; i++) {
      const r = list[i] as [string, string, string, string, string, string | null, string];
      out[i] = {
        portfolioId: r[0],
        symbol: r[1],
        quantity: rows.decOut(r[2]),
        costBasis: rows.decOut(r[3]),
        realizedPnl: rows.decOut(r[4]),
        openedAt: r[5] === null ? null : rows.isoOut(r[5]),
        updatedAt: rows.isoOut(r[6]),
      };
    }
    return out;
  }

  const readStates = db.transaction((portfolioIds: readonly string[]): PortfolioState[] => {
    const states = new Map<string, PortfolioState>();
    for (let i = 0; i < portfolioIds.length; i += 500) {
      const ids = portfolioIds.slice(i, i + 500);
      for (const r of statements.get(PORTFOLIOS_IN(ids.length)).all(...ids) as Raw[]) {
        states.set(r.id as string, { portfolio: rows.portfolioFromRow(r), positions: [] });
      }
      for (const p of positionRows(rawStatement(OPEN_POSITIONS_IN, ids.length).all(...ids) as unknown[][])) {
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
    /** One ledger change in one IMMEDIATE transaction. */
    applyLedgerChange(request: LedgerChangeRequest, plan: LedgerPlanner): Promise<void> {
      return locked(() => run.immediate(request, plan));
    },
    /** The hot reads of valuation, without Kysely's per-statement async overhead. */
    getPortfolio(id: string): Promise<PortfolioRow | null> {
      return locked(() => {
        const r = statements.get(sql.portfolio).get(id) as Raw | undefined;
        return r ? rows.portfolioFromRow(r) : null;
      });
    },
    listPositions(portfolioId: string): Promise<PositionRow[]> {
      return locked(() => positionRows(rawStatement(POSITIONS_OF_ONE, 1).all(portfolioId) as unknown[][]));
    },
    /**
     * Portfolios and their open positions in one deferred read transaction: one WAL snapshot, so
     * another process's trade is seen whole or not at all (and in-process, the lock excludes ours).
     */
    readPortfolioStates(portfolioIds: readonly string[]): Promise<PortfolioState[]> {
      return locked(() => readStates(portfolioIds));
    },
  };
}
