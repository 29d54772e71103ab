/** How the engine shows stored rows to users, and how it fingerprints a request for idempotency. */
import { createHash } from 'node:crypto';
import { divideToString } from '../money/decimal.js';
import type { PositionRow, TransactionRow } from '../ports/index.js';
import type { Position, Transaction } from './types.js';

/** A ledger row without its internal request fingerprint. */
export function publicTransaction(row: TransactionRow): Transaction {
  const { requestHash: _omit, ...rest } = row;
  return rest;
}

/** A position row with its average cost. */
export function publicPosition(row: PositionRow): Position {
  return {
    symbol: row.symbol,
    quantity: row.quantity,
    costBasis: row.costBasis,
    averageCost: row.quantity === '0' ? '0' : divideToString(row.costBasis, row.quantity),
    realizedPnl: row.realizedPnl,
    openedAt: row.openedAt,
  };
}

/** A fingerprint of a request's parameters, to tell a replay from a conflicting reuse of a key. */
export function hashRequest(parts: Record<string, string | undefined>): string {
  const canonical = JSON.stringify(Object.entries(parts).filter(([, v]) => v !== undefined));
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 32);
}
