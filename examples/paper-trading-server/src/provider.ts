/** The market-data provider the configuration names. */
import type { MarketDataProvider } from '@foliokit/core';
import { createCsvProvider, createMarketData, createSimulatedProvider } from '@foliokit/providers';
import type { ServerConfig } from './config.js';

/** The simulated market's seed: every instance and restart sees the same prices. */
export const SIMULATED_SEED = 'foliokit-demo';

/** Builds the provider: simulated (default), a CSV folder, Alpha Vantage or Yahoo (with retries, cache, circuit). */
export function createProvider(config: ServerConfig): MarketDataProvider {
  switch (config.provider) {
    case 'csv':
      return createCsvProvider({ directory: config.csvDir as string });
    case 'alphavantage':
      return createMarketData({ source: { source: 'alpha-vantage', apiKey: config.alphaVantageKey as string } });
    case 'yahoo':
      return createMarketData({ source: 'yahoo' });
    default:
      return createSimulatedProvider({ seed: SIMULATED_SEED });
  }
}
