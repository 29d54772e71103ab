import { describe, expect, it } from 'vitest';
import { isPositiveDecimalString, parseRetryAfter, readPrice, validateBars, validateQuoteBatch } from '../src/index.js';

describe('readPrice', () => {
  it('reads positive finite numbers and numeric strings into plain decimals', () => {
    expect(readPrice('185.6400')).toBe('185.64');
    expect(readPrice(' 12 ')).toBe('12');
    expect(readPrice(0.1)).toBe('0.1');
    expect(readPrice(1.5e-7)).toBe('0.00000015');
    expect(readPrice('2.5e3')).toBe('2500');
    expect(readPrice(185.63999938964844, 4)).toBe('185.64');
    expect(readPrice('0.00005', 4)).toBeNull();
  });

  it('refuses everything else', () => {
    for (const bad of [
      0,
      -0,
      -1,
      '0',
      '0.0000',
      '-5',
      'None',
      'NaN',
      'nan',
      'Infinity',
      '-Infinity',
      '',
      ' ',
      '1e309',
      '1e-400',
      'abc',
      '12,50',
      '0x10',
      '1_000',
      null,
      undefined,
      true,
      {},
      [],
      Number.NaN,
      Number.POSITIVE_INFINITY,
      '1e19',
    ]) {
      expect([bad, readPrice(bad)]).toEqual([bad, null]);
    }
  });
});

describe('isPositiveDecimalString', () => {
  it('accepts only plain positive decimals', () => {
    expect(['1', '0.0001', '150.25', '999999999999999999'].every(isPositiveDecimalString)).toBe(true);
    expect(['0', '0.000', '-1', '+1', '1e3', '01', '.5', '5.', 'NaN', ' 1', 1].some(isPositiveDecimalString)).toBe(
      false,
    );
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-03-10T15:00:00Z');
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Mon, 10 Mar 2025 15:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Mon, 10 Mar 2025 14:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('99999999', now)).toBe(86_400_000);
  });
  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});

describe('validateQuoteBatch and validateBars', () => {
  const quote = (price: string, at = '2025-03-10T15:00:00.000Z') => ({ symbol: 'AAPL', price, at, source: 'x' });

  it('keeps asked symbols, reports silently missing ones as unknown', () => {
    const batch = validateQuoteBatch(
      { quotes: { AAPL: quote('1'), EXTRA: { ...quote('2'), symbol: 'EXTRA' } }, unknown: [] },
      ['AAPL', 'MSFT'],
      'x',
    );
    expect(Object.keys(batch.quotes)).toEqual(['AAPL']);
    expect(batch.unknown).toEqual(['MSFT']);
  });

  it('refuses bad quotes', () => {
    for (const bad of [
      quote('0'),
      quote('-1'),
      quote('NaN'),
      quote('1e309'),
      quote('1', 'yesterday'),
      quote('1', '2025-03-10T15:00:00+01:00'),
      { ...quote('1'), symbol: 'MSFT' },
    ]) {
      expect(() => validateQuoteBatch({ quotes: { AAPL: bad }, unknown: [] }, ['AAPL'], 'x')).toThrow(
        expect.objectContaining({ code: 'PROVIDER_INVALID_RESPONSE' }),
      );
    }
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
    ]) {
      expect(() => validateBars(bad as never, 'AAPL', 'x', range)).toThrow(
        expect.objectContaining({ code: 'PROVIDER_INVALID_RESPONSE' }),
      );
    }
  });
});
