import * as core from '@foliokit/core';
import { describe, expect, it } from 'vitest';
import * as providers from '../src/index.js';

const { readPrice } = providers;

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

describe('the shared validation', () => {
  it("is core's, re-exported unchanged", () => {
    expect(providers.validateQuote).toBe(core.validateQuote);
    expect(providers.validateQuoteBatch).toBe(core.validateQuoteBatch);
    expect(providers.validateBars).toBe(core.validateBars);
    expect(providers.isPositiveDecimalString).toBe(core.isPositiveDecimalString);
  });
});
