import { describe, expect, it } from 'vitest';
import {
  findBarFault,
  findQuoteFault,
  isDay,
  isPositiveDecimalString,
  validateBars,
  validateQuote,
  validateQuoteBatch,
} from './validate.js';

const quote = (price: unknown, at = '2025-03-10T15:00:00.000Z') => ({ symbol: 'AAPL', price, at, source: 'x' });

describe('isPositiveDecimalString and isDay', () => {
  it('accepts only plain positive decimals', () => {
    expect(['1', '0.0001', '150.25', '999999999999999999'].every(isPositiveDecimalString)).toBe(true);
    expect(['0', '0.000', '-1', '+1', '1e3', '01', '.5', '5.', 'NaN', ' 1', 1].some(isPositiveDecimalString)).toBe(
      false,
    );
    // At most 18 integer digits and 18 decimals.
    expect(['1000000000000000000', '1.0000000000000000001', '-0.1', '1.2.3'].some(isPositiveDecimalString)).toBe(false);
    expect(['1.000000000000000001'].every(isPositiveDecimalString)).toBe(true);
  });

  it('accepts only real calendar days', () => {
    expect(['2024-02-29', '2025-12-31'].every(isDay)).toBe(true);
    expect(['2025-02-29', '2025-13-01', '2025-1-01', '20250101', '', null].some(isDay)).toBe(false);
  });
});

describe('findQuoteFault', () => {
  it('names the field at fault, in order', () => {
    expect(findQuoteFault(quote('150.25'))).toBeNull();
    expect(findQuoteFault(null)?.field).toBe('symbol');
    expect(findQuoteFault({ ...quote('1'), symbol: '' })?.field).toBe('symbol');
    for (const price of ['0', '-5', 'NaN', 'abc', '1e309', Number.POSITIVE_INFINITY, 150.25, null]) {
      expect([price, findQuoteFault(quote(price))?.field]).toEqual([price, 'price']);
    }
    for (const at of ['yesterday', '2025-03-10T15:00:00+01:00', '2025-03-10T15:00Z', '2025-03-10']) {
      expect([at, findQuoteFault(quote('1', at))?.field]).toEqual([at, 'at']);
    }
    expect(findQuoteFault({ ...quote('1'), source: '' })?.field).toBe('source');
    expect(findQuoteFault({ ...quote('1'), currency: 'dollars' })?.field).toBe('currency');
  });

  it('checks the symbol against the key it was answered under, normalised', () => {
    expect(findQuoteFault(quote('1'), 'AAPL')).toBeNull();
    expect(findQuoteFault({ ...quote('1'), symbol: ' aapl ' }, 'AAPL')).toBeNull();
    expect(findQuoteFault(quote('1'), 'MSFT')).toEqual({ field: 'symbol', message: 'quote keyed MSFT is for AAPL' });
  });
});

describe('findBarFault', () => {
  it('requires a real day and a positive close; checks the optional fields when present', () => {
    expect(findBarFault({ day: '2025-01-02', close: '1', open: '0.5', volume: '0' }, 'X')).toBeNull();
    expect(findBarFault({ day: '2025-02-30', close: '1' }, 'X')?.field).toBe('day');
    expect(findBarFault({ day: '2025-01-02', close: '0' }, 'X')?.field).toBe('close');
    expect(findBarFault({ day: '2025-01-02', close: '1', high: '0' }, 'X')?.field).toBe('high');
    expect(findBarFault({ day: '2025-01-02', close: '1', open: null }, 'X')?.field).toBe('open');
    expect(findBarFault({ day: '2025-01-02', close: '1', volume: '-1' }, 'X')).toEqual({
      field: 'volume',
      message: 'invalid volume for X on 2025-01-02',
    });
  });
});

describe('validateQuote, validateQuoteBatch and validateBars', () => {
  it('throws PROVIDER_INVALID_RESPONSE naming the provider, the symbol and the field', () => {
    expect(() => validateQuote(quote('-1') as never, 'feed')).toThrow(
      expect.objectContaining({
        code: 'PROVIDER_INVALID_RESPONSE',
        message: 'feed: invalid price for AAPL: "-1"',
        details: { provider: 'feed', symbol: 'AAPL', field: 'price' },
      }),
    );
  });

  it('keeps asked symbols, reports silently missing ones as unknown', () => {
    const batch = validateQuoteBatch(
      { quotes: { AAPL: quote('1'), EXTRA: { ...quote('2'), symbol: 'EXTRA' } }, unknown: [] } as never,
      ['aapl', 'MSFT'],
      'x',
    );
    expect(Object.keys(batch.quotes)).toEqual(['AAPL']);
    expect(batch.unknown).toEqual(['MSFT']);
  });

  it('refuses bad quotes and a batch without quotes', () => {
    for (const bad of [
      quote('0'),
      quote('-1'),
      quote('NaN'),
      quote('1e309'),
      quote('1', 'yesterday'),
      quote('1', '2025-03-10T15:00:00+01:00'),
      { ...quote('1'), symbol: 'MSFT' },
    ]) {
      expect(() => validateQuoteBatch({ quotes: { AAPL: bad }, unknown: [] } as never, ['AAPL'], 'x')).toThrow(
        expect.objectContaining({ code: 'PROVIDER_INVALID_RESPONSE' }),
      );
    }
    expect(() => validateQuoteBatch({ unknown: [] } as never, ['AAPL'], 'x')).toThrow(
      expect.objectContaining({ code: 'PROVIDER_INVALID_RESPONSE', details: { provider: 'x', field: 'quotes' } }),
    );
  });

  it('refuses unsorted, duplicated, out-of-range or non-positive bars', () => {
    const range = { from: '2025-01-01', to: '2025-01-31' };
    const ok = [
      { day: '2025-01-02', close: '1' },
      { day: '2025-01-03', close: '2', volume: '0' },
    ];
    expect(validateBars(ok, 'AAPL', 'x', range)).toBe(ok);
    for (const bad of [
      [ok[1], ok[0]],
      [ok[0], ok[0]],
      [{ day: '2025-02-01', close: '1' }],
      [{ day: '2025-01-02', close: '0' }],
      [{ day: '2025-01-02', close: '1', low: '-1' }],
      [{ day: '2025-01-02', close: '1', volume: '-1' }],
      [{ day: '2025-01-32', close: '1' }],
      'not an array',
    ]) {
      expect(() => validateBars(bad as never, 'AAPL', 'x', range)).toThrow(
        expect.objectContaining({ code: 'PROVIDER_INVALID_RESPONSE' }),
      );
    }
  });
});
