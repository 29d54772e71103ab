/**
 * The store runtime: the one wrapper between the engine and any {@link Store}, whoever wrote it.
 * It checks the required methods once, refuses every call after `close()` with `STORE_CLOSED`,
 * passes a planner's (or a job's) own error through unchanged, and turns anything else a store
 * throws into a `STORE_ERROR` with the original as `cause` — so users meet one error vocabulary.
 * Adapters wrap what they return with it; the engine wraps what it is given (a store already
 * wrapped is used as it is).
 */
import { FoliokitError, isFoliokitError, wrapError } from '../errors.js';
import type { LedgerPlanner, Store } from '../ports/store.js';

/** Methods every store implements. */
export const REQUIRED_STORE_METHODS = [
  'createPortfolio',
  'getPortfolio',
  'listPortfolios',
  'updatePortfolio',
  'deletePortfolio',
  'applyLedgerChange',
  'listPositions',
  'listLots',
  'listTransactions',
  'addWatch',
  'removeWatch',
  'listWatch',
  'insertSnapshots',
  'listSnapshots',
  'upsertPrices',
  'getPrices',
  'upsertDailyBars',
  'listDailyBars',
  'listActiveSymbols',
  'readPortfolioStates',
  'migrate',
  'close',
] as const satisfies ReadonlyArray<keyof Store>;

/** Methods of optional capabilities (multi-instance coordination, job records). */
export const OPTIONAL_STORE_METHODS = [
  'runExclusive',
  'getJobRun',
  'saveJobRun',
  'listJobRuns',
  'deleteJobRuns',
  'getTargets',
  'setTargets',
  'listAlerts',
  'saveAlert',
  'updateAlert',
  'deleteAlert',
  'markAlertFired',
  'saveBacktestRun',
  'getBacktestRun',
  'listBacktestRuns',
  'updateBacktestRun',
  'getStrategyParams',
  'setStrategyParams',
] as const satisfies ReadonlyArray<keyof Store>;

/** The required methods `store` lacks, as `store.name` strings (empty when it has them all). */
export function missingStoreMethods(store: unknown): string[] {
  if (typeof store !== 'object' || store === null) return ['store'];
  const s = store as Record<string, unknown>;
  return REQUIRED_STORE_METHODS.filter((m) => typeof s[m] !== 'function').map((m) => `store.${m}`);
}

/**
 * Carries an error thrown by code the caller handed to the store (a ledger planner, a job run under
 * `runExclusive`) through the store, so that it reaches the caller unchanged: the runtime wraps
 * only the store's own errors.
 */
class CallerError extends Error {
  override readonly name = 'CallerError';
  constructor(readonly original: unknown) {
    super('an error thrown by the caller');
  }
}

const GUARDED: unique symbol = Symbol.for('foliokit.guardedStore');

/** Whether `store` is already wrapped by {@link guardStore}. */
export function isGuardedStore(store: Store): boolean {
  return (store as unknown as Record<symbol, unknown>)[GUARDED] === true;
}

function translate(error: unknown, method: string): unknown {
  if (error instanceof CallerError) return error.original;
  if (isFoliokitError(error)) return error;
  return wrapError(error, 'STORE_ERROR', `Store ${method} failed`);
}

/**
 * Wraps a store once: the closed guard, `STORE_ERROR` for driver errors (with `cause`), callers'
 * errors passed through. The wrapper inherits every other property of `store` (an adapter's `db`,
 * `pool`, `schema`), so adapters return it in place of the raw store.
 *
 * @throws `INVALID_CONFIGURATION` naming every required method the store lacks.
 */
export function guardStore<S extends Store>(store: S): S {
  const missing = missingStoreMethods(store);
  if (missing.length > 0) {
    throw new FoliokitError('INVALID_CONFIGURATION', `The store lacks ${missing.join(', ')}`, { missing });
  }
  if (isGuardedStore(store)) return store;
  let closed = false;
  const raw = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const guarded = Object.create(store) as Record<string | symbol, unknown>;
  Object.defineProperty(guarded, GUARDED, { value: true });

  const wrap = (method: string, call: (fn: (...args: unknown[]) => Promise<unknown>, args: unknown[]) => unknown) => {
    const fn = raw[method];
    if (typeof fn !== 'function') return;
    guarded[method] = async (...args: unknown[]) => {
      if (closed) throw new FoliokitError('STORE_CLOSED', 'The store is closed');
      try {
        return await call(fn, args);
      } catch (error) {
        throw translate(error, method);
      }
    };
  };

  for (const method of [...REQUIRED_STORE_METHODS, ...OPTIONAL_STORE_METHODS]) {
    if (method === 'close') continue;
    wrap(method, (fn, args) => fn.apply(store, args));
  }
  wrap('applyLedgerChange', (fn, [request, plan]) =>
    fn.call(store, request, ((state) => {
      try {
        return (plan as LedgerPlanner)(state);
      } catch (error) {
        throw new CallerError(error);
      }
    }) satisfies LedgerPlanner),
  );
  wrap('runExclusive', (fn, [key, job]) =>
    fn.call(store, key, async () => {
      try {
        return await (job as () => Promise<unknown>)();
      } catch (error) {
        throw new CallerError(error);
      }
    }),
  );
  guarded.close = async () => {
    if (closed) return;
    closed = true;
    try {
      await raw.close?.call(store);
    } catch (error) {
      throw translate(error, 'close');
    }
  };
  return guarded as unknown as S;
}
