import { readFileSync } from 'node:fs';
import { type FoliokitError, isFoliokitError } from '@foliokit/core';
import { createManualClock } from '@foliokit/core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createYahooProvider } from '../src/index.js';
import { type Reply, type SeenRequest, startServer, type TestServer } from './helpers/http-server.js';

let server: TestServer;
let elsewhere: TestServer;

beforeAll(async () => {
  server = await startServer();
  elsewhere = await startServer(() => ({ body: chart('AAPL', 1) }), 'localhost');
});
afterAll(async () => {
  await server.close();
  await elsewhere.close();
});
beforeEach(() => {
  server.requests.length = 0;
  elsewhere.requests.length = 0;
});

const NOT_FOUND: Reply = {
  status: 404,
  body: { chart: { result: null, error: { code: 'Not Found', description: 'No data found, symbol may be delisted' } } },
};

/** 2024-01-02 14:30Z (09:30 in New York). */
const JAN2 = Date.parse('2024-01-02T14:30:00Z') / 1000;
const DAY = 86_400;

interface ChartData {
  timestamp?: unknown[];
  open?: unknown[];
  high?: unknown[];
  low?: unknown[];
  close?: unknown[];
  volume?: unknown[];
  adjclose?: unknown[];
  meta?: Record<string, unknown>;
}

function chart(symbol: string, price: unknown, data: ChartData = {}): unknown {
  const result: Record<string, unknown> = {
    meta: {
      currency: 'USD',
      symbol,
      exchangeName: 'NMS',
      instrumentType: 'EQUITY',
      regularMarketPrice: price,
      regularMarketTime: 1741636800,
      gmtoffset: -14400,
      timezone: 'EDT',
      exchangeTimezoneName: 'America/New_York',
      ...data.meta,
    },
  };
  if (data.timestamp) {
    result.timestamp = data.timestamp;
    result.indicators = {
      quote: [{ open: data.open, high: data.high, low: data.low, close: data.close, volume: data.volume }],
      ...(data.adjclose ? { adjclose: [{ adjclose: data.adjclose }] } : {}),
    };
  }
  return { chart: { result: [result], error: null } };
}

function provider() {
  return createYahooProvider({ baseUrl: server.url, clock: createManualClock('2025-03-10T15:00:00Z') });
}

