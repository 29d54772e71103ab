/**
 * The JSON shapes of backtest runs (requests, comparisons, errors), shared by the runner, its
 * replay and its worker thread. Exported from the package through `runner.ts`.
 */
import type { BacktestOptions, BacktestResult } from './run.js';

/** A backtest as the runner takes it: JSON only, the strategy by its registered name. */
export type BacktestRequest = Omit<BacktestOptions, 'strategy' | 'marketData' | 'onProgress' | 'signal'> & {
  /** A registered strategy's name. */
  strategy: string;
};

/** Several variants of one backtest, replayed on the same bars. */
export interface BacktestCompareRequest extends Omit<BacktestRequest, 'strategy' | 'params'> {
  /**
   * 2 to 10 variants run on the same bars: a strategy name and/or params each, with a label (default:
   * the strategy's name, numbered `"sma-cross #2"` when several variants use it). Labels are unique.
   */
  variants: Array<{ label?: string; strategy: string; params?: Record<string, unknown> }>;
}

/** The result of a comparison: each variant's result, in the order given. */
export interface BacktestComparison {
  variants: Array<{ label: string; strategy: string; params: unknown; result: BacktestResult }>;
}

/**
 * Why a run failed or was cancelled. `code` is a {@link FoliokitError} code (`VALIDATION_FAILED`,
 * `PROVIDER_ERROR`, `CONFLICT` with `details.aborted` for a cancel, `ENGINE_CLOSED` when the runner
 * closed or the process running it stopped, ...), or `WORKER_EXITED` (the worker thread died:
 * `details.exitCode`), or `INTERNAL_ERROR` (a strategy threw something other than a FoliokitError).
 */
export interface BacktestRunError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}
