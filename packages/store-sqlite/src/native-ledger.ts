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
  type PositionRow,
  rows,
  runPlanner,
} from '@foliokit/core';
import type { SqliteDatabaseLike, SqliteStatementLike, StatementCache } from './dialect.js';
import type { ConnectionLock } from './lock.js';

type Raw = Record<string, unknown>;

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
  // Prepared on first use: the tables exist only after migrations.
  let positionsRaw: SqliteStatementLike | undefined;

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
      return locked(() => {
        // Array rows skip building an object per row: measurably faster for wide portfolios.
        positionsRaw ??= db
          .prepare(
            'select "portfolio_id", "symbol", "quantity", "cost_basis", "realized_pnl", "opened_at", "updated_at" from "positions" where "portfolio_id" = ? order by "symbol"',
          )
          .raw(true);
        const list = positionsRaw.all(portfolioId) as unknown[][];
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
      });
    },
  };
}
