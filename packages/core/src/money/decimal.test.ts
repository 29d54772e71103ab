import { describe, expect, it } from 'vitest';
import { isFoliokitError } from '../errors.js';
import { dec, divide, divideToString, fmt, parseDecimal } from './decimal.js';

function rejects(input: unknown): string {
  try {
    parseDecimal(input, 'amount');
  } catch (error) {
    expect(isFoliokitError(error)).toBe(true);
    expect((error as { code: string }).code).toBe('VALIDATION_FAILED');
    expect((error as { details: { field: string } }).details.field).toBe('amount');
    return (error as Error).message;
  }
  throw new Error(`accepted ${String(input)}`);
}

describe('decimal', () => {
  it('reads numbers as the decimal JavaScript prints for them', () => {
    expect(fmt(parseDecimal(0.1, 'x'))).toBe('0.1');
    expect(fmt(parseDecimal(0.1 + 0.2, 'x'))).toBe('0.30000000000000004');
    expect(fmt(parseDecimal(1e-7, 'x'))).toBe('0.0000001');
    expect(fmt(parseDecimal(-0, 'x'))).toBe('0');
    expect(fmt(parseDecimal(Number.MAX_SAFE_INTEGER, 'x'))).toBe('9007199254740991');
  });

  it('reads decimal strings exactly, exponents included', () => {
    expect(fmt(parseDecimal('150.250', 'x'))).toBe('150.25');
    expect(fmt(parseDecimal(' 1e-12 ', 'x'))).toBe('0.000000000001');
    expect(fmt(parseDecimal('1e18', 'x'))).toBe('1000000000000000000');
    expect(fmt(parseDecimal('-0.000', 'x'))).toBe('0');
    expect(fmt(parseDecimal('.5', 'x'))).toBe('0.5');
    expect(fmt(parseDecimal('123456789012345678.123456789012345678', 'x'))).toBe(
      '123456789012345678.123456789012345678',
    );
  });

  it('rejects non-finite, overflowing, over-precise and non-numeric input', () => {
    for (const bad of [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      -Infinity,
      2 ** 53,
      '1e309',
      '1e19',
      '-1e19',
      'NaN',
      'Infinity',
      '',
      '1,5',
      '0x1A',
      '1.2.3',
      '--1',
      '1e',
      null,
      undefined,
      {},
      [],
      true,
      10n,
    ]) {
      rejects(bad);
    }
    expect(rejects('0.0000000000000000001')).toMatch(/decimal places/);
  });

  it('multiplies 8 × 8 decimal places exactly and prints without exponents', () => {
    expect(fmt(dec('0.12345678').times('0.87654321'))).toBe('0.1082152022374638');
    expect(fmt(dec('999999999999999999.999999999999999999').times('999999999999999999.999999999999999999'))).toBe(
      '999999999999999999999999999999999998.000000000000000000000000000000000001',
    );
    expect(fmt(dec('1e-12'))).toBe('0.000000000001');
  });

  it('divides exactly with one half-even rounding', () => {
    expect(divideToString('10', '3', 4)).toBe('3.3333');
    expect(divideToString('2', '3', 4)).toBe('0.6667');
    expect(divideToString('-2', '3', 4)).toBe('-0.6667');
    expect(divideToString('1', '8', 2)).toBe('0.12'); // 0.125 → even
    expect(divideToString('3', '8', 2)).toBe('0.38'); // 0.375 → even
    expect(divideToString('1.5', '0.5', 12)).toBe('3');
    expect(divideToString('0.000000000001', '1000', 12)).toBe('0');
    expect(fmt(divide(dec('2504'), dec('4')))).toBe('626');
    expect(() => divideToString('1', '0')).toThrow(RangeError);
  });
});
