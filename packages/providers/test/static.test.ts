import { isFoliokitError } from '@foliokit/core';
import { createManualClock } from '@foliokit/core/testing';
import { describe, expect, it } from 'vitest';
import { createStaticProvider } from '../src/index.js';

function failure(fn: () => unknown): { code: string; field: unknown } {
  try {
    fn();
  } catch (error) {
    if (isFoliokitError(error)) return { code: error.code, field: error.details.field };
    throw error;
  }
  throw new Error('expected a failure');
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isFoliokitError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('createStaticProvider', () => {
  it('quotes the prices it was given, stamped by its clock', async () => {
    const clock = createManualClock('2025-04-01T12:00:00Z');
    const provider = createStaticProvider({
      prices: { AAPL: '190.120', msft: 410, KO: '6e1' },
      clock,
    });
    const batch = await provider.getQuotes(['AAPL', 'MSFT', 'KO', 'NOPE']);
    expect(batch.unknown).toEqual(['NOPE']);
    expect(batch.quotes).toEqual({
      AAPL: {
        symbol: 'AAPL',
        price: '190.12',
        at: '2025-04-01T12:00:00.000Z',
        currency: 'USD',
        source: 'static',
      },
      MSFT: {
        symbol: 'MSFT',
        price: '410',
        at: '2025-04-01T12:00:00.000Z',
        currency: 'USD',
        source: 'static',
      },
      KO: {
        symbol: 'KO',
        price: '60',
        at: '2025-04-01T12:00:00.000Z',
        currency: 'USD',
        source: 'static',
      },
    });
  });

  it('changes and removes prices', async () => {
    const provider = createStaticProvider({
      prices: { AAPL: '1' },
      name: 'fixed',
    });
    provider.setPrice('AAPL', '2.5');
    provider.setPrice('nvda', 0.1);
    let batch = await provider.getQuotes(['AAPL', 'NVDA']);
    expect(batch.quotes.AAPL?.price).toBe('2.5');
    expect(batch.quotes.NVDA?.price).toBe('0.1');
    expect(batch.quotes.NVDA?.source).toBe('fixed');
    expect(provider.removePrice('AAPL')).toBe(true);
    expect(provider.removePrice('AAPL')).toBe(false);
    batch = await provider.getQuotes(['AAPL']);
    expect(batch).toEqual({ quotes: {}, unknown: ['AAPL'] });
  });

  it('refuses a price that is not positive, finite and exact, naming the field', () => {
    for (const bad of ['0', '-1', 'abc', '', 'NaN', 'Infinity', '1e309', Number.NaN, Number.POSITIVE_INFINITY, -0, 0]) {
      expect(failure(() => createStaticProvider({ prices: { AAPL: '1', TSLA: bad } }))).toEqual({
        code: 'VALIDATION_FAILED',
        field: 'prices.TSLA',
      });
    }
    expect(failure(() => createStaticProvider({ prices: { X: '0.0000000000000000001' } })).field).toBe('prices.X');
    const provider = createStaticProvider({ prices: {} });
    expect(failure(() => provider.setPrice('KO', '-3'))).toEqual({
      code: 'VALIDATION_FAILED',
      field: 'prices.KO',
    });
    expect(failure(() => provider.setPrice('', '3')).code).toBe('VALIDATION_FAILED');
  });

  it('serves history by range, sorted, and knows which symbols have none', async () => {
    const provider = createStaticProvider({
      prices: { AAPL: '3' },
      history: {
        AAPL: [
          { day: '2024-01-03', close: '102' },
          {
            day: '2024-01-02',
            open: '99',
            high: '101',
            low: '98.5',
            close: '100.00',
            volume: 1000 as unknown as string,
          },
          { day: '2024-01-04', close: '103' },
        ],
        OLD: [{ day: '2020-05-05', close: '7' }],
      },
    });
    expect(
      await provider.getDailyHistory('AAPL', {
        from: '2024-01-02',
        to: '2024-01-03',
      }),
    ).toEqual([
      {
        day: '2024-01-02',
        open: '99',
        high: '101',
        low: '98.5',
        close: '100',
        volume: '1000',
      },
      { day: '2024-01-03', close: '102' },
    ]);
    expect(
      await provider.getDailyHistory('OLD', {
        from: '2020-01-01',
        to: '2020-12-31',
      }),
    ).toHaveLength(1);
    expect((await provider.getQuotes(['OLD'])).unknown).toEqual(['OLD']);
    provider.setPrice('NEW', '5');
    expect(
      await provider.getDailyHistory('NEW', {
        from: '2020-01-01',
        to: '2020-12-31',
      }),
    ).toEqual([]);
    expect(
      await rejection(
        provider.getDailyHistory('NONE', {
          from: '2020-01-01',
          to: '2020-12-31',
        }),
      ),
    ).toBe('UNKNOWN_SYMBOL');
    expect(
      await rejection(
        provider.getDailyHistory('AAPL', {
          from: 'yesterday',
          to: '2020-12-31',
        }),
      ),
    ).toBe('VALIDATION_FAILED');
  });

  it('refuses bad bars, naming the field', () => {
    const make = (bars: unknown[]) => () => createStaticProvider({ prices: {}, history: { AAPL: bars as never } });
    expect(failure(make([{ day: '2024-02-30', close: '1' }])).field).toBe('history.AAPL[0].day');
    expect(
      failure(
        make([
          { day: '2024-02-01', close: '1' },
          { day: '2024-02-02', close: '0' },
        ]),
      ).field,
    ).toBe('history.AAPL[1].close');
    expect(failure(make([{ day: '2024-02-01', close: '1', low: 'NaN' }])).field).toBe('history.AAPL[0].low');
    expect(failure(make([{ day: '2024-02-01', close: '1', volume: '-5' }])).field).toBe('history.AAPL[0].volume');
    expect(
      failure(
        make([
          { day: '2024-02-01', close: '1' },
          { day: '2024-02-01', close: '2' },
        ]),
      ).field,
    ).toBe('history.AAPL');
  });
});
