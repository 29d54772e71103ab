/**
 * The ledger-SQL contract: which rows a ledger change reads and in which order, how those raw rows
 * become the {@link LedgerState} the planner sees, and the columns and row values of its writes.
 * The Kysely store and both native paths (SQLite, PostgreSQL) follow it, so each does only its I/O.
 */
import { portfolioNotFound } from '../errors.js';
import type {
  LedgerChangeRequest,
  LedgerState,
  LedgerWrite,
  LotRow,
  PositionRow,
  SnapshotRow,
  TransactionRow,
} from '../ports/index.js';
import { decOut, isoOut, lotFromRow, portfolioFromRow, positionFromRow, type Raw, transactionFromRow } from './rows.js';

/** The tables a ledger change reads or writes. */
export type LedgerTable = 'portfolios' | 'positions' | 'lots' | 'transactions' | 'snapshots';

/** Every column of `portfolios`, in the order reads select them. */
export const PORTFOLIO_COLUMNS = [
  'id',
  'owner_id',
  'name',
  'description',
  'base_currency',
  'cost_basis_method',
  'cash',
  'net_deposits',
  'realized_pnl',
  'ledger_at',
  'created_at',
  'updated_at',
] as const;

/** The columns of `portfolios` a ledger change updates (key: `id`), in the order of {@link portfolioBalanceValues}. */
export const PORTFOLIO_BALANCE_COLUMNS = ['cash', 'net_deposits', 'realized_pnl', 'ledger_at', 'updated_at'] as const;

/** Every column of `positions`, in the order of {@link positionValues}. Key: (`portfolio_id`, `symbol`). */
export const POSITION_COLUMNS = [
  'portfolio_id',
  'symbol',
  'quantity',
  'cost_basis',
  'realized_pnl',
  'opened_at',
  'updated_at',
] as const;

/** The key of `positions`: a ledger write upserts the touched position on it. */
export const POSITION_KEY = ['portfolio_id', 'symbol'] as const;

/** Every column of `lots`, in the order of {@link lotValues}. Key: `id`. */
export const LOT_COLUMNS = ['id', 'portfolio_id', 'symbol', 'opened_at', 'quantity', 'cost_basis'] as const;

/** The columns of `lots` a ledger change updates (key: `id`), in the order of {@link lotBalanceValues}. */
export const LOT_BALANCE_COLUMNS = ['quantity', 'cost_basis'] as const;

/** Every column of `transactions` (the ledger), in the order of {@link transactionValues}. */
export const TRANSACTION_COLUMNS = [
  'id',
  'portfolio_id',
  'kind',
  'symbol',
  'quantity',
  'price',
  'fee',
  'amount',
  'realized_pnl',
  'cash_after',
  'quantity_after',
  'idempotency_key',
  'request_hash',
  'executed_at',
  'created_at',
  'voided_at',
  'void_key',
] as const;

/** The columns of a ledger entry a re-plan updates (key: `id`), in the order of {@link entryDerivedValues}. */
export const TRANSACTION_DERIVED_COLUMNS = ['realized_pnl', 'cash_after', 'quantity_after'] as const;

/** The columns of `snapshots` a write gives (`id` is generated), in the order of {@link snapshotValues}. */
export const SNAPSHOT_COLUMNS = [
  'portfolio_id',
  'at',
  'day',
  'kind',
  'cash',
  'market_value',
  'total_value',
  'cost_basis',
  'unrealized_pnl',
  'realized_pnl',
  'net_deposits',
  'flags',
] as const;

/** A column of a ledger table. */
export type LedgerColumn =
  | (typeof PORTFOLIO_COLUMNS)[number]
  | (typeof POSITION_COLUMNS)[number]
  | (typeof LOT_COLUMNS)[number]
  | (typeof TRANSACTION_COLUMNS)[number]
  | (typeof SNAPSHOT_COLUMNS)[number];

/** What a column holds: a dialect that types its parameters casts by this. */
export type ColumnKind = 'text' | 'decimal' | 'instant' | 'day';

