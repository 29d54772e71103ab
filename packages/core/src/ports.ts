/**
 * The ports: what the engine needs from the outside. `@foliokit/core` talks to a database only
 * through {@link Store}, to market data only through {@link MarketDataProvider}, to time only
 * through {@link Clock}, and logs through {@link Logger}.
 */
export type { Clock, TimerHandle } from './time.js';

// ---------------------------------------------------------------------------------------------
// Logger
// ---------------------------------------------------------------------------------------------

/** A minimal structured logger (pino, console and most loggers fit). */
export interface Logger {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

/** A logger that prints warnings and errors to the console and drops the rest. */
export const consoleLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (message, data) => console.warn(`[foliokit] ${message}`, data ?? ''),
  error: (message, data) => console.error(`[foliokit] ${message}`, data ?? ''),
};

/** A logger that drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

// ---------------------------------------------------------------------------------------------
// Market data
// ---------------------------------------------------------------------------------------------

/** The latest price of one symbol. */
export interface Quote {
  /** Normalised symbol (trimmed, upper case). */
  symbol: string;
  /** Price as a positive decimal string. */
  price: string;
  /** When the price was observed: UTC ISO-8601 instant. */
  at: string;
  /** ISO 4217 currency of the price. @default 'USD' */
  currency?: string;
  /** Which provider produced it (`"simulated"`, `"yahoo"`, ...). */
  source: string;
}

/** One daily bar. Decimal strings; `close` is required, the rest optional. */
export interface DailyBar {
  /** Calendar day `YYYY-MM-DD`. */
  day: string;
  open?: string;
  high?: string;
  low?: string;
  close: string;
  /** Adjusted close, when the source has one. */
  adjClose?: string;
  volume?: string;
}

/** The answer to a batch quote request: priced symbols, and those the provider does not know. */
export interface QuoteBatch {
  /** Quotes by normalised symbol. */
  quotes: Record<string, Quote>;
  /** Symbols the provider does not know. Not an error for the rest of the batch. */
  unknown: string[];
}

/** A symbol search hit. */
export interface SymbolMatch {
  symbol: string;
  name?: string;
  exchange?: string;
  currency?: string;
}

/** Options every long provider operation accepts last. */
export interface CallOptions {
  /** Aborts the call. */
  signal?: AbortSignal;
}

/**
 * A source of prices. Implement this to plug any data source into foliokit; wrap it with the
 * resilience wrappers of `@foliokit/providers` (timeout, retry, rate limit, cache, failover).
 *
 * @example
 * ```ts
 * const provider: MarketDataProvider = {
 *   name: 'my-feed',
 *   async getQuotes(symbols) { ... return { quotes, unknown } },
 *   async getDailyHistory(symbol, { from, to }) { ... return bars },
 * };
 * ```
 */
export interface MarketDataProvider {
  /** A short name used in quotes' `source`, logs and status (`"yahoo"`). */
  readonly name: string;
  /**
   * Latest prices for a batch of symbols (already normalised). Symbols the provider does not know
   * go in `unknown`; a failure of the whole source throws.
   */
  getQuotes(symbols: readonly string[], options?: CallOptions): Promise<QuoteBatch>;
  /**
   * Daily bars for `symbol` with `from <= day <= to`, ordered by day ascending. An unknown symbol
   * throws a FoliokitError with code `UNKNOWN_SYMBOL`; a known symbol with no bars in range returns `[]`.
   */
  getDailyHistory(symbol: string, range: { from: string; to: string }, options?: CallOptions): Promise<DailyBar[]>;
  /** Optional symbol search. */
  searchSymbols?(query: string, options?: CallOptions): Promise<SymbolMatch[]>;
  /**
   * How often the engine's price poller should refresh this provider's quotes, in ms. A simulated
   * feed can be polled every few seconds; a rate-limited HTTP source wants minutes.
   * @default 900_000 (15 minutes)
   */
  readonly suggestedPollIntervalMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Store rows
// ---------------------------------------------------------------------------------------------

/** Cost basis methods. */
export const COST_BASIS_METHODS = ['average', 'fifo'] as const;
export type CostBasisMethod = (typeof COST_BASIS_METHODS)[number];

/** Ledger entry kinds. */
export const TRANSACTION_KINDS = ['deposit', 'withdrawal', 'buy', 'sell'] as const;
export type TransactionKind = (typeof TRANSACTION_KINDS)[number];

/** Snapshot kinds. */
export const SNAPSHOT_KINDS = ['trade', 'interval', 'daily', 'backfill'] as const;
export type SnapshotKind = (typeof SNAPSHOT_KINDS)[number];

/** A portfolio as stored. Decimals are strings. */
export interface PortfolioRow {
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
  createdAt: string;
  updatedAt: string;
}

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
}