async function failure(promise: Promise<unknown>): Promise<FoliokitError> {
  try {
    await promise;
  } catch (error) {
    if (isFoliokitError(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('createYahooProvider: quotes', () => {
  it('makes one chart request per symbol and reads the market price and time', async () => {
    server.handle((request) => {
      if (request.path === '/v8/finance/chart/AAPL') return { body: chart('AAPL', 239.07) };
      if (request.path === '/v8/finance/chart/BRK-B') return { body: chart('BRK-B', 474.5599975585937) };
      if (request.path === '/v8/finance/chart/VOD.L')
        return { body: chart('VOD.L', 71.42, { meta: { currency: 'GBp' } }) };
      return NOT_FOUND;
    });
    const batch = await provider().getQuotes(['AAPL', 'BRK-B', 'VOD.L', 'NOPE']);
    expect(batch).toEqual({
      quotes: {
        AAPL: { symbol: 'AAPL', price: '239.07', at: '2025-03-10T20:00:00.000Z', currency: 'USD', source: 'yahoo' },
        'BRK-B': { symbol: 'BRK-B', price: '474.56', at: '2025-03-10T20:00:00.000Z', currency: 'USD', source: 'yahoo' },
        'VOD.L': { symbol: 'VOD.L', price: '0.7142', at: '2025-03-10T20:00:00.000Z', currency: 'GBP', source: 'yahoo' },
      },
      unknown: ['NOPE'],
    });
    const aapl = server.requests.find((r) => r.path === '/v8/finance/chart/AAPL') as SeenRequest;
    expect(aapl.query.get('range')).toBe('1d');
    expect(aapl.query.get('interval')).toBe('1d');
  });

  it('treats an empty result as unknown', async () => {
    server.handle(() => ({ body: { chart: { result: [], error: null } } }));
    expect(await provider().getQuotes(['AAPL'])).toEqual({ quotes: {}, unknown: ['AAPL'] });
  });

  it('maps 429 (text body) with and without Retry-After, 5xx and other 4xx', async () => {
    const cases: Array<[Reply, string, Record<string, unknown>]> = [
      [
        { status: 429, body: 'Too Many Requests\n', headers: { 'retry-after': '3' } },
        'PROVIDER_RATE_LIMITED',
        { retryAfterMs: 3000 },
      ],
      [{ status: 429, body: 'Too Many Requests\n' }, 'PROVIDER_RATE_LIMITED', { status: 429 }],
      [{ status: 500, body: 'Internal Server Error' }, 'PROVIDER_UNAVAILABLE', { status: 500 }],
      [{ status: 503, body: '' }, 'PROVIDER_UNAVAILABLE', { status: 503 }],
      [
        { status: 401, body: { finance: { error: { code: 'Unauthorized', description: 'Invalid Crumb' } } } },
        'PROVIDER_ERROR',
        { status: 401 },
      ],
      [{ status: 404, body: '<html>Not found</html>' }, 'PROVIDER_ERROR', { status: 404 }],
      [
        {
          status: 400,
          body: { chart: { result: null, error: { code: 'Bad Request', description: 'Invalid input' } } },
        },
        'PROVIDER_ERROR',
        { status: 400 },
      ],
    ];
    for (const [reply, code, details] of cases) {
      server.handle(() => reply);
      const error = await failure(provider().getQuotes(['AAPL']));
      expect([error.code, error.details]).toMatchObject([code, details]);
    }
  });

  it('refuses malformed answers with PROVIDER_INVALID_RESPONSE', async () => {
    const bodies: unknown[] = [
      '{"chart": {"result": [',
      { chart: null },
      { chart: { result: null, error: null } },
      { chart: { result: [{ timestamp: [] }], error: null } },
      chart('AAPL', null),
      chart('AAPL', -1),
      chart('AAPL', 0),
      chart('AAPL', 'NaN'),
      chart('AAPL', 'None'),
      chart('AAPL', '1e309'),
      '{"chart":{"result":[{"meta":{"symbol":"AAPL","currency":"USD","regularMarketPrice":1e309,"regularMarketTime":1741636800}}],"error":null}}',
      chart('AAPL', 100, { meta: { regularMarketTime: null } }),
      chart('MSFT', 100),
    ];
    for (const body of bodies) {
      server.handle(() => ({ body }));
      const outcome = await provider()
        .getQuotes(['AAPL'])
        .then(
          () => 'resolved',
          (error: FoliokitError) => error.code,
        );
      expect([outcome, body]).toEqual(['PROVIDER_INVALID_RESPONSE', body]);
    }
  });

  it('times out on a hanging server and refuses a redirect to another host', async () => {
    server.handle(() => ({ hang: true }));
    const realClock = { now: () => Date.now(), setTimeout, clearTimeout } as never;
    const slow = createYahooProvider({ baseUrl: server.url, clock: realClock, timeoutMs: 40 });
    expect((await failure(slow.getQuotes(['AAPL']))).code).toBe('PROVIDER_TIMEOUT');

    server.handle((request) => ({ status: 307, headers: { location: `${elsewhere.url}${request.path}` } }));
    const error = await failure(provider().getDailyHistory('AAPL', { from: '2024-01-01', to: '2024-01-31' }));
    expect(error.code).toBe('PROVIDER_ERROR');
    expect(elsewhere.requests).toHaveLength(0);
  });
});

describe('createYahooProvider: history', () => {
  it('reads the chart, skips null rows, keeps the last of a repeated day, rounds float noise', async () => {
    server.handle(() => ({
      body: chart('AAPL', 185.64, {
        timestamp: [JAN2, JAN2 + DAY, JAN2 + 2 * DAY, JAN2 + 3 * DAY, JAN2 + 3 * DAY + 3600],
        open: [187.14999389648438, null, 182.14999389648438, 181.99000549316406, 182],
        high: [188.44000244140625, null, 183.08999633789062, 182.75999450683594, 183],
        low: [183.88499450683594, null, 180.8800048828125, 180.1699981689453, 180],
        close: [185.63999938964844, null, 181.91000366210938, 181.17999267578125, 181.5],
        volume: [82488700, null, 71983600, 62303300, 62400000],
        adjclose: [184.93, null, 181.22, 180.49, 180.8],
      }),
    }));
    const bars = await provider().getDailyHistory('AAPL', { from: '2024-01-01', to: '2024-01-31' });
    expect(bars).toEqual([
      {
        day: '2024-01-02',
        open: '187.15',
        high: '188.44',
        low: '183.885',
        close: '185.64',
        adjClose: '184.93',
        volume: '82488700',
      },
      {
        day: '2024-01-04',
        open: '182.15',
        high: '183.09',
        low: '180.88',
        close: '181.91',
        adjClose: '181.22',
        volume: '71983600',
      },
      {
        day: '2024-01-05',
        open: '182',
        high: '183',
        low: '180',
        close: '181.5',
        adjClose: '180.8',
        volume: '62400000',
      },
    ]);
    const query = (server.requests[0] as SeenRequest).query;
    expect(query.get('interval')).toBe('1d');
    expect(query.get('period1')).toBe(String(Date.parse('2024-01-01T00:00:00Z') / 1000));
    expect(query.get('period2')).toBe(String(Date.parse('2024-02-01T00:00:00Z') / 1000));
  });

  it('dates bars in the exchange time zone and filters the range', async () => {
    // 22:00Z on Jan 3 is 11:00 on Jan 4 in Auckland (UTC+13).
    const nz = Date.parse('2024-01-03T22:00:00Z') / 1000;
    server.handle(() => ({
      body: chart('AIR.NZ', 0.6, {
        meta: { currency: 'NZD', gmtoffset: 46_800, exchangeTimezoneName: 'Pacific/Auckland' },
        timestamp: [nz, nz + DAY],
        close: [0.62, 0.63],
      }),
    }));
    expect(await provider().getDailyHistory('AIR.NZ', { from: '2024-01-05', to: '2024-01-10' })).toEqual([
      { day: '2024-01-05', close: '0.63' },
    ]);
  });

  /** A chart answer of `fixtures/` (the shape Yahoo's chart API answers with), as JSON. */
  const fixture = (name: string): { chart: { result: Array<Record<string, unknown>> } } =>
    JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

  it("dates each bar in the exchange's zone at the bar's date, not with the offset at fetch time", async () => {
    // Summer bars stamped at local midnight (EDT, BST), fetched in winter (gmtoffset of EST, GMT):
    // the fetch-time offset would put each one a day early.
    server.handle((request) =>
      request.path === '/v8/finance/chart/GC%3DF'
        ? { body: fixture('yahoo-chart-gc-f-summer-2020.json') }
        : { body: fixture('yahoo-chart-eurusd-summer-2020.json') },
    );
    const gold = await provider().getDailyHistory('GC=F', { from: '2020-06-30', to: '2020-07-02' });
    expect(gold.map((bar) => [bar.day, bar.close])).toEqual([
      ['2020-06-30', '1780.3'],
      ['2020-07-01', '1779.9'],
      ['2020-07-02', '1777.9'],
    ]);
    const euro = await provider().getDailyHistory('EURUSD=X', { from: '2020-07-01', to: '2020-07-01' });
    expect(euro).toEqual([
      {
        day: '2020-07-01',
        open: '1.1234',
        high: '1.1285',
        low: '1.1192',
        close: '1.1233',
        adjClose: '1.1233',
        volume: '0',
      },
    ]);
  });

  it('falls back to gmtoffset when the zone name is missing or unknown', async () => {
    const summer = fixture('yahoo-chart-gc-f-summer-2020.json');
    const meta = summer.chart.result[0]?.meta as Record<string, unknown>;
    for (const zone of [undefined, 'Mars/Olympus_Mons', '', 42]) {
      meta.exchangeTimezoneName = zone;
      server.handle(() => ({ body: summer }));
      const bars = await provider().getDailyHistory('GC=F', { from: '2020-06-29', to: '2020-07-02' });
      // 04:00Z less five hours: the evening before, as the offset says.
      expect([zone, bars.map((bar) => bar.day)]).toEqual([zone, ['2020-06-29', '2020-06-30', '2020-07-01']]);
    }
  });

  it('returns [] for a known symbol without bars in range, UNKNOWN_SYMBOL for an unknown one', async () => {
    server.handle(() => ({ body: chart('AAPL', 100) }));
    expect(await provider().getDailyHistory('AAPL', { from: '2024-01-06', to: '2024-01-07' })).toEqual([]);
    server.handle(() => NOT_FOUND);
    const error = await failure(provider().getDailyHistory('NOPE', { from: '2024-01-01', to: '2024-01-31' }));
    expect(error.code).toBe('UNKNOWN_SYMBOL');
  });

  it('refuses bad rows', async () => {
    const cases: ChartData[] = [
      { timestamp: [JAN2], close: [-1] },
      { timestamp: [JAN2], close: [0] },
      { timestamp: [JAN2], close: ['abc'] },
      { timestamp: [JAN2], close: [10], open: [-2] },
      { timestamp: [JAN2], close: [10], volume: [-5] },
      { timestamp: [JAN2, JAN2 + DAY], close: [10] },
      { timestamp: ['yesterday'], close: [10] },
      { timestamp: [JAN2] },
    ];
    for (const data of cases) {
      server.handle(() => ({ body: chart('AAPL', 100, data) }));
      const error = await failure(provider().getDailyHistory('AAPL', { from: '2024-01-01', to: '2024-01-31' }));
      expect([error.code, data]).toEqual(['PROVIDER_INVALID_RESPONSE', data]);
    }
  });
});
