/**
 * Backtesting: `runBacktest` replays daily bars through a strategy with the ledger's own rules;
 * strategies are plain objects in a registry (the built-ins `sma-cross`, `momentum`,
 * `mean-reversion` and `buy-and-hold`, and users' own); incremental indicators help write them.
 * docs/backtesting.md shows a strategy written from scratch and a result replayed into a paper
 * portfolio.
 */
export * from './indicators.js';
export { getStrategy, listStrategies, registerStrategy, unregisterStrategy } from './registry.js';
export type { BacktestBenchmarkMetrics } from './run.js';
export {
  ALLOCATIONS,
  type Allocation,
  BACKTEST_PERIODS_PER_YEAR,
  type BacktestFill,
  type BacktestMetrics,
  type BacktestOptions,
  type BacktestPosition,
  type BacktestProgress,
  type BacktestResult,
  type BacktestStat,
  checkBacktestOptions,
  FILL_MODES,
  type FillMode,
  runBacktest,
  type UnfilledOrder,
  type UnfilledReason,
} from './run.js';
export {
  type BacktestCompareRequest,
  type BacktestComparison,
  type BacktestExecution,
  type BacktestRequest,
  type BacktestRun,
  type BacktestRunError,
  type BacktestRunListQuery,
  type BacktestRunner,
  type BacktestRunnerHost,
  type BacktestRunnerOptions,
  type BacktestRunnerStats,
  createBacktestRunner,
} from './runner.js';
export {
  BACKTEST_RUN_STORE_METHODS,
  type BacktestRunStore,
  backtestRunStore,
} from './runs-store.js';
export {
  type GetSignalsOptions,
  getSignals,
  type SignalCell,
  type SignalDirection,
  type SignalEvaluator,
  type SignalEvaluatorOptions,
  type SignalHost,
  type SignalStrategy,
  type SignalsResult,
  type SignalTradeRequest,
  startSignalEvaluator,
} from './signals.js';
export { buyAndHold, buyAndHoldParams } from './strategies/buy-and-hold.js';
export { meanReversion, meanReversionParams } from './strategies/mean-reversion.js';
export { momentum, momentumParams } from './strategies/momentum.js';
export {
  periodOf,
  REBALANCE_PERIODS,
  type RebalancePeriod,
  rebalanceParams,
  rebalanceStrategy,
} from './strategies/rebalance.js';
export { type SmaCrossState, smaCross, smaCrossParams } from './strategies/sma-cross.js';
export type { TargetWeightsOptions } from './strategy.js';
export {
  type AnyStrategy,
  defineStrategy,
  isStrategy,
  STRATEGY_NAME_RE,
  type Strategy,
  type StrategyContext,
  type StrategyInfo,
  type StrategyInitContext,
} from './strategy.js';
export {
  type GetStrategyParamsInput,
  getStrategyParams,
  MAX_STRATEGY_PARAMS_BYTES,
  type SaveStrategyParamsInput,
  type StrategyParamsHost,
  type StrategyParamsResult,
  type StrategyParamsStore,
  saveStrategyParams,
  strategyParamsStore,
} from './strategy-params.js';