/** A point-in-time valuation of a portfolio. */
export interface SnapshotRow {
  portfolioId: string;
  at: string;
  day: string;
  kind: SnapshotKind;
  cash: string;
  marketValue: string;
  totalValue: string;
  costBasis: string;
  unrealizedPnl: string;
  realizedPnl: string;
  netDeposits: string;
  /** Symbols valued at a stale (last known) price, or left out for want of any price. */
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

// ---------------------------------------------------------------------------------------------
// Store port
// ---------------------------------------------------------------------------------------------

/** What the store loads, under lock, before a ledger change is planned. */
export interface LedgerChangeRequest {
  portfolioId: string;
  /** The position (and lots) to load, if the change touches one. */
  symbol?: string;
  /** Load the FIFO lots of `symbol`, oldest first. */
  loadLots?: boolean;
  /** Load every position of the portfolio (for a post-trade snapshot). */
  loadAllPositions?: boolean;
  /** Look up an earlier entry with this idempotency key. */
  idempotencyKey?: string;
}

/** The state a ledger change is planned from, read inside the change's transaction. */
export interface LedgerState {
  portfolio: PortfolioRow;
  position: PositionRow | null;
  lots: LotRow[];
  /** Every position, when `loadAllPositions` was asked. */
  positions: PositionRow[];
  /** The entry already recorded under the request's idempotency key, if any. */
  existing: TransactionRow | null;
}

/** The writes of one ledger change, applied atomically. */
export interface LedgerWrite {
  portfolio: Pick<PortfolioRow, 'cash' | 'netDeposits' | 'realizedPnl' | 'updatedAt'>;
  /** Upsert of the touched position. */
  position?: PositionRow;
  lots?: {
    insert: LotRow[];
    update: Array<Pick<LotRow, 'id' | 'quantity' | 'costBasis'>>;
    delete: string[];
  };
  transaction: TransactionRow;
  /** A snapshot to record in the same transaction. */
  snapshot?: SnapshotRow;
}

/**
 * Plans a ledger change from the locked state. Returns the writes, or `null` to write nothing
 * (an idempotent replay). Throwing aborts the change and rolls back: nothing is written.
 * Must be synchronous and free of I/O: a store may run it inside a synchronous transaction.
 */
export type LedgerPlanner = (state: LedgerState) => LedgerWrite | null;

/**
 * Carries a planner's error through a store's own error handling, so that the caller receives it
 * unchanged whatever it is (a store wraps only its driver's errors as `STORE_ERROR`). Stores call
 * {@link runPlanner} and unwrap with `error instanceof PlannerError ? error.original : ...`.
 */
export class PlannerError extends Error {
  override readonly name = 'PlannerError';
  constructor(readonly original: unknown) {
    super('the ledger planner failed');
  }
}

/** Calls a planner, wrapping whatever it throws in a {@link PlannerError}. */
export function runPlanner(plan: LedgerPlanner, state: LedgerState): LedgerWrite | null {
  try {
    return plan(state);
  } catch (error) {
    throw new PlannerError(error);
  }
}

/** Page of a cursor-paginated listing. */
export interface TransactionQuery {
  limit: number;
  /** Keyset cursor: entries strictly older than this (executedAt, id) pair. */
  before?: { executedAt: string; id: string };
  kinds?: readonly TransactionKind[];
  /** Only entries executed at or before this instant. */
  until?: string;
  /** @default 'desc' (newest first) */
  order?: 'asc' | 'desc';
}

/** Snapshot query. */
export interface SnapshotQuery {
  from?: string;
  to?: string;
  kinds?: readonly SnapshotKind[];
  limit?: number;
  /**
   * Downsample: return only the last snapshot (by `at`) of each UTC hour (`'hour'`) or of each
   * `day` (`'day'`). A store that ignores this returns every row; the engine downsamples again, so
   * the answer is the same, only slower. The built-in stores do it in SQL.
   */
  bucket?: 'hour' | 'day';
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

/** The answer of {@link Store.runExclusive}: the function's value, or `ran: false` when the key was held. */
export type ExclusiveResult<T> = { ran: true; value: T } | { ran: false };

/**
 * The persistence port. `@foliokit/store-sqlite` and `@foliokit/store-postgres` implement it on
 * one shared Kysely implementation; a third-party store proves itself with
 * `runStoreConformance` from `@foliokit/core/testing`.
 *
 * Every method that writes more than one row does so in one transaction.
 */
export interface Store {
  /** A short name for logs and status (`"sqlite"`, `"postgres"`). */
  readonly name: string;
  /**
   * Whether several engine instances (processes) can share this store, with scheduled jobs
   * coordinated through {@link Store.runExclusive}. @default false
   */
  readonly supportsMultiInstance?: boolean;

  /** Creates a portfolio, and its opening deposit in the same transaction. */
  createPortfolio(row: PortfolioRow, openingDeposit?: TransactionRow): Promise<void>;
  getPortfolio(id: string): Promise<PortfolioRow | null>;
  /** Portfolios ordered by id, keyset-paginated. */
  listPortfolios(query: { ownerId?: string; limit: number; afterId?: string }): Promise<PortfolioRow[]>;
  /** Updates name/description; returns the updated row, or null when there is no such portfolio. */
  updatePortfolio(
    id: string,
    patch: { name?: string; description?: string | null; updatedAt: string },
  ): Promise<PortfolioRow | null>;
  /** Deletes a portfolio and every row that belongs to it. Returns false when it did not exist. */
  deletePortfolio(id: string): Promise<boolean>;

