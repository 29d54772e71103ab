import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dec, fmt } from './decimal.js';
import { formatScaled, parseScaled } from './fixed.js';

const decimalText = fc
  .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 18n }), fc.integer({ min: 0, max: 18 }))
  .map(([neg, digits, places]) => fmt(dec(`${neg ? '-' : ''}${digits}e-${places}`)));

describe('fixed-point helpers', () => {
  it('round-trip decimal strings exactly, printed like fmt', () => {
    fc.assert(
      fc.property(decimalText, (text) => {
        const v = parseScaled(text, 18);
        expect(v).not.toBeNull();
        expect(formatScaled(v as bigint, 18)).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('add products exactly as decimal.js does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(decimalText, decimalText), { minLength: 1, maxLength: 20 }),
        decimalText,
        (pairs, cash) => {
          let big = (parseScaled(cash, 18) as bigint) * 10n ** 18n;
          let d = dec(cash);
          for (const [q, p] of pairs) {
            big += (parseScaled(q, 18) as bigint) * (parseScaled(p, 18) as bigint);
            d = d.plus(dec(q).times(dec(p)));
          }
          expect(formatScaled(big, 36)).toBe(fmt(d));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('refuses what it cannot read exactly', () => {
    expect(parseScaled('1e5', 18)).toBeNull();
    expect(parseScaled(' 1', 18)).toBeNull();
    expect(parseScaled('1.', 18)).toBeNull();
    expect(parseScaled('0.1234567890123456789', 18)).toBeNull();
    expect(parseScaled('0.1234567890123456780000', 18)).toBe(123456789012345678n);
    expect(parseScaled('-0.5', 1)).toBe(-5n);
    expect(formatScaled(-5n, 1)).toBe('-0.5');
    expect(formatScaled(0n, 36)).toBe('0');
    expect(formatScaled(10n ** 36n, 36)).toBe('1');
  });
});
