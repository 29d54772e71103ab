/** Rows the store port reads and writes. Every decimal is a string; instants are UTC ISO strings. */

/** Cost basis methods. */
export const COST_BASIS_METHODS = ['average', 'fifo'] as const;
export type CostBasisMethod = (typeof COST_BASIS_METHODS)[number];

/** Ledger entry kinds. */
export const TRANSACTION_KINDS = ['deposit', 'withdrawal', 'buy', 'sell'] as const;
export type TransactionKind = (typeof TRANSACTION_KINDS)[number];

/** Snapshot kinds. */
export const SNAPSHOT_KINDS = ['trade', 'interval', 'daily', 'backfill'] as const;
export type SnapshotKind = (typeof SNAPSHOT_KINDS)[number];

/** A portfolio, as the API shows it and the store keeps it. Every decimal is a string. */
export interface Portfolio {
  id: string;
  ownerId: string | null;
  name: string;
  description: string | null;
  baseCurrency: string;
  costBasisMethod: CostBasisMethod;
  cash: string;
  /** Deposits minus withdrawals. */
  netDeposits: string;
  /** Realized P&L of every sell. */
  realizedPnl: string;
  /**
   * The latest `executedAt` of the portfolio's ledger entries that are not void (null before the
   * first): an entry dated before it is backdated, and re-plans the ledger from its instant.
   */
  ledgerAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A portfolio as the store port carries it (the same shape as {@link Portfolio}). */
export type PortfolioRow = Portfolio;

/** A position as stored. A position sold down to zero stays with `quantity: "0"`. */
export interface PositionRow {
  portfolioId: string;
  symbol: string;
  quantity: string;
  /** Total cost of the shares held (fees on buys included). */
  costBasis: string;
  /** Realized P&L of this symbol's sells. */
  realizedPnl: string;
  /** When the current holding was opened (null when flat). */
  openedAt: string | null;
  updatedAt: string;
}

/** A portfolio and its open positions, read together. */
export interface PortfolioState {
  portfolio: PortfolioRow;
  /** Open positions (quantity ≠ 0), ordered by symbol. */
  positions: PositionRow[];
}

/** A FIFO lot: shares bought together, and what is left of them. */
export interface LotRow {
  id: string;
  portfolioId: string;
  symbol: string;
  openedAt: string;
  quantity: string;
  costBasis: string;
}

/** A ledger entry. `amount` is the signed change of cash. */
export interface TransactionRow {
  id: string;
  portfolioId: string;
  kind: TransactionKind;
  symbol: string | null;
  quantity: string | null;
  price: string | null;
  fee: string;
  /** Signed cash change: + for deposits and sells, − for withdrawals and buys. */
  amount: string;
  realizedPnl: string | null;
  /** Cash balance right after this entry. */
  cashAfter: string;
  /** Quantity of `symbol` held right after this entry (trades only). */
  quantityAfter: string | null;
  idempotencyKey: string | null;
  /** A fingerprint of the request, to tell a replay from a conflicting reuse of a key. */
  requestHash: string | null;
  executedAt: string;
  createdAt: string;
  /** When the entry was voided (null while it counts). A void entry stays in the ledger but is not applied. */
  voidedAt: string | null;
  /** The idempotency key of the void, if one was given. */
  voidKey: string | null;
}

/**
 * A portfolio's totals, as valuations and snapshots report them (computed once, by the valuation
 * kernel). Positions with no price at all are left out of market value and cost basis.
 */
export interface PortfolioTotals {
  /** Σ quantity × price of priced positions (stale prices included). */
  marketValue: string;
  /** cash + marketValue. */
  totalValue: string;
  /** Σ costBasis of priced positions. */
  costBasis: string;
  /** marketValue − costBasis. */
  unrealizedPnl: string;
  /** Realized P&L of every sell. */
  realizedPnl: string;
  /** Deposits minus withdrawals. */
  netDeposits: string;
}

/** The flag of a snapshot taken before a backdated entry or a void changed the ledger under it. */
export const LEDGER_STALE_FLAG = 'ledger:stale';

/** A point-in-time valuation of a portfolio. */
export interface SnapshotRow extends PortfolioTotals {
  portfolioId: string;
  at: string;
  day: string;
  kind: SnapshotKind;
  cash: string;
  /**
   * `SYM:stale` for a symbol valued at a last known price, `SYM:unpriced` for one left out for want
   * of any, and {@link LEDGER_STALE_FLAG} when the ledger changed before this snapshot's instant
   * (a backdated entry or a void) and the snapshot could not be recomputed.
   */
  flags: string[];
}

/** The latest known price of a symbol, as kept by the price book. */
export interface SymbolPriceRow {
  symbol: string;
  price: string;
  at: string;
  currency: string;
  source: string;
  updatedAt: string;
}

/** A symbol on a portfolio's watchlist. */
export interface WatchlistRow {
  symbol: string;
  addedAt: string;
}

/**
 * A target holding of a model portfolio (see `setTargets`). `weight` is a decimal fraction of the
 * portfolio's total value (`"0.25"`), or `null` for "an equal share of what the weighted targets
 * leave".
 */
export interface TargetRow {
  portfolioId: string;
  symbol: string;
  /** Decimal string in [0, 1], or null (equal weight). */
  weight: string | null;
  updatedAt: string;
}

/** A daily bar as the price history keeps it. */
export interface DailyBarRow {
  symbol: string;
  day: string;
  open: string | null;
  high: string | null;
  low: string | null;
  close: string;
  adjClose: string | null;
  volume: string | null;
  source: string;
}

/** The part of a position a valuation needs. */
export interface HoldingRow {
  portfolioId: string;
  symbol: string;
  quantity: string;
  costBasis: string;
}

/** Statuses of a job run. */
export const JOB_RUN_STATUSES = ['running', 'completed', 'failed'] as const;
export type JobRunStatus = (typeof JOB_RUN_STATUSES)[number];

/**
 * One run of a scheduled job for one tick, as the scheduler records it. One row per
 * (job, runKey): a rerun overwrites it.
 */
export interface JobRunRow {
  /** Job name (`"daily-snapshots"`). */
  job: string;
  /** What the run is for: the valued day for the daily job, the tick instant for interval jobs. */
  runKey: string;
  status: JobRunStatus;
  startedAt: string;
  finishedAt: string | null;
  /** The engine instance that ran it. */
  instance: string;
  /** The job's report, or the error of a failed run (JSON-serialisable). */
  report: unknown;
}

/** Query of {@link Store.listJobRuns}. */
export interface JobRunQuery {
  /** Only run keys `>= fromKey` (keys compare as text). */
  fromKey?: string;
  /** Only run keys `<= toKey`. */
  toKey?: string;
  status?: JobRunStatus;
  limit: number;
  /** Order by run key. @default 'asc' */
  order?: 'asc' | 'desc';
}

/** Kinds of alert: price alerts (`above`, `below`, `change`) and portfolio alerts (`drawdown`, `weight`, `daily-pnl`). */
export const ALERT_KINDS = ['above', 'below', 'change', 'drawdown', 'weight', 'daily-pnl'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** A stored alert (see `createAlert` for what each kind's threshold and window mean). */
export interface AlertRow {
  id: string;
  ownerId: string | null;
  /** The portfolio (portfolio alerts, and optionally price alerts); null when none. */
  portfolioId: string | null;
  kind: AlertKind;
  /** The symbol (price alerts and `weight`); null otherwise. */
  symbol: string | null;
  /** Decimal string. */
  threshold: string;
  /** Look-back in days (`change` only); null otherwise. */
  window: number | null;
  coolDownMs: number;
  createdAt: string;
  /** When it last fired (null before the first time). */
  lastFiredAt: string | null;
  /** No fire before this instant (null before the first fire). */
  coolDownUntil: string | null;
  active: boolean;
}

/**
 * The columns `Store.updateAlert` may change: only those present are written. The fire history
 * (`lastFiredAt`, `coolDownUntil`) is never part of it: only `Store.markAlertFired` writes it.
 */
export interface AlertPatch {
  active?: boolean;
  /** Decimal string. */
  threshold?: string;
  coolDownMs?: number;
}

/** Query of `Store.listAlerts`. */
export interface AlertQuery {
  ownerId?: string;
  portfolioId?: string;
  id?: string;
  /** Only active alerts. @default false */
  activeOnly?: boolean;
}

/** Where a backtest run stands. `queued` and `running` change; the other three are final. */
export const BACKTEST_RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type BacktestRunStatus = (typeof BACKTEST_RUN_STATUSES)[number];

/**
 * A stored backtest run (see `createBacktestRunner`). `request` and `result` are JSON values the
 * runner writes and reads back as they were (the store keeps them as JSON text).
 */
export interface BacktestRunRow {
  id: string;
  ownerId: string | null;
  /** `single`: one backtest; `compare`: several variants on the same bars. */
  kind: 'single' | 'compare';
  status: BacktestRunStatus;
  /** The request as submitted (JSON). */
  request: unknown;
  /** Bars replayed so far, of all bars (0 of 0 before the bars are loaded). */
  progressDone: number;
  progressTotal: number;
  /** The result (JSON) once `succeeded`, else null. */
  result: unknown;
  /** `{ code, message, details? }` once `failed` or `cancelled`, else null. */
  error: unknown;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** Query of `Store.listBacktestRuns`: newest first (id descending). */
export interface BacktestRunQuery {
  /** Only this owner's runs (null: runs without an owner). All owners when omitted. */
  ownerId?: string | null;
  /** Only runs with an id lower than this one (the next page after it). */
  beforeId?: string;
  /** Only runs in these statuses. */
  statuses?: readonly BacktestRunStatus[];
  /** At most this many. */
  limit: number;
}

/** A user's saved parameters for a strategy (`PUT /strategies/:name/params`). */
export interface StrategyParamsRow {
  ownerId: string;
  strategy: string;
  /** The parameters as the strategy's schema validated them (JSON). */
  params: unknown;
  updatedAt: string;
}