  /**
   * Runs one ledger change atomically: locks the portfolio (serialising concurrent changes to it),
   * loads {@link LedgerState}, calls `plan`, applies its writes, commits. If `plan` throws, nothing
   * is written and the error propagates unchanged. Throws `PORTFOLIO_NOT_FOUND` when the portfolio
   * does not exist.
   */
  applyLedgerChange(request: LedgerChangeRequest, plan: LedgerPlanner): Promise<void>;

  /** Positions of a portfolio (including flat ones), ordered by symbol. */
  listPositions(portfolioId: string): Promise<PositionRow[]>;
  /** FIFO lots of a portfolio, oldest first. */
  listLots(portfolioId: string, symbol?: string): Promise<LotRow[]>;
  /** Ledger entries, keyset-paginated. */
  listTransactions(portfolioId: string, query: TransactionQuery): Promise<TransactionRow[]>;

  /** Adds a symbol to a portfolio's watchlist (no-op when present); returns the list, read in the same transaction. */
  addWatch(portfolioId: string, symbol: string, at: string): Promise<WatchlistRow[]>;
  /** Removes a symbol (no-op when absent); returns the list, read in the same transaction. */
  removeWatch(portfolioId: string, symbol: string): Promise<WatchlistRow[]>;
  /** Watched symbols, ordered. */
  listWatch(portfolioId: string): Promise<WatchlistRow[]>;

  /**
   * Records snapshots in one transaction. With `replace: 'day'`, an existing snapshot of the same
   * portfolio, kind and day is replaced (jobs are idempotent per portfolio and day).
   */
  insertSnapshots(rows: readonly SnapshotRow[], options?: { replace?: 'day' }): Promise<void>;
  listSnapshots(portfolioId: string, query: SnapshotQuery): Promise<SnapshotRow[]>;

  /** Upserts latest prices (a newer `at` wins; an older one is ignored). */
  upsertPrices(rows: readonly SymbolPriceRow[]): Promise<void>;
  /** Latest prices for symbols (all when omitted). */
  getPrices(symbols?: readonly string[]): Promise<SymbolPriceRow[]>;

  /** Upserts daily bars (one per symbol and day: a rerun replaces). */
  upsertDailyBars(rows: readonly DailyBarRow[]): Promise<void>;
  /** Stored daily bars of a symbol, `from <= day <= to`, ascending. */
  listDailyBars(symbol: string, range: { from: string; to: string }): Promise<DailyBarRow[]>;

  /** Distinct symbols currently held (quantity > 0) or watched, across all portfolios. */
  listActiveSymbols(): Promise<string[]>;

  /**
   * Portfolios with their open positions (quantity ≠ 0, by symbol), each portfolio read as one
   * consistent snapshot: never cash from before a trade with quantities from after it. In the order
   * of `portfolioIds`; unknown ids are left out. Valuations, snapshots and the jobs read through it.
   */
  readPortfolioStates(portfolioIds: readonly string[]): Promise<PortfolioState[]>;

  /**
   * Runs `fn` only when no one else holds `key`, and never waits: `{ ran: false }` when the key is
   * held. "No one else" is this process for a single-process store, and every process sharing the
   * database for a multi-instance one (PostgreSQL: a session-level advisory lock on a dedicated
   * connection, released in `finally`, and by the server when a crashed holder's session ends).
   * A lock only saves work: every job write is idempotent anyway.
   * Optional: without it the scheduler coordinates within this process only.
   *
   * @example
   * ```ts
   * const r = await store.runExclusive('job:daily-snapshots', () => runTheJob());
   * if (!r.ran) console.log('another instance is running it');
   * ```
   */
  runExclusive?<T>(key: string, fn: () => Promise<T>): Promise<ExclusiveResult<T>>;
  /**
   * The recorded run of a job for one run key. Optional, with {@link Store.saveJobRun} and
   * {@link Store.listJobRuns}: without them the scheduler keeps its records in memory, so a run
   * finished by another instance, or before a restart, is not known.
   */
  getJobRun?(job: string, runKey: string): Promise<JobRunRow | null>;
  /** Inserts or replaces the run of (job, runKey). */
  saveJobRun?(row: JobRunRow): Promise<void>;
  /** Runs of a job ordered by run key. */
  listJobRuns?(job: string, query: JobRunQuery): Promise<JobRunRow[]>;
  /** Deletes finished runs (of one job, or of all) started before an instant; returns how many. */
  deleteJobRuns?(query: { startedBefore: string; job?: string }): Promise<number>;

  /** Runs pending migrations. Idempotent; safe when several processes call it at once. */
  migrate(): Promise<void>;
  /** Releases connections. Further calls fail with `STORE_CLOSED`. */
  close(): Promise<void>;
}
