/**
 * The trade hot path on PostgreSQL: the same LedgerPlanner as every other store decides what to
 * write; only the I/O differs from the Kysely path. A change is two round trips when the pool's
 * clients pipeline (`pipeline: true`), every statement prepared once per connection:
 *
 * 1. `BEGIN` · lock the portfolio row (`FOR NO KEY UPDATE`) · read what the request needs (keyed
 *    entry, position or all positions, lots) — separate statements after the lock, so in READ
 *    COMMITTED each takes its snapshot once the lock is granted and sees every change committed
 *    before (a lock that waited re-reads only the locked row; other tables read in the same
 *    statement would come from the snapshot taken before the wait);
 * 2. one statement of data-modifying CTEs (portfolio, position, lots, ledger row, snapshot) · `COMMIT`.
 *
 * Without pipelining the same statements go one round trip each.
 */
import { createHash } from 'node:crypto';
import {
  FoliokitError,
  type LedgerChangeRequest,
  type LedgerPlanner,
  type LedgerState,
  type LedgerWrite,
  type PortfolioRow,
  type PositionRow,
} from '@foliokit/core';
import { PlannerError, rows } from '@foliokit/core/sql';
import {
  connectClient,
  type PostgresClientLike,
  type PostgresPoolLike,
  type PostgresResultLike,
  typesFor,
} from './pool.js';

type Raw = Record<string, unknown>;

/** A statement and its values. */
interface Stmt {
  text: string;
  values?: unknown[];
}

