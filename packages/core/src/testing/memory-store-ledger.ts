/**
 * The memory store's tables, and how it applies one planned ledger change: copy-on-write, so the
 * change lands whole or, when a write breaks a constraint, not at all.
 */
import {
  LEDGER_STALE_FLAG,
  type LedgerChangeRequest,
  type LedgerState,
  type LedgerWrite,
  type LotRow,
  type PortfolioRow,
  type PositionRow,
  type SnapshotRow,
  type TransactionRow,
} from '../ports/index.js';
import { decOut } from '../sql/rows.js';
import {
  byLotAge,
  bySymbol,
  copy,
  lotIn,
  MemoryConstraintError,
  nonNegative,
  portfolioIn,
  positionIn,
  snapshotIn,
  transactionIn,
} from './memory-store-rows.js';

/** A snapshot as kept, with the insertion order the SQL stores' serial id gives. */
export interface StoredSnapshot {
  id: number;
  row: SnapshotRow;
}

/** Everything that belongs to one portfolio (deleting it deletes all of this). */
export interface PortfolioTables {
  row: PortfolioRow;
  positions: Map<string, PositionRow>;
  lots: Map<string, LotRow>;
  /** The ledger, in insertion order. */
  transactions: TransactionRow[];
  /** Ledger entries by idempotency key (unique per portfolio). */
  byKey: Map<string, TransactionRow>;
  snapshots: StoredSnapshot[];
  /** Daily and backfill snapshots by kind and day (one each per day). */
  daySlots: Map<string, StoredSnapshot>;
  watch: Map<string, { symbol: string; addedAt: string }>;
}

/** The memory store's database. */
export interface MemoryTables {
  portfolios: Map<string, PortfolioTables>;
  /** Primary keys that are unique across portfolios. */
  transactionIds: Set<string>;
  lotIds: Set<string>;
  snapshotSeq: number;
}

/** The state a ledger change is planned from: copies of the rows the request asks for. */
export function ledgerState(t: PortfolioTables, request: LedgerChangeRequest): LedgerState {
  const state: LedgerState = {
    portfolio: copy(t.row),
    position: null,
    lots: [],
    positions: [],
    existing: null,
    ledger: null,
  };
  if (request.loadLedger) state.ledger = [...t.transactions].sort(byLedgerOrder).map(copy);
  if (request.idempotencyKey !== undefined) {
    const e = t.byKey.get(request.idempotencyKey);
    state.existing = e ? copy(e) : null;
  }
  if (request.loadAllPositions) state.positions = [...t.positions.values()].sort(bySymbol).map(copy);
  if (request.symbol !== undefined) {
    const p = t.positions.get(request.symbol);
    state.position = p ? copy(p) : null;
    if (request.loadLots) {
      state.lots = [...t.lots.values()]
        .filter((l) => l.symbol === request.symbol)
        .sort(byLotAge)
        .map(copy);
    }
  }
  return state;
}

