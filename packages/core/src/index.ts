/**
 * @packageDocumentation
 * `@foliokit/core`: the portfolio engine, exact decimal money, typed errors and events, the ports
 * (store, market data, clock, logger) and the shared Kysely store used by the SQL adapters.
 */

export type { BackfillAllReport, BackfillInput, BackfillReport, PortfolioFailure, UnpricedSymbol } from './backfill.js';
export type { DailySnapshotReport, RunDailySnapshotsInput } from './daily.js';
export {
  DERIVED_SCALE,
  Dec,
  type DecimalInput,
  dec,
  divide,
  divideToString,
  fmt,
  parseDecimal,
  ZERO,
} from './decimal.js';
export {
  type CashInput,
  type CreatePortfolioEngineOptions,
  type CreatePortfolioInput,
  createPortfolioEngine,
  type ListPortfoliosInput,
  type ListTransactionsInput,
  PortfolioEngine,
  type PriceOptions,
  type TradeInput,
} from './engine.js';
export { ERROR_CODES, type ErrorCode, type ErrorDetails, FoliokitError, isFoliokitError, wrapError } from './errors.js';
export * from './events.js';
export { newId } from './ids.js';
export {
  DAILY_JOB,
  type DailyJobOptions,
  type DailyJobReport,
  INTERVAL_JOB,
  type StartSchedulerOptions,
} from './jobs.js';
export { foliokitMigrations, migrationProvider, type SqlDialect } from './kysely/migrations.js';
export * as rows from './kysely/rows.js';
export type * from './kysely/schema.js';
export { createKyselyStore, type KyselyStore, type KyselyStoreOptions } from './kysely/store.js';
export {
  applyLedgerEntry,
  type CashCommand,
  emptyReplayState,
  type PlanOutcome,
  planCash,
  planTrade,
  type ReplayState,
  replayLedger,
  type TradeCommand,
} from './ledger.js';
export * from './ports.js';
export type { PriceBook, PriceChange, PriceRefreshReport, ProviderStatus } from './price-book.js';
export { DEFAULT_POLL_INTERVAL_MS, PRICE_POLLER_JOB } from './price-poller.js';
export {
  type CompiledSchedule,
  compileSchedule,
  JOB_TRIGGERS,
  type JobContext,
  type JobDefinition,
  type JobErrorCode,
  type JobRuns,
  type JobSchedule,
  type JobStatus,
  type JobTrigger,
  memoryJobRuns,
  type SchedulerStatus,
  type TickOutcome,
} from './scheduler.js';
export {
  type ComputedSnapshot,
  computeSnapshot,
  downsample,
  type GetHistoryInput,
  HISTORY_INTERVALS,
  HISTORY_MAX_DAYS,
  type History,
  type HistoryInterval,
  type Snapshot,
  type SnapshotBase,
  type SnapshotOptions,
  type SnapshotPrice,
} from './snapshots.js';
export {
  type Clock,
  dayOf,
  daysInclusive,
  endOfDay,
  nextDay,
  parseDay,
  parseInstant,
  systemClock,
  type TimerHandle,
  toIso,
} from './time.js';
export * from './types.js';
export { normalizeSymbol } from './validation.js';
export type { KnownPrice } from './valuation.js';
