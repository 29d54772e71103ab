/**
 * Replaying a ledger: the state (cash, positions, cost basis, realized P&L) its entries reach,
 * applied one at a time in order. Backfill walks it day by day; the conformance suites check that a
 * store's state always equals the replay of its ledger.
 */
import { type Dec, dec, ZERO } from '../money/decimal.js';
import type { TransactionRow } from '../ports/index.js';

/** The state a replay of a ledger reaches. */
export interface ReplayState {
  cash: Dec;
  netDeposits: Dec;
  realizedPnl: Dec;
  positions: Map<string, { quantity: Dec; costBasis: Dec; realizedPnl: Dec }>;
}

/**
 * Replays ledger entries (in the order given; void ones skipped) into cash, positions and cost basis, using the
 * recorded amounts and realized P&L. Backfill uses this to know a portfolio as of a day; tests use
 * it to prove that stored state equals the ledger.
 */
export function replayLedger(entries: Iterable<TransactionRow>): ReplayState {
  const state = emptyReplayState();
  for (const t of entries) applyLedgerEntry(state, t);
  return state;
}

/** The state before any entry. */
export function emptyReplayState(): ReplayState {
  return { cash: ZERO, netDeposits: ZERO, realizedPnl: ZERO, positions: new Map() };
}

/**
 * Applies one ledger entry to a replay state, in place (one step of {@link replayLedger}). Backfill
 * walks days with it, applying each day's entries once instead of replaying from scratch.
 */
export function applyLedgerEntry(state: ReplayState, t: TransactionRow): void {
  // A void entry stays in the ledger but counts for nothing.
  if (t.voidedAt !== null && t.voidedAt !== undefined) return;
  const amount = dec(t.amount);
  state.cash = state.cash.plus(amount);
  if (t.kind === 'deposit' || t.kind === 'withdrawal') {
    state.netDeposits = state.netDeposits.plus(amount);
    return;
  }
  const symbol = t.symbol as string;
  const pos = state.positions.get(symbol) ?? { quantity: ZERO, costBasis: ZERO, realizedPnl: ZERO };
  const qty = dec(t.quantity as string);
  if (t.kind === 'buy') {
    pos.quantity = pos.quantity.plus(qty);
    pos.costBasis = pos.costBasis.plus(amount.neg());
  } else {
    const realized = dec(t.realizedPnl ?? '0');
    // Proceeds minus realized P&L is exactly the cost basis the sell removed.
    pos.costBasis = pos.costBasis.minus(amount.minus(realized));
    pos.quantity = pos.quantity.minus(qty);
    pos.realizedPnl = pos.realizedPnl.plus(realized);
    state.realizedPnl = state.realizedPnl.plus(realized);
  }
  state.positions.set(symbol, pos);
}
