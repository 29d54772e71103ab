/**
 * The analytics room: how a portfolio is doing (time- and money-weighted returns, drawdown,
 * volatility, risk-adjusted ratios, a benchmark), how risky it is (historical, parametric and Monte
 * Carlo VaR with risk contributions), and model portfolios (targets, drift, rebalancing, optimised
 * weights). Statistics are floats with their method stated; amounts stay exact decimals; what
 * cannot be computed is `null` with a reason. docs/analytics.md gives every formula.
 */
export {
  asTargets,
  OPTIMIZE_OBJECTIVES,
  type OptimizedWeight,
  type OptimizeGap,
  type OptimizeInput,
  type OptimizeObjective,
  type OptimizeResult,
  optimizeWeights,
} from './optimize.js';
export {
  type Figure,
  getPerformance,
  PERFORMANCE_INTERVALS,
  PERFORMANCE_PERIODS,
  type Performance,
  type PerformanceInput,
  type PerformanceInterval,
  type PerformancePeriod,
  type PerformancePoint,
  type PositionPerformance,
} from './performance.js';
export {
  type PlanRebalanceInput,
  planRebalance,
  type RebalanceInput,
  type RebalanceOrder,
  type RebalancePlan,
  type RebalanceResult,
  rebalance,
  type SkipReason,
} from './rebalance.js';
export {
  annualize,
  type DietzPoint,
  type FlowDay,
  modifiedDietz,
  simpleReturn,
  type TwrResult,
  ttwror,
} from './returns.js';
export {
  createRiskCache,
  DEFAULT_RISK_SEED,
  type GetRiskOptions,
  getRisk,
  type MonteCarloEstimate,
  type RiskCache,
  type RiskContribution,
  type RiskEstimate,
  type RiskGap,
  type RiskInput,
  type RiskReport,
} from './risk.js';
export {
  type Drift,
  type DriftRow,
  getDrift,
  getTargets,
  type ResolvedTarget,
  setTargets,
  type TargetInput,
} from './targets.js';
export { xirr } from './xirr.js';
