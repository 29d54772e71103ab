/**
 * The Kysely path of a ledger change: the contract's reads and write statements, run one by one
 * in a Kysely transaction. A store runs it when its adapter brings no native path of its own; the
 * Kysely-only test stores run the conformance suite on it, so it is the tested reference of the
 * contract a third-party dialect gets.
 */
import { CompiledQuery, type Kysely } from 'kysely';
import type { LedgerChangeRequest, LedgerPlanner } from '../ports/index.js';
import { assembleLedgerState, ledgerReads } from './ledger-contract.js';
import { ledgerReadSql, ledgerWriteSql, ledgerWriteStatements, sqlSyntax } from './ledger-sql.js';
import type { SqlDialect } from './migrations.js';
import type { Raw } from './rows.js';
import type { FoliokitDatabase } from './schema.js';

/** Builds `applyLedgerChange` on a Kysely instance (statements qualified with `schema`, when given). */
export function kyselyLedgerChange(
  db: Kysely<FoliokitDatabase>,
  dialect: SqlDialect,
  schema: string | undefined,
): (request: LedgerChangeRequest, plan: LedgerPlanner) => Promise<void> {
  const syntax = sqlSyntax(dialect, schema);
  const readSql = ledgerReadSql(syntax);
  const writeSql = ledgerWriteSql(syntax);
  return (request, plan) =>
    db.transaction().execute(async (trx) => {
      const reads = ledgerReads(request);
      const results: Raw[][] = [];
      for (const read of reads) {
        results.push((await trx.executeQuery<Raw>(CompiledQuery.raw(readSql[read.kind], [...read.params]))).rows);
      }
      const write = plan(assembleLedgerState(request, reads, results));
      if (!write) return;
      for (const statement of ledgerWriteStatements(write, writeSql)) {
        await trx.executeQuery(CompiledQuery.raw(statement.text, [...statement.values]));
      }
    });
}
