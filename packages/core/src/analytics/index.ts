/**
 * The analytics room: how a portfolio is doing (time- and money-weighted returns, drawdown,
 * volatility, risk-adjusted ratios, a benchmark), how risky it is (historical, parametric and Monte
 * Carlo VaR with risk contributions), and model portfolios (targets, drift, rebalancing, optimised
 * weights). Statistics are floats with their method stated; amounts stay exact decimals; what
 * cannot be computed is `null` with a reason. docs/analytics.md gives every formula.
 */

export type { Matrix } from './matrix.js';
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
export type { PerformanceGap } from './performance-data.js';
export {
  type OrderPlan,
  orderKey,
  type PlanOptions,
  type PlanRebalanceInput,
  planOrders,
  planRebalance,
  type RebalanceInput,
  type RebalanceOrder,
  type RebalancePlan,
  type RebalanceResult,
  rebalance,
  type SkipReason,
  type TradeFn,
} from './rebalance.js';
export {
  annualize,
  type DietzPoint,
  type FlowDay,
  modifiedDietz,
  type ReturnGap,
  type ReturnOptions,
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
  type RiskCacheKey,
  type RiskContribution,
  type RiskEstimate,
  type RiskGap,
  type RiskInput,
  type RiskMethodChoice,
  type RiskReport,
} from './risk.js';
export {
  type Drift,
  type DriftRow,
  getDrift,
  getTargets,
  type HoldingsState,
  type ResolvedTarget,
  setTargets,
  type TargetInput,
  WEIGHT_DECIMALS,
} from './targets.js';
export { type DatedFlow, type XirrResult, xirr } from './xirr.js';
