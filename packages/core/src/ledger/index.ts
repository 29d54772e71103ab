/**
 * The ledger room: the pure rules that plan every change (cash movements, buys and sells with
 * average-cost or FIFO cost basis, idempotent replays), the re-plan of a ledger in date order
 * (backdated entries and voids), and the replay of a ledger into state.
 */
export { type CashCommand, type PlanOutcome, planCash, planTrade, type TradeCommand } from './plan.js';
export {
  type EntryCommand,
  isBackdated,
  LedgerReloadRequired,
  lotIdOf,
  type Planned,
  planEntry,
  planVoid,
  replanLedger,
  type VoidCommand,
} from './replan.js';
export { applyLedgerEntry, emptyReplayState, type ReplayState, replayLedger } from './replay.js';
