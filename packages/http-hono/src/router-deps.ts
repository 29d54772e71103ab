/**
 * What the router hands to the route factories that need shared state (`streamRoutes(deps)`,
 * `adminRoutes(deps)`): kept minimal on purpose, so a factory depends on the engine, the validated
 * options and the metrics, and on nothing of the router's internals.
 */
import type { BacktestRunner, PortfolioEngine } from '@foliokit/core';
import type { Metrics } from './metrics.js';
import type { ResolvedRouterOptions } from './options.js';

/** The metrics a router records into (implemented by `createMetrics` in `./metrics.ts`). */
export type MetricsRecorder = Metrics;

/** Shared state of one router, passed to route factories. */
export interface RouterDeps {
  /** The engine every route changes state through. */
  engine: PortfolioEngine;
  /** The router's options, validated, with defaults applied (`streams` is passed through as given). */
  options: ResolvedRouterOptions;
  /**
   * The router's metrics. The router records `request(route, method, status, seconds)` for every
   * answer; stream routes call `sseClients(+1)` on connect and `sseClients(-1)` on disconnect; the WebSocket hub calls `wsClients(±1)`. When
   * the host disables metrics (`metrics: false`), calls are accepted and nothing is kept.
   */
  metrics: MetricsRecorder;
  /**
   * The backtest runner behind `/backtests`: the host's (option `backtests`), or one the router
   * created over the engine and closes in `router.close()`. When the store keeps no backtest runs,
   * a stand-in whose methods reject with 501 `NOT_IMPLEMENTED` (`stats()` answers zeros).
   */
  backtests: BacktestRunner;
}
