import { type FoliokitError, isFoliokitError } from '@foliokit/core';
import { createManualClock } from '@foliokit/core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAlphaVantageProvider, withRetry } from '../src/index.js';
import { type Reply, type SeenRequest, startServer, type TestServer } from './helpers/http-server.js';

const KEY = 'SECRET-KEY-12345';
let server: TestServer;
let elsewhere: TestServer;
/** Every error seen, to check that none leaks the key. */
const errors: FoliokitError[] = [];

beforeAll(async () => {
  server = await startServer();
  // Another origin: `localhost` instead of `127.0.0.1`.
  elsewhere = await startServer(() => ({ body: globalQuote('AAPL', '1.00') }), 'localhost');
});
afterAll(async () => {
  for (const error of errors) {
    const text = `${error.message} ${JSON.stringify(error.details)} ${String((error.cause as Error | undefined)?.message ?? '')}`;
    expect(text).not.toContain(KEY);
  }
  await server.close();
  await elsewhere.close();
});
beforeEach(() => {
  server.requests.length = 0;
  elsewhere.requests.length = 0;
});

function globalQuote(symbol: string, price: unknown, day = '2025-03-07'): unknown {
  return {
    'Global Quote': {
      '01. symbol': symbol,
      '02. open': '100.0000',
      '05. price': price,
      '06. volume': '1000',
      '07. latest trading day': day,
      '08. previous close': '99.0000',
    },
  };
}

function series(rows: Record<string, [string, string, string, string, string]>): unknown {
  const daily: Record<string, Record<string, string>> = {};
  for (const [day, [o, h, l, c, v]] of Object.entries(rows)) {
    daily[day] = { '1. open': o, '2. high': h, '3. low': l, '4. close': c, '5. volume': v };
  }
  return {
    'Meta Data': { '1. Information': 'Daily Prices (open, high, low, close) and Volumes', '2. Symbol': 'IBM' },
    'Time Series (Daily)': daily,
  };
}