/** The kind of every ledger column (a name means the same kind in every table). */
export const COLUMN_KINDS: Readonly<Record<LedgerColumn, ColumnKind>> = {
  id: 'text',
  owner_id: 'text',
  name: 'text',
  description: 'text',
  base_currency: 'text',
  cost_basis_method: 'text',
  portfolio_id: 'text',
  symbol: 'text',
  kind: 'text',
  idempotency_key: 'text',
  request_hash: 'text',
  void_key: 'text',
  flags: 'text',
  cash: 'decimal',
  net_deposits: 'decimal',
  realized_pnl: 'decimal',
  quantity: 'decimal',
  cost_basis: 'decimal',
  price: 'decimal',
  fee: 'decimal',
  amount: 'decimal',
  cash_after: 'decimal',
  quantity_after: 'decimal',
  market_value: 'decimal',
  total_value: 'decimal',
  unrealized_pnl: 'decimal',
  created_at: 'instant',
  updated_at: 'instant',
  opened_at: 'instant',
  executed_at: 'instant',
  ledger_at: 'instant',
  voided_at: 'instant',
  at: 'instant',
  day: 'day',
};

/** The reads a ledger change may make. */
export type LedgerReadKind = 'portfolio' | 'existing' | 'position' | 'positions' | 'lots' | 'ledger';

/** The shape of one read: `select columns from table where a = ? and b = ? order by ...`. */
export interface LedgerReadShape {
  readonly table: LedgerTable;
  readonly columns: readonly LedgerColumn[];
  /** Equality filters, in the order of the read's parameters. */
  readonly where: readonly LedgerColumn[];
  readonly orderBy: readonly LedgerColumn[];
  /** A lookup by key: at most one row (a driver may fetch just the first). */
  readonly unique: boolean;
}

/**
 * Every read of a ledger change. `portfolio` is the one a store locks (PostgreSQL: the row lock;
 * SQLite: the write transaction). `positions` is every position ordered by symbol, `lots` the FIFO
 * lots of one symbol, oldest first (ties by id), `ledger` every entry in date order (ties by id,
 * which is entry order).
 */
export const LEDGER_READS: Readonly<Record<LedgerReadKind, LedgerReadShape>> = {
  portfolio: { table: 'portfolios', columns: PORTFOLIO_COLUMNS, where: ['id'], orderBy: [], unique: true },
  existing: {
    table: 'transactions',
    columns: TRANSACTION_COLUMNS,
    where: ['portfolio_id', 'idempotency_key'],
    orderBy: [],
    unique: true,
  },
  position: {
    table: 'positions',
    columns: POSITION_COLUMNS,
    where: ['portfolio_id', 'symbol'],
    orderBy: [],
    unique: true,
  },
  positions: {
    table: 'positions',
    columns: POSITION_COLUMNS,
    where: ['portfolio_id'],
    orderBy: ['symbol'],
    unique: false,
  },
  lots: {
    table: 'lots',
    columns: LOT_COLUMNS,
    where: ['portfolio_id', 'symbol'],
    orderBy: ['opened_at', 'id'],
    unique: false,
  },
  ledger: {
    table: 'transactions',
    columns: TRANSACTION_COLUMNS,
    where: ['portfolio_id'],
    orderBy: ['executed_at', 'id'],
    unique: false,
  },
};

/** One read of a ledger change and its parameters (in the order of its shape's `where`). */
export interface LedgerRead {
  readonly kind: LedgerReadKind;
  readonly params: readonly string[];
}

/**
 * The reads `request` needs, in the order a store makes them: the portfolio (under the lock)
 * first, then the entry under the idempotency key, then every position or the one touched, then
 * the lots of the touched symbol, then the whole ledger when asked.
 */
export function ledgerReads(request: LedgerChangeRequest): LedgerRead[] {
  const { portfolioId, symbol, idempotencyKey } = request;
  const reads: LedgerRead[] = [{ kind: 'portfolio', params: [portfolioId] }];
  if (idempotencyKey !== undefined) reads.push({ kind: 'existing', params: [portfolioId, idempotencyKey] });
  if (request.loadAllPositions === true) reads.push({ kind: 'positions', params: [portfolioId] });
  else if (symbol !== undefined) reads.push({ kind: 'position', params: [portfolioId, symbol] });
  if (symbol !== undefined && request.loadLots === true) reads.push({ kind: 'lots', params: [portfolioId, symbol] });
  if (request.loadLedger === true) reads.push({ kind: 'ledger', params: [portfolioId] });
  return reads;
}

