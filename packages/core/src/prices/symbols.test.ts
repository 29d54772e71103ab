import { describe, expect, it } from 'vitest';
import { normalizeSymbol } from './symbols.js';

const failure = (fn: () => unknown): unknown => {
  try {
    fn();
    return 'no error';
  } catch (error) {
    return error;
  }
};

describe('normalizeSymbol', () => {
  it('trims and upper-cases', () => {
    expect(normalizeSymbol(' brk.b ')).toBe('BRK.B');
    expect(normalizeSymbol('btc-usd')).toBe('BTC-USD');
    expect(normalizeSymbol('eurusd=x')).toBe('EURUSD=X');
  });

  it('refuses a malformed symbol with VALIDATION_FAILED naming the field', () => {
    for (const bad of ['', '  ', 'BRK B', '.A', 'A'.repeat(33), 'AAPL!', 42, null]) {
      expect([bad, failure(() => normalizeSymbol(bad, 'trade.symbol'))]).toEqual([
        bad,
        expect.objectContaining({ code: 'VALIDATION_FAILED', details: { field: 'trade.symbol' } }),
      ]);
    }
  });

  it('accepts one leading ^ (index symbols) within the 32 characters', () => {
    expect(normalizeSymbol('^gspc')).toBe('^GSPC');
    expect(normalizeSymbol(' ^N225 ')).toBe('^N225');
    expect(normalizeSymbol(`^${'A'.repeat(31)}`)).toHaveLength(32);
    for (const bad of ['^', '^^GSPC', '^.A', `^${'A'.repeat(32)}`]) {
      expect([bad, failure(() => normalizeSymbol(bad))]).toEqual([
        bad,
        expect.objectContaining({ code: 'VALIDATION_FAILED' }),
      ]);
    }
  });

  it('refuses non-ASCII before changing case: ß never becomes SS, ﬁ never FI', () => {
    for (const bad of ['ß', 'straße', 'ﬁx', 'é', 'AA\u0000PL', 'A\uD800']) {
      expect([bad, failure(() => normalizeSymbol(bad, 'symbol'))]).toEqual([
        bad,
        expect.objectContaining({ code: 'VALIDATION_FAILED', details: { field: 'symbol' } }),
      ]);
    }
    // Unchecked, only a to z change case: a provider never matches 'straße' with 'STRASSE'.
    expect(normalizeSymbol('straße', 'symbol', { check: false })).toBe('STRAßE');
  });

  it('only trims and upper-cases when the form is not checked, but still wants a string', () => {
    expect(normalizeSymbol(' my file ', 'symbol', { check: false })).toBe('MY FILE');
    expect(normalizeSymbol('  ', 'symbol', { check: false })).toBe('');
    expect(failure(() => normalizeSymbol(7, 'symbol', { check: false }))).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
