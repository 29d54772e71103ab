/**
 * @packageDocumentation
 * Test utilities for foliokit users and adapter authors: a manual clock, and the conformance
 * suites every store and provider runs.
 */
export { createManualClock, type ManualClock } from './clock.js';
export { PORTFOLIO_TABLES, runStoreConformance, type StoreConformanceOptions } from './conformance.js';
export { createTestProvider, type TestProvider } from './provider.js';
export {
  expectNoOversell,
  expectStateMatchesLedger,
  naiveStore,
  oversellRace,
  type RaceContext,
  type RaceOutcome,
  runStoreRaceConformance,
  type StoreRaceConformanceOptions,
} from './races.js';