/**
 * The state a planner sees, from the raw rows of each read (`results[i]` answers `reads[i]`).
 *
 * @throws `PORTFOLIO_NOT_FOUND` when the portfolio read found nothing.
 */
export function assembleLedgerState(
  request: LedgerChangeRequest,
  reads: readonly LedgerRead[],
  results: ReadonlyArray<readonly Raw[]>,
): LedgerState {
  const [portfolio] = results[0] ?? [];
  if (reads[0]?.kind !== 'portfolio' || !portfolio) throw portfolioNotFound(request.portfolioId);
  const state: LedgerState = {
    portfolio: portfolioFromRow(portfolio),
    position: null,
    lots: [],
    positions: [],
    existing: null,
    ledger: null,
  };
  for (let i = 1; i < reads.length; i++) {
    const found = results[i] ?? [];
    switch ((reads[i] as LedgerRead).kind) {
      case 'existing':
        state.existing = found[0] ? transactionFromRow(found[0]) : null;
        break;
      case 'positions':
        state.positions = found.map(positionFromRow);
        if (request.symbol !== undefined) {
          state.position = state.positions.find((p) => p.symbol === request.symbol) ?? null;
        }
        break;
      case 'position':
        state.position = found[0] ? positionFromRow(found[0]) : null;
        break;
      case 'lots':
        state.lots = found.map(lotFromRow);
        break;
      case 'ledger':
        state.ledger = found.map(transactionFromRow);
        break;
      case 'portfolio':
        break;
    }
  }
  return state;
}

/** A value bound to a statement parameter: every ledger value is a string (exact decimals, ISO instants) or null. */
export type SqlValue = string | null;

/** The values of {@link PORTFOLIO_BALANCE_COLUMNS}. */
export function portfolioBalanceValues(p: LedgerWrite['portfolio']): SqlValue[] {
  return [p.cash, p.netDeposits, p.realizedPnl, p.ledgerAt, p.updatedAt];
}

/** The values of {@link POSITION_COLUMNS}. */
export function positionValues(p: PositionRow): SqlValue[] {
  return [p.portfolioId, p.symbol, p.quantity, p.costBasis, p.realizedPnl, p.openedAt, p.updatedAt];
}

/** A position from a row read in array mode, its values in the order of {@link POSITION_COLUMNS}. */
export function positionFromValues(v: readonly unknown[]): PositionRow {
  return {
    portfolioId: v[0] as string,
    symbol: v[1] as string,
    quantity: decOut(v[2]),
    costBasis: decOut(v[3]),
    realizedPnl: decOut(v[4]),
    openedAt: v[5] === null || v[5] === undefined ? null : isoOut(v[5]),
    updatedAt: isoOut(v[6]),
  };
}

/** The values of {@link LOT_COLUMNS}. */
export function lotValues(l: LotRow): SqlValue[] {
  return [l.id, l.portfolioId, l.symbol, l.openedAt, l.quantity, l.costBasis];
}

/** The values of {@link LOT_BALANCE_COLUMNS}. */
export function lotBalanceValues(l: Pick<LotRow, 'quantity' | 'costBasis'>): SqlValue[] {
  return [l.quantity, l.costBasis];
}

/** The values of {@link TRANSACTION_COLUMNS}. */
export function transactionValues(t: TransactionRow): SqlValue[] {
  return [
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
    t.voidedAt,
    t.voidKey,
  ];
}

/** The values of {@link TRANSACTION_DERIVED_COLUMNS}. */
export function entryDerivedValues(t: Pick<TransactionRow, 'realizedPnl' | 'cashAfter' | 'quantityAfter'>): SqlValue[] {
  return [t.realizedPnl, t.cashAfter, t.quantityAfter];
}

/** The values of {@link SNAPSHOT_COLUMNS} (`flags` as JSON text). */
export function snapshotValues(s: SnapshotRow): SqlValue[] {
  return [
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
  ];
}