/** Ledger order: by `executedAt`, then id (entry order). */
export function byLedgerOrder(a: TransactionRow, b: TransactionRow): number {
  if (a.executedAt !== b.executedAt) return a.executedAt < b.executedAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Flags the snapshots taken at or after `from` stale (the SQL stores' `stale = 1`). */
function markStale(t: PortfolioTables, from: string): void {
  for (const s of t.snapshots) {
    if (s.row.at >= from && !s.row.flags.includes(LEDGER_STALE_FLAG)) {
      s.row = { ...s.row, flags: [...s.row.flags, LEDGER_STALE_FLAG] };
    }
  }
}

/** Snapshot kinds kept once per portfolio and day (the SQL stores' partial unique index). */
const ONE_PER_DAY = new Set<string>(['daily', 'backfill']);

/** The (kind, day) slot a daily or backfill snapshot takes in its portfolio; none for other kinds. */
export function daySlotOf(s: SnapshotRow): string | undefined {
  return ONE_PER_DAY.has(s.kind) ? `${s.kind}\u0000${s.day}` : undefined;
}

/**
 * Applies a planner's writes to a portfolio's tables. Every new row is built and checked first
 * (primary keys, the non-negative checks, the per-portfolio unique keys); the tables change only
 * after all checks pass, in one synchronous step.
 *
 * @throws MemoryConstraintError when a write breaks a constraint; nothing is written then.
 */
export function applyLedgerWrite(db: MemoryTables, t: PortfolioTables, write: LedgerWrite): void {
  const id = t.row.id;
  if (write.portfolioId !== id)
    throw new MemoryConstraintError('ledger_write', `write of ${write.portfolioId} in ${id}`);
  const tx = write.transaction ? transactionIn(write.transaction) : undefined;
  if (tx && tx.portfolioId !== id)
    throw new MemoryConstraintError('ledger_write', `entry of ${tx.portfolioId} in ${id}`);
  const row: PortfolioRow = portfolioIn({
    ...t.row,
    cash: write.portfolio.cash,
    netDeposits: write.portfolio.netDeposits,
    realizedPnl: write.portfolio.realizedPnl,
    ledgerAt: write.portfolio.ledgerAt,
    updatedAt: write.portfolio.updatedAt,
  });

  let positions = t.positions;
  const replan = write.replan;
  const upserts = [...(write.position ? [write.position] : []), ...(replan ? replan.positions : [])];
  if (upserts.length > 0) {
    positions = new Map(t.positions);
    for (const p of upserts.map(positionIn)) {
      if (p.portfolioId !== id)
        throw new MemoryConstraintError('ledger_write', `position of ${p.portfolioId} in ${id}`);
      positions.set(p.symbol, p);
    }
  }

  let lots = t.lots;
  const lotIdsGone: string[] = [];
  const lotIdsNew: string[] = [];
  const lotChange = replan ? { delete: [...t.lots.keys()], update: [], insert: replan.lots } : (write.lots ?? null);
  if (lotChange) {
    lots = new Map(t.lots);
    for (const lotId of lotChange.delete) {
      if (lots.delete(lotId)) lotIdsGone.push(lotId);
    }
    for (const u of lotChange.update) {
      const lot = lots.get(u.id);
      if (!lot) continue; // an update of no row changes nothing, as in SQL
      const quantity = decOut(u.quantity);
      nonNegative('lots_quantity_non_negative', quantity);
      lots.set(u.id, { ...lot, quantity, costBasis: decOut(u.costBasis) });
    }
    for (const l of lotChange.insert.map(lotIn)) {
      if (l.portfolioId !== id) throw new MemoryConstraintError('ledger_write', `lot of ${l.portfolioId} in ${id}`);
      const gone = lotIdsGone.includes(l.id);
      if ((db.lotIds.has(l.id) && !gone) || lotIdsNew.includes(l.id)) {
        throw new MemoryConstraintError('lots_pkey', `id ${l.id} exists`);
      }
      lots.set(l.id, l);
      lotIdsNew.push(l.id);
    }
  }

  if (tx && db.transactionIds.has(tx.id)) throw new MemoryConstraintError('transactions_pkey', `id ${tx.id} exists`);
  if (tx && tx.idempotencyKey !== null && t.byKey.has(tx.idempotencyKey)) {
    throw new MemoryConstraintError('transactions_idempotency_idx', `key ${tx.idempotencyKey} exists`);
  }
  // Entries re-planned or voided: new rows replace the old ones (by id).
  const changed = new Map<string, TransactionRow>();
  if (replan) {
    const byId = new Map(t.transactions.map((e) => [e.id, e]));
    for (const e of replan.entries) {
      const old = changed.get(e.id) ?? byId.get(e.id);
      if (old) changed.set(e.id, transactionIn({ ...old, ...e }));
    }
    const v = replan.void;
    if (v) {
      const old = changed.get(v.id) ?? byId.get(v.id);
      if (old && v.voidKey !== null && t.transactions.some((e) => e.voidKey === v.voidKey && e.id !== v.id)) {
        throw new MemoryConstraintError('transactions_void_key_idx', `void key ${v.voidKey} exists`);
      }
      if (old) changed.set(v.id, transactionIn({ ...old, voidedAt: v.voidedAt, voidKey: v.voidKey }));
    }
  }

  const snapshot = write.snapshot ? snapshotIn(write.snapshot) : undefined;
  const slot = snapshot ? daySlotOf(snapshot) : undefined;
  if (snapshot && snapshot.portfolioId !== id) {
    throw new MemoryConstraintError('ledger_write', `snapshot of ${snapshot.portfolioId} in ${id}`);
  }
  if (slot !== undefined && t.daySlots.has(slot)) {
    throw new MemoryConstraintError('snapshots_daily_unique_idx', `${snapshot?.kind} of ${snapshot?.day} exists`);
  }

  // Every check passed: commit, in one synchronous step.
  t.row = row;
  t.positions = positions;
  t.lots = lots;
  for (const lotId of lotIdsGone) db.lotIds.delete(lotId);
  for (const lotId of lotIdsNew) db.lotIds.add(lotId);
  if (changed.size > 0) {
    t.transactions = t.transactions.map((e) => changed.get(e.id) ?? e);
    for (const e of t.transactions) if (e.idempotencyKey !== null) t.byKey.set(e.idempotencyKey, e);
  }
  if (tx) {
    t.transactions.push(tx);
    db.transactionIds.add(tx.id);
    if (tx.idempotencyKey !== null) t.byKey.set(tx.idempotencyKey, tx);
  }
  if (write.staleFrom !== undefined) markStale(t, write.staleFrom);
  if (snapshot) {
    const stored: StoredSnapshot = { id: ++db.snapshotSeq, row: snapshot };
    t.snapshots.push(stored);
    if (slot !== undefined) t.daySlots.set(slot, stored);
  }
}
