/**
 * The store conformance suite, by domain. `runStoreConformance` registers every domain and the
 * author's `extend` tests; each `run…Conformance` registers one domain alone. The race suite,
 * `runStoreRaceConformance`, runs concurrent calls and has its own options.
 */
import type { Store } from '../../ports/index.js';
import { vitest } from '../runtime.js';
import { describeAlerts } from './alerts.js';
import { describeBacktestRuns } from './backtest-runs.js';
import { describeCash } from './cash.js';
import { describeConsistentReads } from './consistent-reads.js';
import { type ConformanceContext, createConformanceContext, type StoreConformanceOptions } from './context.js';
import { describeDateOrder } from './date-order.js';
import { describeJobs } from './jobs.js';
import { describeLedgerModel } from './ledger-model.js';
import { describeLedgerProperties } from './ledger-properties.js';
import { describePortfolios } from './portfolios.js';
import { describeStorePrimitives } from './primitives.js';
import { describeSnapshots } from './snapshots.js';
import { describeTrades } from './trades.js';
import { describeValuation } from './valuation.js';

export {
  CONFORMANCE_PRICES,
  CONFORMANCE_START,
  type ConformanceContext,
  type ConformanceFixture,
  PORTFOLIO_TABLES,
  type RawParam,
  type RawQuery,
  type StoreCapabilities,
  type StoreConformanceOptions,
} from './context.js';
export { type RaceSuiteContext, runStoreRaceConformance, type StoreRaceConformanceOptions } from './race-suite.js';
export {
  expectNoOversell,
  expectStateMatchesLedger,
  naiveStore,
  oversellRace,
  type RaceContext,
  type RaceOutcome,
} from './races.js';

/** The options of a single-domain runner: those of {@link runStoreConformance} but `extend`. */
export type StoreDomainConformanceOptions<S extends Store = Store> = Omit<StoreConformanceOptions<S>, 'extend'>;

/** The domains, in the order `runStoreConformance` registers them. */
const DOMAINS: ReadonlyArray<(ctx: ConformanceContext) => void> = [
  describePortfolios,
  describeCash,
  describeTrades,
  describeDateOrder,
  describeValuation,
  describeSnapshots,
  describeJobs,
  describeBacktestRuns,
  describeAlerts,
  describeConsistentReads,
  describeStorePrimitives,
  describeLedgerProperties,
  describeLedgerModel,
];

function register<S extends Store>(
  options: StoreConformanceOptions<S>,
  domains: ReadonlyArray<(ctx: ConformanceContext) => void>,
): void {
  const { describe } = vitest();
  describe(`store conformance: ${options.name}`, () => {
    const ctx = createConformanceContext(options);
    for (const domain of domains) domain(ctx);
    options.extend?.(ctx);
  });
}

/**
 * Registers the whole store conformance suite with vitest: every domain (portfolios, cash, trades,
 * valuation, snapshots, jobs, backtest runs and strategy parameters, alerts, consistent reads, store primitives, ledger properties), then your
 * `extend` tests. Call it at the top level of a test file. It drives the real engine over your
 * store, so it proves what users rely on: every operation and error code, atomicity (a refused
 * call changes nothing), idempotency, cascading deletes, exact decimals, consistent reads, and by
 * property tests that stored cash and positions always equal a replay of the ledger. Optional
 * capabilities your store lacks, and raw-SQL checks without `raw`, are skipped with the reason in
 * the test's title.
 *
 * @example
 * ```ts
 * // test/conformance.test.ts in your package
 * import { runStoreConformance } from '@foliokit/core/testing';
 * runStoreConformance({
 *   name: 'my-store',
 *   createStore: () => createMyStore({ namespace: `t_${Date.now()}` }),
 *   raw: (store) => (sql, params) => store.query(sql, params),
 * });
 * ```
 */
export function runStoreConformance<S extends Store>(options: StoreConformanceOptions<S>): void {
  register(options, DOMAINS);
}

const single =
  (domain: (ctx: ConformanceContext) => void) =>
  <S extends Store>(options: StoreDomainConformanceOptions<S>): void =>
    register({ ...options, extend: undefined }, [domain]);

/** Registers the portfolio checks alone: create, list, update, delete with every row, validation. */
export const runPortfolioConformance = single(describePortfolios);
/** Registers the cash checks alone: exact deposits and withdrawals, refusals, backdating, idempotency. */
export const runCashConformance = single(describeCash);
/** Registers the trade checks alone: fills, average cost and FIFO, exact decimals, refusals, idempotency, the ledger. */
export const runTradeConformance = single(describeTrades);
/** Registers the valuation checks alone: totals, unpriced and stale prices, the watchlist, events. */
export const runValuationConformance = single(describeValuation);
/** Registers the snapshot checks alone: post-trade, daily, history, portfolio states, backfill. */
export const runSnapshotConformance = single(describeSnapshots);
/** Registers the job checks alone: job-run records, their pruning, the exclusive lock (optional capabilities). */
export const runJobConformance = single(describeJobs);
/**
 * Registers the backtest checks alone: runs saved, read back exactly, listed with their filters and
 * updated by compare-and-set; users' saved strategy parameters (optional capabilities).
 */
export const runBacktestRunConformance = single(describeBacktestRuns);
/** Registers the consistent-read checks alone: concurrent calls and fast-check's scheduler. */
export const runConsistentReadConformance = single(describeConsistentReads);
/** Registers the store-primitive checks alone: the `Store` port below the engine. */
export const runStorePrimitiveConformance = single(describeStorePrimitives);
/** Registers the ledger property tests alone (fast-check). */
export const runLedgerPropertyConformance = single(describeLedgerProperties);
