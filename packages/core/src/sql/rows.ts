/**
 * Mapping between database rows (snake_case, driver-specific value types) and the store port's rows.
 * Exported for adapters that run a native hot path next to the Kysely store.
 */
import {
  type CostBasisMethod,
  type DailyBarRow,
  LEDGER_STALE_FLAG,
  type LotRow,
  type PortfolioRow,
  type PositionRow,
  type SnapshotKind,
  type SnapshotRow,
  type SymbolPriceRow,
  type TransactionKind,
  type TransactionRow,
} from '../ports/index.js';

/** A driver's instant (a `Date`, an ISO string, or PostgreSQL's text form) as an ISO string with `Z`. */
export function isoOut(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  const text = String(value);
  if (text.endsWith('Z') && text.length === 24) return text;
  // PostgreSQL's text form: `2026-01-02 03:04:05.123456+00` (zone as ±HH, ±HH:MM or ±HH:MM:SS).
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}(?::?\d{2})?(?::?\d{2})?)?$/.exec(text);
  if (m) {
    const fraction = (m[3] ?? '.000').slice(0, 4).padEnd(4, '0');
    let zone = m[4] ?? 'Z';
    if (zone !== 'Z') {
      const digits = zone.slice(1).replace(/:/g, '');
      zone = `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2, 4) || '00'}`;
    }
    const ms = Date.parse(`${m[1]}T${m[2]}${fraction}${zone}`);
    if (Number.isFinite(ms)) return new Date(ms).toISOString();
  }
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw new Error(`Not an instant: ${text}`);
  return new Date(ms).toISOString();
}

/** A driver's day (a string, or a `Date` at UTC midnight) as `YYYY-MM-DD`. */
export function dayOut(value: unknown): string {
  if (value instanceof Date) {
    // A DATE parsed by a driver into local midnight: read its local calendar fields.
    const y = value.getFullYear();
    const m = String(value.getMonth() + 1).padStart(2, '0');
    const d = String(value.getDate()).padStart(2, '0');
    return `${y}-${m}-${d}`;
  }
  return String(value).slice(0, 10);
}

/** A driver's decimal (string from NUMERIC or TEXT) as a canonical decimal string. */
export function decOut(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  const last = text.charCodeAt(text.length - 1);
  // Fast path: canonical strings (what we write) end in a non-zero digit or are integers.
  if (last !== 48 && last !== 46) return text;
  if (!text.includes('.')) return text === '-0' ? '0' : text;
  // PostgreSQL NUMERIC keeps trailing zeros of the stored scale: strip them.
  const trimmed = text.replace(/0+$/, '').replace(/\.$/, '');
  return trimmed === '-0' || trimmed === '' ? '0' : trimmed;
}

function instantOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : isoOut(value);
}

/** A snapshot's flags: the stored JSON list, and {@link LEDGER_STALE_FLAG} when the row is marked stale. */
function snapshotFlags(r: Raw): string[] {
  const flags = JSON.parse((r.flags as string | null) ?? '[]') as string[];
  // `stale` is 0/1 (an integer column on both dialects; some drivers answer a string).
  if (r.stale !== undefined && r.stale !== null && Number(r.stale) !== 0) flags.push(LEDGER_STALE_FLAG);
  return flags;
}

function decOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : decOut(value);
}

/** A database row as a driver returns it. */
export type Raw = Record<string, unknown>;

export function portfolioFromRow(r: Raw): PortfolioRow {
  return {
    id: r.id as string,
    ownerId: (r.owner_id as string | null) ?? null,
    name: r.name as string,
    description: (r.description as string | null) ?? null,
    baseCurrency: r.base_currency as string,
    costBasisMethod: r.cost_basis_method as CostBasisMethod,
    cash: decOut(r.cash),
    netDeposits: decOut(r.net_deposits),
    realizedPnl: decOut(r.realized_pnl),
    ledgerAt: instantOrNull(r.ledger_at),
    createdAt: isoOut(r.created_at),
    updatedAt: isoOut(r.updated_at),
  };
}

export function portfolioToRow(p: PortfolioRow) {
  return {
    id: p.id,
    owner_id: p.ownerId,
    name: p.name,
    description: p.description,
    base_currency: p.baseCurrency,
    cost_basis_method: p.costBasisMethod,
    cash: p.cash,
    net_deposits: p.netDeposits,
    realized_pnl: p.realizedPnl,
    ledger_at: p.ledgerAt,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
  };
}

export function positionFromRow(r: Raw): PositionRow {
  return {
    portfolioId: r.portfolio_id as string,
    symbol: r.symbol as string,
    quantity: decOut(r.quantity),
    costBasis: decOut(r.cost_basis),
    realizedPnl: decOut(r.realized_pnl),
    openedAt: r.opened_at === null || r.opened_at === undefined ? null : isoOut(r.opened_at),
    updatedAt: isoOut(r.updated_at),
  };
}

