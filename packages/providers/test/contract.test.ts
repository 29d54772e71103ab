import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFoliokitError, type MarketDataProvider } from '@foliokit/core';
import { createManualClock } from '@foliokit/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAlphaVantageProvider,
  createCsvProvider,
  createFailoverProvider,
  createSimulatedProvider,
  createStaticProvider,
  createYahooProvider,
  validateBars,
  validateQuote,
  withCache,
  withRateLimit,
  withRetry,
  withTimeout,
} from '../src/index.js';
import { type Reply, type SeenRequest, startServer, type TestServer } from './helpers/http-server.js';

/** What every provider must do, whoever wrote it: the MarketDataProvider contract. */
interface Subject {
  provider: MarketDataProvider;
  known: string;
  unknown: string;
  range: { from: string; to: string };
}

let yahooServer: TestServer;
let avServer: TestServer;
let csvDir: string;
const clock = createManualClock('2025-03-10T22:00:00Z');
const JAN2 = Date.parse('2025-01-02T14:30:00Z') / 1000;

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
  if (symbol !== 'IBM')
    return { body: { 'Error Message': 'Invalid API call. Please retry or visit the documentation.' } };
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
  csvDir = await mkdtemp(join(tmpdir(), 'foliokit-contract-'));
  await writeFile(join(csvDir, 'KO.csv'), 'Date,Close\n2025-01-03,62.1\n2025-01-02,61.5\n');
});
afterAll(async () => {
  await yahooServer.close();
  await avServer.close();
  await rm(csvDir, { recursive: true, force: true });
});

const range = { from: '2025-01-01', to: '2025-01-31' };
const subjects: Array<[string, () => Subject]> = [
  [
    'simulated',
    () => ({ provider: createSimulatedProvider({ seed: 1, clock }), known: 'AAPL', unknown: 'NOPE', range }),
  ],
  [
    'static',
    () => ({
      provider: createStaticProvider({
        prices: { AAPL: '1' },
        history: { AAPL: [{ day: '2025-01-02', close: '1' }] },
        clock,
      }),
      known: 'AAPL',
      unknown: 'NOPE',
      range,
    }),
  ],
  ['csv', () => ({ provider: createCsvProvider({ directory: csvDir }), known: 'KO', unknown: 'NOPE', range })],
  [
    'yahoo',
    () => ({
      provider: createYahooProvider({ baseUrl: yahooServer.url, clock }),
      known: 'AAPL',
      unknown: 'NOPE',
      range,
    }),
  ],
  [
    'alpha-vantage',
    () => ({
      provider: createAlphaVantageProvider({ apiKey: 'k', baseUrl: avServer.url, clock }),
      known: 'IBM',
      unknown: 'NOPE',
      range,
    }),
  ],
  [
    'every wrapper around yahoo',
    () => ({
      provider: withCache(
        createFailoverProvider([
          withRateLimit(withRetry(withTimeout(createYahooProvider({ baseUrl: yahooServer.url, clock }), 5000)), {
            intervalCap: 100,
            interval: 1000,
          }),
        ]),
      ),
      known: 'AAPL',
      unknown: 'NOPE',
      range,
    }),
  ],
];

describe.each(subjects)('the MarketDataProvider contract: %s', (_, make) => {
  it('has a name', () => {
    expect(make().provider.name).toMatch(/\S/);
  });

  it('quotes known symbols with valid quotes and lists the others as unknown', async () => {
    const { provider, known, unknown } = make();
    const batch = await provider.getQuotes([known, unknown]);
    expect(Object.keys(batch.quotes)).toEqual([known]);
    expect(batch.unknown).toEqual([unknown]);
    const quote = batch.quotes[known];
    expect(quote && validateQuote(quote, provider.name)).toBeTruthy();
    expect(quote?.symbol).toBe(known);
    expect(await provider.getQuotes([])).toEqual({ quotes: {}, unknown: [] });
  });

  it('gives valid, ascending bars within the range', async () => {
    const { provider, known, range: r } = make();
    const bars = await provider.getDailyHistory(known, r);
    expect(bars.length).toBeGreaterThan(0);
    expect(validateBars(bars, known, provider.name, r)).toBe(bars);
  });

  it('throws UNKNOWN_SYMBOL for the history of an unknown symbol', async () => {
    const { provider, unknown, range: r } = make();
    const error = await provider.getDailyHistory(unknown, r).catch((e: unknown) => e);
    expect(isFoliokitError(error) && error.code).toBe('UNKNOWN_SYMBOL');
  });

  it('returns [] for an empty range and refuses a malformed one', async () => {
    const { provider, known } = make();
    expect(await provider.getDailyHistory(known, { from: '2025-01-31', to: '2025-01-01' })).toEqual([]);
    const error = await provider
      .getDailyHistory(known, { from: '2025-01-01', to: '31/01/2025' })
      .catch((e: unknown) => e);
    expect(isFoliokitError(error) && error.code).toBe('VALIDATION_FAILED');
  });
});
