/**
 * @packageDocumentation
 * Test utilities for foliokit users and adapter authors: a manual clock, and the conformance
 * suites every store and provider runs.
 */
export { createManualClock, type ManualClock } from './clock.js';
export {
  CONFORMANCE_PRICES,
  CONFORMANCE_START,
  type ConformanceContext,
  type ConformanceFixture,
  expectNoOversell,
  expectStateMatchesLedger,
  naiveStore,
  oversellRace,
  PORTFOLIO_TABLES,
  type RaceContext,
  type RaceOutcome,
  type RaceSuiteContext,
  type RawParam,
  type RawQuery,
  runBacktestRunConformance,
  runCashConformance,
  runConsistentReadConformance,
  runJobConformance,
  runLedgerPropertyConformance,
  runPortfolioConformance,
  runSnapshotConformance,
  runStoreConformance,
  runStorePrimitiveConformance,
  runStoreRaceConformance,
  runTradeConformance,
  runValuationConformance,
  type StoreCapabilities,
  type StoreConformanceOptions,
  type StoreDomainConformanceOptions,
  type StoreRaceConformanceOptions,
} from './conformance/index.js';
export {
  type CreateTestEngineOptions,
  codeOf,
  createTestEngine,
  errorOf,
  listAllSnapshots,
  type TestEngine,
} from './harness.js';
export { createMemoryStore, type MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { createTestProvider, type TestProvider } from './provider.js';
export {
  PROVIDER_CONFORMANCE_CHECKS,
  type ProviderConformanceCheck,
  type ProviderConformanceOptions,
  runProviderConformance,
} from './provider-conformance.js';
