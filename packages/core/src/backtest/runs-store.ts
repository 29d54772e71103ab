/**
 * The store a backtest runner needs: one with the four optional run members of the `Store` port
 * (`saveBacktestRun`, `getBacktestRun`, `listBacktestRuns`, `updateBacktestRun`).
 */
import { FoliokitError } from '../errors.js';
import type { Store } from '../ports/index.js';

/** The `Store` members a backtest runner uses, all optional in the port. */
export const BACKTEST_RUN_STORE_METHODS = [
  'saveBacktestRun',
  'getBacktestRun',
  'listBacktestRuns',
  'updateBacktestRun',
] as const satisfies ReadonlyArray<keyof Store>;

/** A store that keeps backtest runs: the four run members present. */
export type BacktestRunStore = Store & Required<Pick<Store, (typeof BACKTEST_RUN_STORE_METHODS)[number]>>;

/**
 * The store, typed with the run members present, when it keeps backtest runs.
 *
 * @example
 * ```ts
 * const runs = backtestRunStore(engine.store);
 * await runs.saveBacktestRun(row);
 * ```
 * @throws FoliokitError `INVALID_CONFIGURATION` naming every member the store lacks
 *   (`details.missing`: `store.saveBacktestRun`, ...).
 */
export function backtestRunStore(store: Store): BacktestRunStore {
  const missing = BACKTEST_RUN_STORE_METHODS.filter((m) => typeof store[m] !== 'function').map((m) => `store.${m}`);
  if (missing.length > 0) {
    throw new FoliokitError(
      'INVALID_CONFIGURATION',
      `Backtest runs need a store with ${missing.join(', ')}; the store "${store.name}" lacks them`,
      { field: 'store', missing },
    );
  }
  return store as BacktestRunStore;
}
