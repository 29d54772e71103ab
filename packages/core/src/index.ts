/**
 * @packageDocumentation
 * `@foliokit/core`: the portfolio engine, exact decimal money, typed errors and events, the ports
 * (store, market data, clock, logger) and the shared Kysely store used by the SQL adapters.
 */
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
export * from './types.js';
export * from './ports.js';
export * from './events.js';
export { ERROR_CODES, type ErrorCode, type ErrorDetails, FoliokitError, isFoliokitError, wrapError } from './errors.js';
export { Dec, type DecimalInput, DERIVED_SCALE, dec, divide, divideToString, fmt, parseDecimal, roundDerived, sum, ZERO } from './decimal.js';
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
export { normalizeSymbol } from './validation.js';
export { newId } from './ids.js';
export {
  applyLedgerEntry,
  type CashCommand,
  emptyReplayState,
  planCash,
  planTrade,
  type ReplayState,
  replayLedger,
  type TradeCommand,
} from './ledger.js';
export {
  computeSnapshot,
  type ComputedSnapshot,
  downsample,
  type GetHistoryInput,
  HISTORY_INTERVALS,
  HISTORY_MAX_DAYS,
  type History,
  type HistoryInterval,
  type Snapshot,
  type SnapshotOptions,
  type SnapshotPrice,
} from './snapshots.js';
export type { DailySnapshotReport, RunDailySnapshotsInput } from './daily.js';
export type { BackfillAllReport, BackfillInput, BackfillReport, PortfolioFailure, UnpricedSymbol } from './backfill.js';
export { DAILY_JOB, type DailyJobOptions, type DailyJobReport, INTERVAL_JOB, type StartSchedulerOptions } from './jobs.js';
export {
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
export { createKyselyStore, type KyselyStore, type KyselyStoreOptions } from './kysely/store.js';
export { foliokitMigrations, migrationProvider, type SqlDialect } from './kysely/migrations.js';
export type { FoliokitDatabase } from './kysely/schema.js';
export * as rows from './kysely/rows.js';
export type { PriceChange, PriceRefreshReport, ProviderStatus } from './price-book.js';
export { DEFAULT_POLL_INTERVAL_MS, PRICE_POLLER_JOB } from './price-poller.js';
export type { KnownPrice } from './valuation.js';
