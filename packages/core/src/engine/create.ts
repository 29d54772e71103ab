/** `createPortfolioEngine`: checks the ports once, wraps the store in the runtime, builds the engine. */
import { FoliokitError } from '../errors.js';
import { startEventRelay } from '../events-relay.js';
import { consoleLogger } from '../logger.js';
import { systemClock } from '../time.js';
import { PortfolioEngine } from './engine.js';
import type { CreatePortfolioEngineOptions } from './options.js';
import { guardStore, missingStoreMethods } from './store-runtime.js';

const REQUIRED_PROVIDER_METHODS = ['getQuotes', 'getDailyHistory'] as const;
const REQUIRED_TRANSPORT_METHODS = ['publish', 'subscribe'] as const;

/** What an event transport the store offers lacks (nothing when it offers none). */
function missingTransportMethods(events: unknown): string[] {
  if (events === undefined) return [];
  if (typeof events !== 'object' || events === null) return ['store.events'];
  const e = events as Record<string, unknown>;
  return REQUIRED_TRANSPORT_METHODS.filter((m) => typeof e[m] !== 'function').map((m) => `store.events.${m}`);
}

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
  else missing.push(...missingStoreMethods(options.store), ...missingTransportMethods(options.store.events));
  if (!options.marketData) missing.push('marketData');
  else
    for (const m of REQUIRED_PROVIDER_METHODS)
      if (typeof options.marketData[m] !== 'function') missing.push(`marketData.${m}`);
  if (missing.length > 0) {
    throw new FoliokitError('INVALID_CONFIGURATION', `createPortfolioEngine: missing ${missing.join(', ')}`, {
      missing,
    });
  }
  const engine = new PortfolioEngine({
    store: guardStore(options.store),
    marketData: options.marketData,
    clock: options.clock ?? systemClock,
    logger: options.logger ?? consoleLogger,
    prices: options.prices ?? {},
    snapshots: options.snapshots ?? {},
  });
  relayEvents(engine);
  return engine;
}

/**
 * When the store carries events between instances (`store.events`), relays the engine's events
 * through it (see `events-relay.ts`); a price another instance fetched moves this engine's price
 * book too. `engine.close()` stops the relay first, which frees the transport's connection when
 * this was its last subscriber.
 */
function relayEvents(engine: PortfolioEngine): void {
  const transport = engine.store.events;
  if (!transport) return;
  const relay = startEventRelay({ bus: engine, transport, logger: engine.logger });
  const off = engine.on('price.updated', (e) => {
    if (e.origin === 'remote') engine.priceBook.learn(e);
  });
  engine.onClose(async () => {
    off();
    await relay.stop();
  });
}
