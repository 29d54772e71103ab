/**
 * The native path on PostgreSQL, run in place of Kysely's for the calls that are hot. A ledger
 * change follows core's ledger contract (its reads in order, the state it assembles, its writes)
 * and takes two round trips when the pool's clients pipeline (`pipeline: true`), every statement
 * prepared once per connection:
 *
 * 1. `BEGIN` · lock the portfolio row (`FOR NO KEY UPDATE`) · read what the request needs (keyed
 *    entry, position or all positions, lots) — separate statements after the lock, so in READ
 *    COMMITTED each takes its snapshot once the lock is granted and sees every change committed
 *    before (a lock that waited re-reads only the locked row; other tables read in the same
 *    statement would come from the snapshot taken before the wait);
 * 2. one statement of data-modifying CTEs (`write-statement.ts`) · `COMMIT`.
 *
 * Without pipelining the same statements go one round trip each. The reads of valuations and
 * post-trade snapshots (a portfolio, its positions) are prepared statements too, without Kysely's
 * per-query compile and unnamed parse.
 */
import type { LedgerChangeRequest, LedgerPlanner, LedgerWrite } from '@foliokit/core';
import {
  assembleLedgerState,
  ledgerReadSql,
  ledgerReads,
  ledgerWriteSql,
  ledgerWriteStatements,
  rows,
  type StoreHotPath,
  selectSql,
  sqlSyntax,
} from '@foliokit/core/sql';
import { BatchError, queryOnce, type Stmt, send } from './pipeline.js';
import { connectClient, type PostgresClientLike, type PostgresPoolLike, type PostgresResultLike } from './pool.js';
import { ledgerWriteStatement } from './write-statement.js';

/** Options of {@link createPostgresNativePath}. */
export interface PostgresNativePathOptions {
  pool: PostgresPoolLike;
  /** The schema holding the tables. @default the connection's search_path */
  schema?: string;
}

const BEGIN: Stmt = { text: 'begin isolation level read committed' };
const COMMIT: Stmt = { text: 'commit' };

/** Ends the transaction; false when the client cannot even roll back (it is then destroyed, not reused). */
async function abort(client: PostgresClientLike): Promise<boolean> {
  try {
    await client.query({ text: 'rollback' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds the native methods. `applyLedgerChange` throws what the planner throws unchanged, core's
 * `PORTFOLIO_NOT_FOUND` for a missing portfolio, and the driver's error otherwise (the store
 * runtime wraps it as `STORE_ERROR`).
 */
export function createPostgresNativePath(
  options: PostgresNativePathOptions,
): Required<Pick<StoreHotPath, 'applyLedgerChange' | 'getPortfolio' | 'listPositions'>> {
  const { pool } = options;
  const syntax = sqlSyntax('postgres', options.schema);
  const readSql = ledgerReadSql(syntax);
  const writeSql = ledgerWriteSql(syntax);
  const portfolioSql = selectSql('portfolio', syntax);

  async function applyLedgerChange(request: LedgerChangeRequest, plan: LedgerPlanner): Promise<void> {
    const client = await connectClient(pool);
    const pipelined = (client as { pipeline?: unknown }).pipeline === true;
    let healthy = true;
    try {
      // Trip 1: begin, lock, then the reads, each a statement of its own so that it takes its
      // snapshot after the lock is granted.
      const reads = ledgerReads(request);
      let results: PostgresResultLike[];
      try {
        results = await send(
          client,
          [BEGIN, ...reads.map((r) => ({ text: readSql[r.kind], values: r.params }))],
          pipelined,
        );
      } catch (error) {
        healthy = await abort(client);
        throw error instanceof BatchError ? error.first : error;
      }

      let write: LedgerWrite | null;
      try {
        const found = results.slice(1).map((r) => r.rows as Record<string, unknown>[]);
        write = plan(assembleLedgerState(request, reads, found));
      } catch (error) {
        // No portfolio, or the planner refused: the caller gets that error as it is.
        healthy = await abort(client);
        throw error;
      }
      if (!write) {
        healthy = await abort(client);
        return;
      }

      // Trip 2: every write in one statement, then COMMIT. A re-plan in date order (rare) sends
      // the contract's plain statements instead, pipelined all the same.
      const statements: Stmt[] = write.replan
        ? ledgerWriteStatements(write, writeSql).map((s) => ({ text: s.text, values: s.values }))
        : [ledgerWriteStatement(write, syntax)];
      let results2: PostgresResultLike[];
      try {
        results2 = await send(client, [...statements, COMMIT], pipelined);
      } catch (error) {
        // A failed write leaves the transaction aborted; the pipelined COMMIT answers ROLLBACK.
        healthy = await abort(client);
        throw error instanceof BatchError ? error.first : error;
      }
      const [writeResult] = results2 as [PostgresResultLike];
      const commitResult = results2[results2.length - 1] as PostgresResultLike;
      const applied = write.replan
        ? writeResult.rowCount === 1
        : (writeResult.rows[0] as { updated?: number })?.updated === 1;
      if (commitResult.command !== 'COMMIT' || !applied) {
        throw new Error(`The ledger write of ${request.portfolioId} did not apply (${commitResult.command})`);
      }
    } finally {
      client.release(healthy ? undefined : true);
    }
  }

  return {
    applyLedgerChange,
    async getPortfolio(id) {
      const [r] = await queryOnce(pool, { text: portfolioSql, values: [id] });
      return r ? rows.portfolioFromRow(r) : null;
    },
    async listPositions(portfolioId) {
      return (await queryOnce(pool, { text: readSql.positions, values: [portfolioId] })).map(rows.positionFromRow);
    },
  };
}
