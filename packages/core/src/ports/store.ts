/** The persistence port: what a store must do for the engine, and the ledger-change protocol. */
import type { EventTransport } from './event-transport.js';
import type {
  AlertPatch,
  AlertQuery,
  AlertRow,
  BacktestRunQuery,
  BacktestRunRow,
  BacktestRunStatus,
  DailyBarRow,
  JobRunQuery,
  JobRunRow,
  LotRow,
  PortfolioRow,
  PortfolioState,
  PositionRow,
  SnapshotKind,
  SnapshotRow,
  StrategyParamsRow,
  SymbolPriceRow,
  TargetRow,
  TransactionKind,
  TransactionRow,
  WatchlistRow,
} from './rows.js';

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
  /**
   * Load the whole ledger of the portfolio (void entries included), in date order: a backdated
   * entry or a void re-plans the portfolio from it.
   */
  loadLedger?: boolean;
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
  /**
   * Every ledger entry of the portfolio (void ones included) ordered by `executedAt`, then `id`
   * (entry order), when `loadLedger` was asked; otherwise `null`.
   */
  ledger: TransactionRow[] | null;
}

/**
 * The extra writes of a change that re-planned the ledger in date order (a backdated entry or a
 * void): every position and FIFO lot as the replay left them, and the derived columns of the
 * entries whose values changed.
 */
export interface LedgerReplan {
  /** Upsert of every position the ledger has ever touched (flat ones as zero). */
  positions: PositionRow[];
  /** The portfolio's FIFO lots after the replay: the store deletes its lots and inserts these. */
  lots: LotRow[];
  /** New derived values of existing entries. */
  entries: Array<Pick<TransactionRow, 'id' | 'realizedPnl' | 'cashAfter' | 'quantityAfter'>>;
  /** An entry to mark void. */
  void?: { id: string; voidedAt: string; voidKey: string | null };
}

/** The writes of one ledger change, applied atomically. */
export interface LedgerWrite {
  portfolioId: string;
  portfolio: Pick<PortfolioRow, 'cash' | 'netDeposits' | 'realizedPnl' | 'ledgerAt' | 'updatedAt'>;
  /** Upsert of the touched position. */
  position?: PositionRow;
  lots?: {
    insert: LotRow[];
    update: Array<Pick<LotRow, 'id' | 'quantity' | 'costBasis'>>;
    delete: string[];
  };
  /** The new ledger entry (none for a void). */
  transaction?: TransactionRow;
  /** A re-plan in date order: see {@link LedgerReplan}. */
  replan?: LedgerReplan;
  /**
   * Mark the portfolio's snapshots taken at or after this instant stale (the ledger changed under
   * them); applied before `snapshot` is recorded.
   */
  staleFrom?: string;
  /** A snapshot to record in the same transaction. */
  snapshot?: SnapshotRow;
}

/**
 * Plans a ledger change from the locked state. Returns the writes, or `null` to write nothing
 * (an idempotent replay). Throwing aborts the change and rolls back: nothing is written.
 * Must be synchronous and free of I/O: a store may run it inside a synchronous transaction.
 */
export type LedgerPlanner = (state: LedgerState) => LedgerWrite | null;

/** Page of a cursor-paginated listing. */
export interface TransactionQuery {
  limit: number;
  /** Keyset cursor: entries strictly older than this (executedAt, id) pair. */
  before?: { executedAt: string; id: string };
  kinds?: readonly TransactionKind[];
  /** Only entries executed at or before this instant. */
  until?: string;
  /** Leave void entries out. @default false (a void entry is listed, with its `voidedAt`) */
  excludeVoided?: boolean;
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
  /**
   * Carries engine events between the instances sharing this store, so a trade made through one
   * instance reaches the streams of another (PostgreSQL: `LISTEN/NOTIFY`). Optional: without it
   * (SQLite, memory) events stay in-process. The engine subscribes when it is created and leaves
   * when it is closed; the store closes the transport in its own `close()`.
   * @default undefined (no transport)
   */
  readonly events?: EventTransport;

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
   * loads {@link LedgerState}, calls `plan`, applies its writes (in the order of the contract's
   * `ledgerWriteStatements`: balances, positions, lots, entries, void, stale marks, snapshot), commits. If `plan` throws, nothing
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

