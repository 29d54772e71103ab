/** `createPortfolioEngine`: checks the ports once, wraps the store in the runtime, builds the engine. */
import { FoliokitError } from '../errors.js';
import { consoleLogger } from '../logger.js';
import { systemClock } from '../time.js';
import { PortfolioEngine } from './engine.js';
import type { CreatePortfolioEngineOptions } from './options.js';
import { guardStore, missingStoreMethods } from './store-runtime.js';

const REQUIRED_PROVIDER_METHODS = ['getQuotes', 'getDailyHistory'] as const;

/**
 * Creates a portfolio engine on a store and a market-data provider.
 *
 * @example
 * ```ts
 * const engine = createPortfolioEngine({
 *   store: await createSqliteStore({ filename: 'folio.db' }),
 *   marketData: createSimulatedProvider({ seed: 42 }),
 * });
 * ```
 */
export function createPortfolioEngine(options: CreatePortfolioEngineOptions): PortfolioEngine {
  if (typeof options !== 'object' || options === null) {
    throw new FoliokitError('INVALID_CONFIGURATION', 'createPortfolioEngine needs an options object');
  }
  const missing: string[] = [];
  if (!options.store) missing.push('store');
  else missing.push(...missingStoreMethods(options.store));
  if (!options.marketData) missing.push('marketData');
  else
    for (const m of REQUIRED_PROVIDER_METHODS)
      if (typeof options.marketData[m] !== 'function') missing.push(`marketData.${m}`);
  if (missing.length > 0) {
    throw new FoliokitError('INVALID_CONFIGURATION', `createPortfolioEngine: missing ${missing.join(', ')}`, {
      missing,
    });
  }
  return new PortfolioEngine({
    store: guardStore(options.store),
    marketData: options.marketData,
    clock: options.clock ?? systemClock,
    logger: options.logger ?? consoleLogger,
    prices: options.prices ?? {},
    snapshots: options.snapshots ?? {},
  });
}
