/**
 * @packageDocumentation
 * Test utilities for foliokit users and adapter authors: a manual clock, and the conformance
 * suites every store and provider runs.
 */
export { createManualClock, type ManualClock } from './clock.js';
