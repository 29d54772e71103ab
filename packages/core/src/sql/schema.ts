/**
 * Table shapes of the shared Kysely store. Decimals are TEXT on SQLite and NUMERIC on PostgreSQL;
 * both come back as strings. Instants are TEXT (ISO, `Z`) on SQLite and TIMESTAMPTZ on PostgreSQL;
 * days are TEXT / DATE. Row mappers normalise what a driver returns (a `Date`, a string) to ISO.
 */
import type { Generated } from 'kysely';

/** An instant as a driver returns it: a `Date`, or text. */
export type Instant = string | Date;

export interface PortfoliosTable {
  id: string;
  owner_id: string | null;
  name: string;
  description: string | null;
  base_currency: string;
  cost_basis_method: string;
  cash: string;
  net_deposits: string;
  realized_pnl: string;
  /** Latest `executed_at` of the entries that are not void (migration 0003). */
  ledger_at: Instant | null;
  created_at: Instant;
  updated_at: Instant;
}

export interface PositionsTable {
  portfolio_id: string;
  symbol: string;
  quantity: string;
  cost_basis: string;
  realized_pnl: string;
  opened_at: Instant | null;
  updated_at: Instant;
}

export interface LotsTable {
  id: string;
  portfolio_id: string;
  symbol: string;
  opened_at: Instant;
  quantity: string;
  cost_basis: string;
}

export interface TransactionsTable {
  id: string;
  portfolio_id: string;
  kind: string;
  symbol: string | null;
  quantity: string | null;
  price: string | null;
  fee: string;
  amount: string;
  realized_pnl: string | null;
  cash_after: string;
  quantity_after: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  executed_at: Instant;
  created_at: Instant;
  /** Migration 0003: when the entry was voided. */
  voided_at: Instant | null;
  void_key: string | null;
}

export interface SnapshotsTable {
  id: Generated<number>;
  portfolio_id: string;
  at: Instant;
  day: string | Date;
  kind: string;
  cash: string;
  market_value: string;
  total_value: string;
  cost_basis: string;
  unrealized_pnl: string;
  realized_pnl: string;
  net_deposits: string;
  flags: string;
  /** Migration 0003: 1 when the ledger changed under this snapshot and it was not recomputed. */
  stale: Generated<number>;
}

export interface SymbolsTable {
  symbol: string;
  price: string;
  at: Instant;
  currency: string;
  source: string;
  updated_at: Instant;
}

export interface PriceHistoryTable {
  symbol: string;
  day: string | Date;
  open: string | null;
  high: string | null;
  low: string | null;
  close: string;
  adj_close: string | null;
  volume: string | null;
  source: string;
}

export interface WatchlistTable {
  portfolio_id: string;
  symbol: string;
  added_at: Instant;
}

/** Migration 0005: target holdings of model portfolios. `weight` null = equal weight. */
export interface TargetsTable {
  portfolio_id: string;
  symbol: string;
  weight: string | null;
  updated_at: Instant;
}

/** Migration 0006: alerts. `active` is 0/1 on SQLite, boolean on PostgreSQL. */
export interface AlertsTable {
  id: string;
  owner_id: string | null;
  portfolio_id: string | null;
  kind: string;
  symbol: string | null;
  threshold: string;
  window_days: number | null;
  cool_down_ms: number;
  created_at: Instant;
  last_fired_at: Instant | null;
  cool_down_until: Instant | null;
  active: boolean | number;
}

/**
 * Migration 0007: backtest runs. `request`, `result` and `error` are JSON text; `status` one of
 * `BACKTEST_RUN_STATUSES`.
 */
export interface BacktestRunsTable {
  id: string;
  owner_id: string | null;
  kind: string;
  status: string;
  request: string;
  progress_done: number;
  progress_total: number;
  result: string | null;
  error: string | null;
  created_at: Instant;
  started_at: Instant | null;
  finished_at: Instant | null;
}

/** Migration 0007: a user's saved parameters per strategy. `params` is JSON text. */
export interface StrategyParamsTable {
  owner_id: string;
  strategy: string;
  params: string;
  updated_at: Instant;
}

/** Runs of scheduled jobs: one row per (job, run_key). `report` is JSON text. */
export interface JobRunsTable {
  job: string;
  run_key: string;
  status: string;
  started_at: Instant;
  finished_at: Instant | null;
  instance: string;
  report: string | null;
}

/** The database as the Kysely store sees it. */
export interface FoliokitDatabase {
  portfolios: PortfoliosTable;
  positions: PositionsTable;
  lots: LotsTable;
  transactions: TransactionsTable;
  snapshots: SnapshotsTable;
  symbols: SymbolsTable;
  price_history: PriceHistoryTable;
  watchlist: WatchlistTable;
  job_runs: JobRunsTable;
  targets: TargetsTable;
  alerts: AlertsTable;
  backtest_runs: BacktestRunsTable;
  strategy_params: StrategyParamsTable;
}