export function positionToRow(p: PositionRow) {
  return {
    portfolio_id: p.portfolioId,
    symbol: p.symbol,
    quantity: p.quantity,
    cost_basis: p.costBasis,
    realized_pnl: p.realizedPnl,
    opened_at: p.openedAt,
    updated_at: p.updatedAt,
  };
}

export function lotFromRow(r: Raw): LotRow {
  return {
    id: r.id as string,
    portfolioId: r.portfolio_id as string,
    symbol: r.symbol as string,
    openedAt: isoOut(r.opened_at),
    quantity: decOut(r.quantity),
    costBasis: decOut(r.cost_basis),
  };
}

export function lotToRow(l: LotRow) {
  return {
    id: l.id,
    portfolio_id: l.portfolioId,
    symbol: l.symbol,
    opened_at: l.openedAt,
    quantity: l.quantity,
    cost_basis: l.costBasis,
  };
}

export function transactionFromRow(r: Raw): TransactionRow {
  return {
    id: r.id as string,
    portfolioId: r.portfolio_id as string,
    kind: r.kind as TransactionKind,
    symbol: (r.symbol as string | null) ?? null,
    quantity: decOrNull(r.quantity),
    price: decOrNull(r.price),
    fee: decOut(r.fee),
    amount: decOut(r.amount),
    realizedPnl: decOrNull(r.realized_pnl),
    cashAfter: decOut(r.cash_after),
    quantityAfter: decOrNull(r.quantity_after),
    idempotencyKey: (r.idempotency_key as string | null) ?? null,
    requestHash: (r.request_hash as string | null) ?? null,
    executedAt: isoOut(r.executed_at),
    createdAt: isoOut(r.created_at),
    voidedAt: instantOrNull(r.voided_at),
    voidKey: (r.void_key as string | null | undefined) ?? null,
  };
}

export function transactionToRow(t: TransactionRow) {
  return {
    id: t.id,
    portfolio_id: t.portfolioId,
    kind: t.kind,
    symbol: t.symbol,
    quantity: t.quantity,
    price: t.price,
    fee: t.fee,
    amount: t.amount,
    realized_pnl: t.realizedPnl,
    cash_after: t.cashAfter,
    quantity_after: t.quantityAfter,
    idempotency_key: t.idempotencyKey,
    request_hash: t.requestHash,
    executed_at: t.executedAt,
    created_at: t.createdAt,
    voided_at: t.voidedAt,
    void_key: t.voidKey,
  };
}

export function snapshotFromRow(r: Raw): SnapshotRow {
  return {
    portfolioId: r.portfolio_id as string,
    at: isoOut(r.at),
    day: dayOut(r.day),
    kind: r.kind as SnapshotKind,
    cash: decOut(r.cash),
    marketValue: decOut(r.market_value),
    totalValue: decOut(r.total_value),
    costBasis: decOut(r.cost_basis),
    unrealizedPnl: decOut(r.unrealized_pnl),
    realizedPnl: decOut(r.realized_pnl),
    netDeposits: decOut(r.net_deposits),
    flags: snapshotFlags(r),
  };
}

export function snapshotToRow(s: SnapshotRow) {
  return {
    portfolio_id: s.portfolioId,
    at: s.at,
    day: s.day,
    kind: s.kind,
    cash: s.cash,
    market_value: s.marketValue,
    total_value: s.totalValue,
    cost_basis: s.costBasis,
    unrealized_pnl: s.unrealizedPnl,
    realized_pnl: s.realizedPnl,
    net_deposits: s.netDeposits,
    flags: JSON.stringify(s.flags),
  };
}

export function priceFromRow(r: Raw): SymbolPriceRow {
  return {
    symbol: r.symbol as string,
    price: decOut(r.price),
    at: isoOut(r.at),
    currency: r.currency as string,
    source: r.source as string,
    updatedAt: isoOut(r.updated_at),
  };
}

export function priceToRow(p: SymbolPriceRow) {
  return {
    symbol: p.symbol,
    price: p.price,
    at: p.at,
    currency: p.currency,
    source: p.source,
    updated_at: p.updatedAt,
  };
}

function decOrNullOut(value: unknown): string | null {
  return value === null || value === undefined ? null : decOut(value);
}

export function barFromRow(r: Raw): DailyBarRow {
  return {
    symbol: r.symbol as string,
    day: dayOut(r.day),
    open: decOrNullOut(r.open),
    high: decOrNullOut(r.high),
    low: decOrNullOut(r.low),
    close: decOut(r.close),
    adjClose: decOrNullOut(r.adj_close),
    volume: decOrNullOut(r.volume),
    source: r.source as string,
  };
}

export function barToRow(b: DailyBarRow) {
  return {
    symbol: b.symbol,
    day: b.day,
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    adj_close: b.adjClose,
    volume: b.volume,
    source: b.source,
  };
}