  /**
   * The target holdings of a model portfolio, ordered by symbol (empty when none were set, or when
   * there is no such portfolio). Optional, with {@link Store.setTargets}: without them the
   * model-portfolio features (`setTargets`, `getDrift`, `planRebalance`, `rebalance`) refuse the
   * store with `INVALID_CONFIGURATION`.
   */
  getTargets?(portfolioId: string): Promise<TargetRow[]>;
  /**
   * Replaces the whole target list of a portfolio with `rows` (an empty list clears it), in one
   * transaction; every row gets `updatedAt: at`. Deleting the portfolio deletes its targets.
   * Throws (a constraint error) when the portfolio does not exist.
   */
  setTargets?(portfolioId: string, rows: readonly TargetRow[], at: string): Promise<void>;

  /**
   * Alerts ordered by id. Optional, with {@link Store.saveAlert}, {@link Store.deleteAlert} and
   * {@link Store.markAlertFired}: without them the alert features refuse the store with
   * `INVALID_CONFIGURATION`.
   */
  listAlerts?(query: AlertQuery): Promise<AlertRow[]>;
  /** Inserts or replaces an alert. */
  saveAlert?(row: AlertRow): Promise<void>;
  /**
   * Writes only the columns present in `patch` (`active`, `threshold`, `coolDownMs`) of one alert,
   * in one statement, and answers the alert as stored after it; null when there is no such alert.
   * Never writes `lastFiredAt` or `coolDownUntil`, so a fire claimed by
   * {@link Store.markAlertFired} at any moment is kept. An empty patch writes nothing and answers
   * the alert. Optional: without it `updateAlert` re-reads the alert and saves it whole, where a
   * fire claimed between the two can be lost.
   */
  updateAlert?(id: string, patch: AlertPatch): Promise<AlertRow | null>;
  /** Deletes an alert; false when there was none. Deleting a portfolio deletes its alerts. */
  deleteAlert?(id: string): Promise<boolean>;
  /**
   * Claims a fire (compare-and-set): sets `lastFiredAt` and `coolDownUntil` only when the stored
   * `lastFiredAt` still equals `expectedLastFiredAt` (null-safe). True when this call claimed it;
   * false when another instance fired first, or the alert is gone — so across instances sharing
   * the database an alert fires once.
   */
  markAlertFired?(
    id: string,
    firedAt: string,
    coolDownUntil: string,
    expectedLastFiredAt: string | null,
  ): Promise<boolean>;

  /**
   * Inserts or replaces a backtest run (a whole row). Optional, with {@link Store.getBacktestRun},
   * {@link Store.listBacktestRuns} and {@link Store.updateBacktestRun}: without them a backtest
   * runner refuses the store with `INVALID_CONFIGURATION`.
   */
  saveBacktestRun?(row: BacktestRunRow): Promise<void>;
  /** One run, or null. */
  getBacktestRun?(id: string): Promise<BacktestRunRow | null>;
  /** Runs, newest first (see {@link BacktestRunQuery}). */
  listBacktestRuns?(query: BacktestRunQuery): Promise<BacktestRunRow[]>;
  /**
   * Updates some columns of a run, only while its status is one of `fromStatuses` (compare-and-set:
   * a cancelled run is never turned back into a running one). True when a row was updated.
   */
  updateBacktestRun?(
    id: string,
    fromStatuses: readonly BacktestRunStatus[],
    patch: Partial<Omit<BacktestRunRow, 'id' | 'ownerId' | 'kind' | 'request' | 'createdAt'>>,
  ): Promise<boolean>;
  /** A user's saved parameters of a strategy, or null. Optional, with {@link Store.setStrategyParams}. */
  getStrategyParams?(ownerId: string, strategy: string): Promise<StrategyParamsRow | null>;
  /** Inserts or replaces a user's saved parameters of a strategy. */
  setStrategyParams?(row: StrategyParamsRow): Promise<void>;

  /** Runs pending migrations. Idempotent; safe when several processes call it at once. */
  migrate(): Promise<void>;
  /** Releases connections. Further calls fail with `STORE_CLOSED`. */
  close(): Promise<void>;
}