/** Quotes an identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const names = new Map<string, string>();

/** A stable statement name for a text, so each connection prepares it once. */
function nameOf(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `foliokit_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    if (names.size > 1000) names.clear();
    names.set(text, name);
  }
  return name;
}

/** What a failed batch left behind. */
class BatchError extends Error {
  constructor(readonly first: unknown) {
    super('batch failed');
  }
}

/**
 * Sends statements in order: all at once on a pipelining client, else one after another (stopping
 * at the first failure). Resolves with every result, or rejects with the first error once every
 * statement has settled (so no rejection is left unhandled).
 */
async function send(client: PostgresClientLike, statements: Stmt[], pipelined: boolean): Promise<PostgresResultLike[]> {
  const types = typesFor(client);
  const toConfig = (s: Stmt) =>
    s.values === undefined ? { text: s.text, types } : { text: s.text, values: s.values, name: nameOf(s.text), types };
  if (pipelined) {
    const settled = await Promise.allSettled(statements.map((s) => client.query(toConfig(s))));
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw new BatchError((failed as PromiseRejectedResult).reason);
    return settled.map((r) => (r as PromiseFulfilledResult<PostgresResultLike>).value);
  }
  const out: PostgresResultLike[] = [];
  for (const s of statements) {
    try {
      out.push(await client.query(toConfig(s)));
    } catch (error) {
      throw new BatchError(error);
    }
  }
  return out;
}

/** Builds the SQL of the hot path for one schema (or the connection's search_path). */
function ledgerStatements(schema: string | undefined) {
  const t = (table: string) => (schema ? `${quoteIdent(schema)}.${quoteIdent(table)}` : quoteIdent(table));
  const positionColumns = 'portfolio_id, symbol, quantity, cost_basis, realized_pnl, opened_at, updated_at';

  // Plain single-table statements, one per thing a request needs: each plans in microseconds (or
  // not at all once generic), where one statement of optional subqueries was re-planned each time.
  const portfolio = `select id, owner_id, name, description, base_currency, cost_basis_method, cash, net_deposits, realized_pnl, created_at, updated_at from ${t('portfolios')} where id = $1`;
  const lock = `${portfolio} for no key update`;
  const position = `select ${positionColumns} from ${t('positions')} where portfolio_id = $1 and symbol = $2`;
  const positions = `select ${positionColumns} from ${t('positions')} where portfolio_id = $1 order by symbol`;
  const lots = `select id, portfolio_id, symbol, opened_at, quantity, cost_basis from ${t('lots')} where portfolio_id = $1 and symbol = $2 order by opened_at, id`;
  const existing = `select id, portfolio_id, kind, symbol, quantity, price, fee, amount, realized_pnl, cash_after, quantity_after, idempotency_key, request_hash, executed_at, created_at from ${t('transactions')} where portfolio_id = $1 and idempotency_key = $2`;

  /** The write statement for one shape of LedgerWrite, and its values. */
  function write(w: LedgerWrite): Stmt {
    const values: unknown[] = [];
    const p = (value: unknown, cast: string) => {
      values.push(value);
      return `$${values.length}::${cast}`;
    };
    const tx = w.transaction;
    const id = p(tx.portfolioId, 'text');
    const ctes: string[] = [];
    ctes.push(
      `p as (update ${t('portfolios')} set cash = ${p(w.portfolio.cash, 'numeric')}, net_deposits = ${p(w.portfolio.netDeposits, 'numeric')}, realized_pnl = ${p(w.portfolio.realizedPnl, 'numeric')}, updated_at = ${p(w.portfolio.updatedAt, 'timestamptz')} where id = ${id} returning 1)`,
    );
    ctes.push(
      `t as (insert into ${t('transactions')} (id, portfolio_id, kind, symbol, quantity, price, fee, amount, realized_pnl, cash_after, quantity_after, idempotency_key, request_hash, executed_at, created_at) values (${[
        p(tx.id, 'text'),
        id,
        p(tx.kind, 'text'),
        p(tx.symbol, 'text'),
        p(tx.quantity, 'numeric'),
        p(tx.price, 'numeric'),
        p(tx.fee, 'numeric'),
        p(tx.amount, 'numeric'),
        p(tx.realizedPnl, 'numeric'),
        p(tx.cashAfter, 'numeric'),
        p(tx.quantityAfter, 'numeric'),
        p(tx.idempotencyKey, 'text'),
        p(tx.requestHash, 'text'),
        p(tx.executedAt, 'timestamptz'),
        p(tx.createdAt, 'timestamptz'),
      ].join(', ')}))`,
    );
    if (w.position) {
      const pos = w.position;
      ctes.push(
        `pos as (insert into ${t('positions')} (portfolio_id, symbol, quantity, cost_basis, realized_pnl, opened_at, updated_at) values (${id}, ${p(pos.symbol, 'text')}, ${p(pos.quantity, 'numeric')}, ${p(pos.costBasis, 'numeric')}, ${p(pos.realizedPnl, 'numeric')}, ${p(pos.openedAt, 'timestamptz')}, ${p(pos.updatedAt, 'timestamptz')}) on conflict (portfolio_id, symbol) do update set quantity = excluded.quantity, cost_basis = excluded.cost_basis, realized_pnl = excluded.realized_pnl, opened_at = excluded.opened_at, updated_at = excluded.updated_at)`,
      );
    }
    if (w.lots) {
      const { insert, update, delete: del } = w.lots;
      if (del.length > 0) {
        ctes.push(`ld as (delete from ${t('lots')} where portfolio_id = ${id} and id = any(${p(del, 'text[]')}))`);
      }
      if (update.length > 0) {
        ctes.push(
          `lu as (update ${t('lots')} as l set quantity = v.quantity, cost_basis = v.cost_basis from unnest(${p(
            update.map((l) => l.id),
            'text[]',
          )}, ${p(
            update.map((l) => l.quantity),
            'numeric[]',
          )}, ${p(
            update.map((l) => l.costBasis),
            'numeric[]',
          )}) as v(id, quantity, cost_basis) where l.id = v.id and l.portfolio_id = ${id})`,
        );
      }
      if (insert.length > 0) {
        ctes.push(
          `li as (insert into ${t('lots')} (id, portfolio_id, symbol, opened_at, quantity, cost_basis) select * from unnest(${[
            p(
              insert.map((l) => l.id),
              'text[]',
            ),
            p(
              insert.map((l) => l.portfolioId),
              'text[]',
            ),
            p(
              insert.map((l) => l.symbol),
              'text[]',
            ),
            p(
              insert.map((l) => l.openedAt),
              'timestamptz[]',
            ),
            p(
              insert.map((l) => l.quantity),
              'numeric[]',
            ),
            p(
              insert.map((l) => l.costBasis),
              'numeric[]',
            ),
          ].join(', ')}))`,
        );
      }
    }
    if (w.snapshot) {
      const s = w.snapshot;
      ctes.push(
        `s as (insert into ${t('snapshots')} (portfolio_id, at, day, kind, cash, market_value, total_value, cost_basis, unrealized_pnl, realized_pnl, net_deposits, flags) values (${[
          p(s.portfolioId, 'text'),
          p(s.at, 'timestamptz'),
          p(s.day, 'date'),
          p(s.kind, 'text'),
          p(s.cash, 'numeric'),
          p(s.marketValue, 'numeric'),
          p(s.totalValue, 'numeric'),
          p(s.costBasis, 'numeric'),
          p(s.unrealizedPnl, 'numeric'),
          p(s.realizedPnl, 'numeric'),
          p(s.netDeposits, 'numeric'),
          p(JSON.stringify(s.flags), 'text'),
        ].join(', ')}))`,
      );
    }
    // Every data-modifying CTE runs to completion whether or not the final select reads it.
    return { text: `with ${ctes.join(',\n')}\nselect count(*)::int as updated from p`, values };
  }

  return { portfolio, lock, position, positions, lots, existing, write };
}

/** Options of {@link createNativeLedger}. */
export interface NativeLedgerOptions {
  pool: PostgresPoolLike;
  schema?: string;
}

/**
 * Builds the PostgreSQL `applyLedgerChange`. It throws what the planner throws unchanged, a
 * `FoliokitError` for a missing portfolio, and the driver's error (for the store to wrap) otherwise.
 */
export function createNativeLedger(options: NativeLedgerOptions) {
  const sql = ledgerStatements(options.schema);
  const begin: Stmt = { text: 'begin isolation level read committed' };
  const commit: Stmt = { text: 'commit' };
  const rollback: Stmt = { text: 'rollback' };

  /** Ends the transaction; a client that cannot even roll back is destroyed rather than reused. */
  async function abort(client: PostgresClientLike): Promise<boolean> {
    try {
      await client.query({ text: rollback.text });
      return true;
    } catch {
      return false;
    }
  }

  return async function applyLedgerChange(request: LedgerChangeRequest, plan: LedgerPlanner): Promise<void> {
    const client = await connectClient(options.pool);
    const pipelined = (client as { pipeline?: unknown }).pipeline === true;
    let healthy = true;
    try {
      // Trip 1: begin, lock, then the reads, each a statement of its own so that it takes its
      // snapshot after the lock is granted.
      const { portfolioId, symbol, idempotencyKey } = request;
      const reads: Stmt[] = [begin, { text: sql.lock, values: [portfolioId] }];
      const wantExisting = idempotencyKey !== undefined;
      const wantPositions = request.loadAllPositions === true;
      const wantPosition = symbol !== undefined && !wantPositions;
      const wantLots = symbol !== undefined && request.loadLots === true;
      if (wantExisting) reads.push({ text: sql.existing, values: [portfolioId, idempotencyKey] });
      if (wantPositions) reads.push({ text: sql.positions, values: [portfolioId] });
      if (wantPosition) reads.push({ text: sql.position, values: [portfolioId, symbol] });
      if (wantLots) reads.push({ text: sql.lots, values: [portfolioId, symbol] });
      let results: PostgresResultLike[];
      try {
        results = await send(client, reads, pipelined);
      } catch (error) {
        healthy = await abort(client);
        throw error instanceof BatchError ? error.first : error;
      }

      const p = (results[1] as PostgresResultLike).rows[0] as Raw | undefined;
      if (!p) {
        healthy = await abort(client);
        throw new FoliokitError('PORTFOLIO_NOT_FOUND', `No portfolio with id ${portfolioId}`, {
          field: 'portfolioId',
          portfolioId,
        });
      }
      let next = 2;
      const take = () => (results[next++] as PostgresResultLike).rows as Raw[];
      const state: LedgerState = {
        portfolio: rows.portfolioFromRow(p),
        position: null,
        lots: [],
        positions: [],
        existing: null,
      };
      if (wantExisting) {
        const [e] = take();
        state.existing = e ? rows.transactionFromRow(e) : null;
      }
      if (wantPositions) {
        state.positions = take().map(rows.positionFromRow);
        if (symbol !== undefined) state.position = state.positions.find((x) => x.symbol === symbol) ?? null;
      }
      if (wantPosition) {
        const [x] = take();
        state.position = x ? rows.positionFromRow(x) : null;
      }
      if (wantLots) state.lots = take().map(rows.lotFromRow);

      let write: LedgerWrite | null;
      try {
        write = plan(state);
      } catch (error) {
        healthy = await abort(client);
        throw new PlannerError(error); // unwrapped by the store: the caller gets the planner's own error
      }
      if (!write) {
        healthy = await abort(client);
        return;
      }

      let writeResult: PostgresResultLike;
      let commitResult: PostgresResultLike;
      try {
        [writeResult, commitResult] = (await send(client, [sql.write(write), commit], pipelined)) as [
          PostgresResultLike,
          PostgresResultLike,
        ];
      } catch (error) {
        // A failed write leaves the transaction aborted; the pipelined COMMIT answers ROLLBACK.
        healthy = await abort(client);
        throw error instanceof BatchError ? error.first : error;
      }
      if (commitResult.command !== 'COMMIT' || (writeResult.rows[0] as { updated?: number })?.updated !== 1) {
        throw new Error(`The ledger write of ${portfolioId} did not apply (${commitResult.command})`);
      }
    } finally {
      client.release(healthy ? undefined : true);
    }
  };
}

/**
 * The hot reads of valuation and of the post-trade snapshot (a portfolio, its positions) as
 * prepared statements, without Kysely's per-query compile and unnamed parse.
 */
export function createNativeReads(options: NativeLedgerOptions) {
  const sql = ledgerStatements(options.schema);
  async function query(text: string, values: unknown[]): Promise<Raw[]> {
    const client = await connectClient(options.pool);
    let healthy = true;
    try {
      return (await client.query({ text, values, name: nameOf(text), types: typesFor(client) })).rows as Raw[];
    } catch (error) {
      // A server error (it has a severity) leaves the connection usable; anything else may not have.
      healthy = typeof (error as { severity?: unknown }).severity === 'string';
      throw error;
    } finally {
      client.release(healthy ? undefined : true);
    }
  }
  return {
    async getPortfolio(id: string): Promise<PortfolioRow | null> {
      const [r] = await query(sql.portfolio, [id]);
      return r ? rows.portfolioFromRow(r) : null;
    },
    async listPositions(portfolioId: string): Promise<PositionRow[]> {
      return (await query(sql.positions, [portfolioId])).map(rows.positionFromRow);
    },
  };
}
