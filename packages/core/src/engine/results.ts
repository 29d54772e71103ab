/** How the engine shows ledger rows to users, and how it fingerprints a request for idempotency. */
import { createHash } from 'node:crypto';
import type { TransactionRow } from '../ports/index.js';
import type { Transaction } from './types.js';

const REPLAYS = new WeakSet<Transaction>();

/** Marks an answer as the replay of an earlier call under the same idempotency key. @internal */
export function markReplay(transaction: Transaction): Transaction {
  REPLAYS.add(transaction);
  return transaction;
}

/**
 * True when the engine answered `transaction` to a replay of an earlier call (the same
 * idempotency key and parameters) rather than recording it now. The HTTP layer sends
 * `Idempotent-Replayed: true` for these.
 */
export function isReplay(transaction: Transaction): boolean {
  return REPLAYS.has(transaction);
}

/** A ledger row without its internal request fingerprint. */
export function publicTransaction(row: TransactionRow): Transaction {
  const { requestHash: _omit, ...rest } = row;
  return rest;
}

/** A fingerprint of a request's parameters, to tell a replay from a conflicting reuse of a key. */
export function hashRequest(parts: Record<string, string | undefined>): string {
  const canonical = JSON.stringify(Object.entries(parts).filter(([, v]) => v !== undefined));
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 32);
}
