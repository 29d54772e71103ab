/**
 * @packageDocumentation
 * `@foliokit/core`: the portfolio engine, exact decimal money, typed errors and events, and the
 * ports (store, market data, clock, logger) — what an app needs. Store authors find the shared SQL
 * store, its migrations and the ledger-SQL contract in `@foliokit/core/sql`; tests and adapter
 * authors find the manual clock, the memory store and the conformance suites in
 * `@foliokit/core/testing`.
 */

export * from './alerts/index.js';
export * from './analytics/index.js';
export * from './backtest/index.js';
export * from './engine/index.js';
export { ERROR_CODES, type ErrorCode, type ErrorDetails, FoliokitError, isFoliokitError, wrapError } from './errors.js';
export * from './events.js';
export { newId } from './ids.js';
export type { BackfillInput } from './jobs/backfill.js';
export {
  DAILY_JOB,
  type DailyJobOptions,
  type DailyJobReport,
  type StartSchedulerOptions,
} from './jobs/built-in.js';
export type { DailySnapshotReport, RunDailySnapshotsInput } from './jobs/daily.js';
export { INTERVAL_JOB } from './jobs/interval.js';
export { type JobRuns, memoryJobRuns } from './jobs/job-runs.js';
export { DEFAULT_POLL_INTERVAL_MS, PRICE_POLLER_JOB } from './jobs/price-poller.js';
export { type CompiledSchedule, compileSchedule, type JobSchedule } from './jobs/schedule.js';
export type {
  JobContext,
  JobDefinition,
  JobErrorCode,
  JobStatus,
  SchedulerStatus,
  TickOutcome,
} from './jobs/scheduler.js';
export { consoleLogger, silentLogger } from './logger.js';
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
} from './money/decimal.js';
export * from './ports/index.js';
export type { PriceBook, PriceRefreshReport, ProviderStatus } from './prices/price-book.js';
export { type NormalizeSymbolOptions, normalizeSymbol } from './prices/symbols.js';
export {
  isDay,
  isNonNegativeDecimalString,
  isPositiveDecimalString,
  validateBars,
  validateQuote,
  validateQuoteBatch,
} from './prices/validate.js';
export {
  type GetHistoryInput,
  HISTORY_INTERVALS,
  HISTORY_MAX_DAYS,
  type History,
  type HistoryInterval,
  type Snapshot,
} from './snapshots/history.js';
export type { SnapshotHost } from './snapshots/host.js';
export type { SnapshotOptions } from './snapshots/options.js';
export {
  type Clock,
  dayInZone,
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
export type { HoldingPrice } from './valuation/kernel.js';
export type { KnownPrice } from './valuation/portfolio.js';