function provider(options: { timeoutMs?: number; clock?: ReturnType<typeof createManualClock> } = {}) {
  return createAlphaVantageProvider({
    apiKey: KEY,
    baseUrl: server.url,
    clock: options.clock ?? createManualClock('2025-03-10T15:00:00Z'),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}

async function failure(promise: Promise<unknown>): Promise<FoliokitError> {
  try {
    await promise;
  } catch (error) {
    if (isFoliokitError(error)) {
      errors.push(error);
      return error;
    }
    throw error;
  }
  throw new Error('expected a rejection');
}

const byQuery =
  (routes: Record<string, Reply>) =>
  (request: SeenRequest): Reply =>
    routes[request.query.get('symbol') ?? ''] ?? { body: { 'Global Quote': {} } };

describe('createAlphaVantageProvider: quotes', () => {
  it('reads GLOBAL_QUOTE, one request per symbol, and lists unknown symbols', async () => {
    server.handle(
      byQuery({
        IBM: { body: globalQuote('IBM', '235.1200', '2025-03-07') },
        AAPL: { body: globalQuote('AAPL', '239.0700', '2025-03-10') },
      }),
    );
    const batch = await provider().getQuotes(['IBM', 'AAPL', 'NOPE']);
    expect(batch).toEqual({
      quotes: {
        // A past trading day is dated at its close; today's price at now.
        IBM: {
          symbol: 'IBM',
          price: '235.12',
          at: '2025-03-07T21:00:00.000Z',
          currency: 'USD',
          source: 'alpha-vantage',
        },
        AAPL: {
          symbol: 'AAPL',
          price: '239.07',
          at: '2025-03-10T15:00:00.000Z',
          currency: 'USD',
          source: 'alpha-vantage',
        },
      },
      unknown: ['NOPE'],
    });
    expect(server.requests).toHaveLength(3);
    const first = server.requests[0] as SeenRequest;
    expect(first.path).toBe('/query');
    expect(Object.fromEntries(first.query)).toEqual({ function: 'GLOBAL_QUOTE', symbol: 'IBM', apikey: KEY });
  });

  it('maps throttling notes (HTTP 200) to PROVIDER_RATE_LIMITED', async () => {
    const notes: Array<[Record<string, string>, string, number | undefined]> = [
      [
        {
          Note: 'Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day.',
        },
        'PROVIDER_RATE_LIMITED',
        60_000,
      ],
      [
        {
          Information:
            'Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day. Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly remove all daily rate limits.',
        },
        'PROVIDER_RATE_LIMITED',
        undefined,
      ],
      [
        {
          Information:
            'Thank you for using Alpha Vantage! This is a premium endpoint. You may subscribe to any of the premium plans.',
        },
        'PROVIDER_ERROR',
        undefined,
      ],
    ];
    for (const [body, code, retryAfterMs] of notes) {
      server.handle(() => ({ body }));
      const error = await failure(provider().getQuotes(['IBM']));
      expect(error.code).toBe(code);
      expect(error.details.retryAfterMs).toBe(retryAfterMs);
      const history = await failure(provider().getDailyHistory('IBM', { from: '2025-01-01', to: '2025-01-31' }));
      expect(history.code).toBe(code);
    }
  });

  it('maps the demo-key notice to INVALID_CONFIGURATION, which is not retried', async () => {
    server.handle(() => ({
      body: {
        Information:
          'The **demo** API key is for demo purposes only. Please claim your free API key at (https://www.alphavantage.co/support/#api-key) to explore our full API offerings. It takes fewer than 20 seconds.',
      },
    }));
    const clock = createManualClock('2025-03-10T15:00:00Z');
    const retried = withRetry(provider({ clock }), { retries: 3, clock, jitter: false });
    const error = await failure(retried.getQuotes(['MSFT']));
    expect(error.code).toBe('INVALID_CONFIGURATION');
    expect(error.details).toMatchObject({ provider: 'alpha-vantage', field: 'apiKey' });
    expect(server.requests).toHaveLength(1);
    const history = await failure(retried.getDailyHistory('MSFT', { from: '2025-03-01', to: '2025-03-07' }));
    expect(history.code).toBe('INVALID_CONFIGURATION');
    expect(server.requests).toHaveLength(2);
  });

  it('maps HTTP statuses, with Retry-After in seconds or as a date', async () => {
    const cases: Array<[Reply, string, Record<string, unknown>]> = [
      [
        { status: 429, body: 'Too Many Requests', headers: { 'retry-after': '7' } },
        'PROVIDER_RATE_LIMITED',
        { status: 429, retryAfterMs: 7000 },
      ],
      [
        { status: 429, body: 'Too Many Requests', headers: { 'retry-after': 'Mon, 10 Mar 2025 15:00:30 GMT' } },
        'PROVIDER_RATE_LIMITED',
        { status: 429, retryAfterMs: 30_000 },
      ],
      [{ status: 429, body: 'Too Many Requests' }, 'PROVIDER_RATE_LIMITED', { status: 429 }],
      [{ status: 500, body: 'oops' }, 'PROVIDER_UNAVAILABLE', { status: 500 }],
      [{ status: 503, body: { error: 'maintenance' } }, 'PROVIDER_UNAVAILABLE', { status: 503 }],
      [{ status: 403, body: 'forbidden' }, 'PROVIDER_ERROR', { status: 403 }],
      [{ status: 404, body: 'not here' }, 'PROVIDER_ERROR', { status: 404 }],
    ];
    for (const [reply, code, details] of cases) {
      server.handle(() => reply);
      const error = await failure(provider().getQuotes(['IBM']));
      expect(error.code).toBe(code);
      expect(error.details).toMatchObject(details);
      if (!('retryAfterMs' in details)) expect(error.details.retryAfterMs).toBeUndefined();
    }
  });

  it('refuses malformed answers with PROVIDER_INVALID_RESPONSE', async () => {
    const bodies: unknown[] = [
      '{"Global Quote": {"01. symbol": "IBM", ',
      '<html>maintenance</html>',
      '',
      '[]',
      '"IBM"',
      { something: 'else' },
      { 'Global Quote': 'IBM' },
      globalQuote('IBM', 'None'),
      globalQuote('IBM', '-5.0000'),
      globalQuote('IBM', '0.0000'),
      globalQuote('IBM', 'NaN'),
      globalQuote('IBM', 'Infinity'),
      globalQuote('IBM', '1e309'),
      globalQuote('IBM', ''),
      globalQuote('IBM', null),
      globalQuote('IBM', true),
      globalQuote('IBM', { value: '12.5' }),
      globalQuote('IBM', '12,50'),
      globalQuote('MSFT', '12.50'),
      globalQuote('IBM', '12.50', 'yesterday'),
      '{"Global Quote": {"01. symbol": "IBM", "05. price": 1e309, "07. latest trading day": "2025-03-07"}}',
    ];
    for (const body of bodies) {
      server.handle(() => ({ body }));
      const outcome = await provider()
        .getQuotes(['IBM'])
        .then(
          () => 'resolved',
          (error: FoliokitError) => {
            errors.push(error);
            return error.code;
          },
        );
      expect([outcome, body]).toEqual(['PROVIDER_INVALID_RESPONSE', body]);
    }
  });

  it('times out on a hanging server, and fails as unavailable on a reset or a cut body', async () => {
    server.handle(() => ({ hang: true }));
    const clock = createManualClock();
    const timeout = failure(provider({ clock, timeoutMs: 50 }).getQuotes(['IBM']));
    await vi.waitFor(() => expect(server.requests).toHaveLength(1));
    await clock.advance(50);
    expect((await timeout).code).toBe('PROVIDER_TIMEOUT');

    server.handle(() => ({ reset: true }));
    expect((await failure(provider().getQuotes(['IBM']))).code).toBe('PROVIDER_UNAVAILABLE');
    server.handle(() => ({ body: globalQuote('IBM', '1.5'), cutBody: true }));
    expect((await failure(provider().getQuotes(['IBM']))).code).toBe('PROVIDER_UNAVAILABLE');
  });

  it('fails as unavailable when nothing listens', async () => {
    const closed = await startServer();
    const url = closed.url;
    await closed.close();
    const error = await failure(createAlphaVantageProvider({ apiKey: KEY, baseUrl: url }).getQuotes(['IBM']));
    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(error.cause).toBeDefined();
  });

  it('never follows a redirect to another host, and never leaks the key', async () => {
    server.handle((request) => ({
      status: 302,
      headers: { location: `${elsewhere.url}/query?${request.query.toString()}` },
    }));
    const error = await failure(provider().getQuotes(['IBM']));
    expect(error.code).toBe('PROVIDER_ERROR');
    expect(error.details).toMatchObject({ status: 302, redirectHost: new URL(elsewhere.url).host });
    expect(elsewhere.requests).toHaveLength(0);
    expect(error.message).not.toContain(KEY);
  });

  it('follows a redirect within the same origin', async () => {
    server.handle((request) =>
      request.path === '/query'
        ? { status: 301, headers: { location: `/v2/query?${request.query.toString()}` } }
        : { body: globalQuote('IBM', '10') },
    );
    const batch = await provider().getQuotes(['IBM']);
    expect(batch.quotes.IBM?.price).toBe('10');
    expect(server.requests.map((r) => r.path)).toEqual(['/query', '/v2/query']);
  });

  it('refuses a rejected key without echoing it', async () => {
    server.handle(() => ({ body: { 'Error Message': `the parameter apikey is invalid or missing: ${KEY}` } }));
    const error = await failure(provider().getQuotes(['IBM']));
    expect(error.code).toBe('PROVIDER_ERROR');
    expect(error.message).not.toContain(KEY);
  });

  it('requires a key', () => {
    expect(() => createAlphaVantageProvider({ apiKey: '' })).toThrow(/apiKey/);
  });
});

describe('createAlphaVantageProvider: history', () => {
  const rows = series({
    '2025-03-07': ['100.1000', '102.0000', '99.5000', '101.2500', '1200'],
    '2025-03-06': ['98.0000', '100.5000', '97.0000', '100.0000', '1000'],
    '2025-03-05': ['97.0000', '98.5000', '96.0000', '98.0000', '900'],
    '2024-12-31': ['90.0000', '91.0000', '89.0000', '90.5000', '800'],
  });

  it('reads TIME_SERIES_DAILY, filters the range and sorts ascending', async () => {
    server.handle(() => ({ body: rows }));
    const bars = await provider().getDailyHistory('ibm', { from: '2025-03-06', to: '2025-03-31' });
    expect(bars).toEqual([
      { day: '2025-03-06', open: '98', high: '100.5', low: '97', close: '100', volume: '1000' },
      { day: '2025-03-07', open: '100.1', high: '102', low: '99.5', close: '101.25', volume: '1200' },
    ]);
    const query = Object.fromEntries((server.requests[0] as SeenRequest).query);
    expect(query).toEqual({ function: 'TIME_SERIES_DAILY', symbol: 'IBM', outputsize: 'compact', apikey: KEY });
  });

  it('asks for the full series when the range starts long ago', async () => {
    server.handle(() => ({ body: rows }));
    expect(await provider().getDailyHistory('IBM', { from: '2024-01-01', to: '2024-12-31' })).toHaveLength(1);
    expect((server.requests[0] as SeenRequest).query.get('outputsize')).toBe('full');
  });

  it('asks for compact whenever its 100 trading days reach back to `from`', async () => {
    server.handle(() => ({ body: rows }));
    // Today is Monday 2025-03-10. Compact is the last 100 trading days; trading days never outnumber
    // weekdays, so a range whose start lies within the last 100 weekdays is covered.
    const sizes: Array<[string, string]> = [
      ['2024-11-10', 'compact'], // 120 days back
      ['2024-10-22', 'compact'], // 139 days back: exactly 100 weekdays up to today
      ['2024-10-21', 'full'], // 101 weekdays
      ['2024-10-19', 'full'], // a Saturday: the weekdays are the same 101
      ['2025-03-10', 'compact'],
    ];
    for (const [from, size] of sizes) {
      server.requests.length = 0;
      await provider().getDailyHistory('IBM', { from, to: '2025-03-10' });
      expect([from, (server.requests[0] as SeenRequest).query.get('outputsize')]).toEqual([from, size]);
    }
    // From a Saturday 100 weekdays back (today a Friday): compact.
    server.requests.length = 0;
    await provider({ clock: createManualClock('2025-03-07T23:00:00Z') }).getDailyHistory('IBM', {
      from: '2024-10-19',
      to: '2025-03-07',
    });
    expect((server.requests[0] as SeenRequest).query.get('outputsize')).toBe('compact');
  });

  it('maps an invalid symbol to UNKNOWN_SYMBOL', async () => {
    server.handle(() => ({
      body: {
        'Error Message':
          'Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for TIME_SERIES_DAILY.',
      },
    }));
    const error = await failure(provider().getDailyHistory('NOPE', { from: '2025-01-01', to: '2025-03-01' }));
    expect(error.code).toBe('UNKNOWN_SYMBOL');
    expect(error.details.symbol).toBe('NOPE');
  });

  it('refuses a series with a bad bar in the range', async () => {
    for (const close of ['None', '0.0000', '-1.0000', 'NaN', '1e309', '']) {
      server.handle(() => ({ body: series({ '2025-03-07': ['1', '2', '0.5', close, '10'] }) }));
      const error = await failure(provider().getDailyHistory('IBM', { from: '2025-03-01', to: '2025-03-31' }));
      expect(error.code).toBe('PROVIDER_INVALID_RESPONSE');
      expect(error.details).toMatchObject({ symbol: 'IBM', day: '2025-03-07', field: '4. close' });
    }
    server.handle(() => ({ body: { 'Meta Data': {} } }));
    expect((await failure(provider().getDailyHistory('IBM', { from: '2025-03-01', to: '2025-03-31' }))).code).toBe(
      'PROVIDER_INVALID_RESPONSE',
    );
    server.handle(() => ({ body: series({ '2025-3-7': ['1', '2', '0.5', '1', '10'] }) }));
    expect((await failure(provider().getDailyHistory('IBM', { from: '2025-03-01', to: '2025-03-31' }))).code).toBe(
      'PROVIDER_INVALID_RESPONSE',
    );
  });
});
