/**
 * The ports: what the engine needs from the outside. `@foliokit/core` talks to a database only
 * through {@link Store}, to market data only through {@link MarketDataProvider}, to time only
 * through {@link Clock}, and logs through {@link Logger}. One file per port; the rows the store
 * port carries are in `rows.ts`.
 */
export type { Clock, TimerHandle } from '../time.js';
export * from './event-transport.js';
export type { Logger } from './logger.js';
export type * from './market-data.js';
export * from './rows.js';
export type * from './store.js';
