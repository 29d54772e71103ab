/**
 * Every built-in provider, and the wrappers composed around one, runs the published provider
 * conformance suite of `@foliokit/core/testing`; the HTTP sources against local fake servers.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManualClock, runProviderConformance } from '@foliokit/core/testing';
import { afterAll, beforeAll } from 'vitest';
import {
  createAlphaVantageProvider,
  createCsvProvider,
  createFailoverProvider,
  createMarketData,
  createSimulatedProvider,
  createStaticProvider,
  createYahooProvider,
  withCache,
  withRateLimit,
  withRetry,
  withTimeout,
} from '../src/index.js';
import { type Reply, type SeenRequest, startServer, type TestServer } from './helpers/http-server.js';

let yahooServer: TestServer;
let avServer: TestServer;
let csvDir: string;
const clock = createManualClock('2025-03-10T22:00:00Z');
const historyRange = { from: '2025-01-01', to: '2025-01-31' };
const JAN2 = Date.parse('2025-01-02T14:30:00Z') / 1000;

/** Yahoo's chart endpoint for AAPL; 404 for anything else. The provider filters the days by range. */
function yahoo(request: SeenRequest): Reply {
  if (request.path !== '/v8/finance/chart/AAPL') {
    return {
      status: 404,
      body: {
        chart: { result: null, error: { code: 'Not Found', description: 'No data found, symbol may be delisted' } },
      },
    };
  }
  const meta = {
    symbol: 'AAPL',
    currency: 'USD',
    regularMarketPrice: 227.48,
    regularMarketTime: 1741636800,
    gmtoffset: -18000,
  };
  const timestamp = [JAN2, JAN2 + 86_400, JAN2 + 86_400 * 6];
  return {
    body: {
      chart: {
        result: [{ meta, timestamp, indicators: { quote: [{ close: [243.85, 243.36, 242.7], volume: [1, 2, 3] }] } }],
        error: null,
      },
    },
  };
}

/** Alpha Vantage's quote and daily series for IBM; its "unknown symbol" answers for anything else. */
function alphaVantage(request: SeenRequest): Reply {
  const symbol = request.query.get('symbol');
  if (request.query.get('function') === 'GLOBAL_QUOTE') {
    if (symbol !== 'IBM') return { body: { 'Global Quote': {} } };
    return {
      body: {
        'Global Quote': { '01. symbol': 'IBM', '05. price': '261.2800', '07. latest trading day': '2025-03-10' },
      },
    };
  }
  if (symbol !== 'IBM') {
    return { body: { 'Error Message': 'Invalid API call. Please retry or visit the documentation.' } };
  }
  const bar = (c: string) => ({ '1. open': c, '2. high': c, '3. low': c, '4. close': c, '5. volume': '100' });
  return {
    body: {
      'Meta Data': {},
      'Time Series (Daily)': { '2025-01-03': bar('220.1'), '2025-01-02': bar('219.5'), '2024-12-31': bar('219') },
    },
  };
}

beforeAll(async () => {
  yahooServer = await startServer(yahoo);
  avServer = await startServer(alphaVantage);
  csvDir = await mkdtemp(join(tmpdir(), 'foliokit-conformance-'));
  await writeFile(join(csvDir, 'KO.csv'), 'Date,Close\n2025-01-03,62.1\n2025-01-02,61.5\n');
  await writeFile(
    join(csvDir, 'PEP.csv'),
    'Date,Open,Close,Volume\n2025-01-02,150,151.25,900\n2025-01-06,151,149.5,0\n',
  );
});
afterAll(async () => {
  await yahooServer.close();
  await avServer.close();
  await rm(csvDir, { recursive: true, force: true });
});

runProviderConformance({
  name: 'simulated',
  create: () => createSimulatedProvider({ seed: 1, clock }),
  knownSymbols: ['AAPL', 'MSFT'],
  historyRange,
});

runProviderConformance({
  name: 'static',
  create: () =>
    createStaticProvider({
      prices: { AAPL: '1', 'BRK.B': '420.5' },
      history: {
        AAPL: [
          { day: '2025-01-02', close: '1' },
          { day: '2025-01-03', close: '1.25', open: '1', high: '1.3', low: '0.9', volume: '10' },
        ],
        'BRK.B': [{ day: '2025-01-02', close: '420.5' }],
      },
      clock,
    }),
  knownSymbols: ['AAPL', 'BRK.B'],
  historyRange,
});

runProviderConformance({
  name: 'csv',
  create: () => createCsvProvider({ directory: csvDir }),
  knownSymbols: ['KO', 'PEP'],
  historyRange,
});

runProviderConformance({
  name: 'yahoo (local fake server)',
  create: () => createYahooProvider({ baseUrl: yahooServer.url, clock }),
  knownSymbols: ['AAPL'],
  historyRange,
});

runProviderConformance({
  name: 'alpha-vantage (local fake server)',
  create: () => createAlphaVantageProvider({ apiKey: 'k', baseUrl: avServer.url, clock }),
  knownSymbols: ['IBM'],
  historyRange,
});

runProviderConformance({
  name: 'cache over failover over rate limit, retry and timeout, around yahoo',
  create: () =>
    withCache(
      createFailoverProvider([
        withRateLimit(withRetry(withTimeout(createYahooProvider({ baseUrl: yahooServer.url, clock }), 5000)), {
          intervalCap: 100,
          interval: 1000,
        }),
      ]),
    ),
  knownSymbols: ['AAPL'],
  historyRange,
});

runProviderConformance({
  name: 'createMarketData, simulated',
  create: () => createMarketData({ source: { source: 'simulated', seed: 7 }, clock }),
  knownSymbols: ['AAPL', 'NVDA'],
  historyRange,
});
