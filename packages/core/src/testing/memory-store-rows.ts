/**
 * The rows of the memory store as it keeps them: copies in canonical form (decimals and instants
 * printed as the SQL stores return them), the checks the SQL schema's constraints make, and the
 * orderings its queries use. Everything here is synchronous and returns fresh objects.
 */
import type {
  DailyBarRow,
  JobRunRow,
  LotRow,
  PortfolioRow,
  PositionRow,
  SnapshotRow,
  SymbolPriceRow,
  TransactionRow,
  WatchlistRow,
} from '../ports/index.js';
import { dayOut, decOut, isoOut } from '../sql/rows.js';

/** A constraint the SQL schema enforces, broken: the store runtime reports it as `STORE_ERROR`. */
export class MemoryConstraintError extends Error {
  override readonly name = 'MemoryConstraintError';
  constructor(constraint: string, detail: string) {
    super(`${constraint} violated: ${detail}`);
  }
}

/** Compares strings as SQL text does (binary order). */
export const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const decOrNull = (v: string | null): string | null => (v === null ? null : decOut(v));
const isoOrNull = (v: string | null): string | null => (v === null ? null : isoOut(v));

/** Refuses a negative decimal, as the schema's `CHECK (x >= 0)` does. */
export function nonNegative(constraint: string, value: string): void {
  if (value.startsWith('-')) throw new MemoryConstraintError(constraint, `${value} is negative`);
}

export function portfolioIn(p: PortfolioRow): PortfolioRow {
  const row: PortfolioRow = {
    id: p.id,
    ownerId: p.ownerId ?? null,
    name: p.name,
    description: p.description ?? null,
    baseCurrency: p.baseCurrency,
    costBasisMethod: p.costBasisMethod,
    cash: decOut(p.cash),
    netDeposits: decOut(p.netDeposits),
    realizedPnl: decOut(p.realizedPnl),
    ledgerAt: isoOrNull(p.ledgerAt ?? null),
    createdAt: isoOut(p.createdAt),
    updatedAt: isoOut(p.updatedAt),
  };
  nonNegative('portfolios_cash_non_negative', row.cash);
  return row;
}

export function positionIn(p: PositionRow): PositionRow {
  const row: PositionRow = {
    portfolioId: p.portfolioId,
    symbol: p.symbol,
    quantity: decOut(p.quantity),
    costBasis: decOut(p.costBasis),
    realizedPnl: decOut(p.realizedPnl),
    openedAt: isoOrNull(p.openedAt ?? null),
    updatedAt: isoOut(p.updatedAt),
  };
  nonNegative('positions_quantity_non_negative', row.quantity);
  return row;
}

export function lotIn(l: LotRow): LotRow {
  const row: LotRow = {
    id: l.id,
    portfolioId: l.portfolioId,
    symbol: l.symbol,
    openedAt: isoOut(l.openedAt),
    quantity: decOut(l.quantity),
    costBasis: decOut(l.costBasis),
  };
  nonNegative('lots_quantity_non_negative', row.quantity);
  return row;
}

export function transactionIn(t: TransactionRow): TransactionRow {
  return {
    id: t.id,
    portfolioId: t.portfolioId,
    kind: t.kind,
    symbol: t.symbol ?? null,
    quantity: decOrNull(t.quantity ?? null),
    price: decOrNull(t.price ?? null),
    fee: decOut(t.fee),
    amount: decOut(t.amount),
    realizedPnl: decOrNull(t.realizedPnl ?? null),
    cashAfter: decOut(t.cashAfter),
    quantityAfter: decOrNull(t.quantityAfter ?? null),
    idempotencyKey: t.idempotencyKey ?? null,
    requestHash: t.requestHash ?? null,
    executedAt: isoOut(t.executedAt),
    createdAt: isoOut(t.createdAt),
    voidedAt: isoOrNull(t.voidedAt ?? null),
    voidKey: t.voidKey ?? null,
  };
}

export function snapshotIn(s: SnapshotRow): SnapshotRow {
  return {
    portfolioId: s.portfolioId,
    at: isoOut(s.at),
    day: dayOut(s.day),
    kind: s.kind,
    cash: decOut(s.cash),
    marketValue: decOut(s.marketValue),
    totalValue: decOut(s.totalValue),
    costBasis: decOut(s.costBasis),
    unrealizedPnl: decOut(s.unrealizedPnl),
    realizedPnl: decOut(s.realizedPnl),
    netDeposits: decOut(s.netDeposits),
    flags: [...(s.flags ?? [])],
  };
}

export function priceIn(p: SymbolPriceRow): SymbolPriceRow {
  return {
    symbol: p.symbol,
    price: decOut(p.price),
    at: isoOut(p.at),
    currency: p.currency,
    source: p.source,
    updatedAt: isoOut(p.updatedAt),
  };
}

export function barIn(b: DailyBarRow): DailyBarRow {
  return {
    symbol: b.symbol,
    day: dayOut(b.day),
    open: decOrNull(b.open ?? null),
    high: decOrNull(b.high ?? null),
    low: decOrNull(b.low ?? null),
    close: decOut(b.close),
    adjClose: decOrNull(b.adjClose ?? null),
    volume: decOrNull(b.volume ?? null),
    source: b.source,
  };
}

/** A job run as kept: the report as JSON text, as the SQL stores keep it. */
export type StoredJobRun = Omit<JobRunRow, 'report'> & { report: string | null };

export function jobRunIn(r: JobRunRow): StoredJobRun {
  return {
    job: r.job,
    runKey: r.runKey,
    status: r.status,
    startedAt: isoOut(r.startedAt),
    finishedAt: isoOrNull(r.finishedAt ?? null),
    instance: r.instance,
    report: r.report === null || r.report === undefined ? null : JSON.stringify(r.report),
  };
}

export function jobRunOut(r: StoredJobRun): JobRunRow {
  return { ...r, report: r.report === null ? null : (JSON.parse(r.report) as unknown) };
}

/** A copy of a stored row (flat rows; snapshots copy their flags). */
export const copy = <T extends object>(row: T): T => ({ ...row });
export const snapshotOut = (s: SnapshotRow): SnapshotRow => ({ ...s, flags: [...s.flags] });
export const watchOut = (w: WatchlistRow): WatchlistRow => ({ symbol: w.symbol, addedAt: w.addedAt });

/** Orders positions by symbol. */
export const bySymbol = (a: { symbol: string }, b: { symbol: string }): number => byText(a.symbol, b.symbol);

/** Orders lots oldest first (opened at, then id). */
export const byLotAge = (a: LotRow, b: LotRow): number => byText(a.openedAt, b.openedAt) || byText(a.id, b.id);
