import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Dec, dec, fmt, ZERO } from '../money/decimal.js';
import { type Holding, type HoldingAmounts, type HoldingPrice, valueHoldings } from './kernel.js';
import { computeSnapshot, snapshotBase } from './snapshot.js';

/**
 * The totals rule in decimal.js, written plainly: the reference the kernel must equal. Flat
 * holdings are skipped; unpriced ones are left out and flagged; stale ones are counted and flagged.
 */
function reference(cash: string, holdings: readonly Holding[], prices: ReadonlyMap<string, HoldingPrice>) {
  let marketValue: Dec = ZERO;
  let costBasis: Dec = ZERO;
  const unpriced: string[] = [];
  const stale: string[] = [];
  const flags: string[] = [];
  const perHolding: Array<{ symbol: string; amounts: HoldingAmounts | null }> = [];
  for (const h of holdings) {
    if (h.quantity === '0') continue;
    const known = prices.get(h.symbol);
    if (!known) {
      unpriced.push(h.symbol);
      flags.push(`${h.symbol}:unpriced`);
      perHolding.push({ symbol: h.symbol, amounts: null });
      continue;
    }
    const mv = dec(h.quantity).times(known.price);
    marketValue = marketValue.plus(mv);
    costBasis = costBasis.plus(dec(h.costBasis));
    perHolding.push({
      symbol: h.symbol,
      amounts: { marketValue: fmt(mv), unrealizedPnl: fmt(mv.minus(dec(h.costBasis))) },
    });
    if (known.stale) {
      stale.push(h.symbol);
      flags.push(`${h.symbol}:stale`);
    }
  }
  return {
    totals: {
      marketValue: fmt(marketValue),
      totalValue: fmt(dec(cash).plus(marketValue)),
      costBasis: fmt(costBasis),
      unrealizedPnl: fmt(marketValue.minus(costBasis)),
    },
    unpriced,
    stale,
    flags,
    perHolding,
  };
}

/**
 * A decimal of at most 10^18 in absolute value with up to `maxPlaces` decimals (and at most
 * `maxDigits` significant digits), printed plain or, when allowed, with an exponent.
 */
const decimal = (maxPlaces: number, opts: { maxDigits?: number; negative?: boolean; exponent?: boolean } = {}) =>
  fc.integer({ min: 0, max: maxPlaces }).chain((places) =>
    fc
      .tuple(
        fc.bigInt({ min: 1n, max: 10n ** BigInt(Math.min(opts.maxDigits ?? 36, places + 18)) }),
        opts.negative ? fc.boolean() : fc.constant(false),
        opts.exponent ? fc.integer({ min: 0, max: 9 }) : fc.constant(1),
      )
      .map(([digits, neg, style]) => {
        const text = `${neg ? '-' : ''}${digits}e-${places}`;
        // One time in ten (when allowed), the exponent form a store could in theory return.
        return style === 0 ? text : fmt(dec(text));
      }),
  );

const SYMBOLS = ['A', 'B', 'C', 'D', 'E', 'F'];

const scenario = fc.record({
  holdings: fc.uniqueArray(
    fc.record({
      symbol: fc.constantFrom(...SYMBOLS),
      quantity: fc.oneof(
        { weight: 1, arbitrary: fc.constant('0') },
        { weight: 6, arbitrary: decimal(18, { exponent: true }) },
      ),
      costBasis: fc.oneof(decimal(36, { maxDigits: 40, exponent: true }), decimal(2, { negative: true })),
    }),
    { selector: (h) => h.symbol, maxLength: SYMBOLS.length },
  ),
  prices: fc.dictionary(
    fc.constantFrom(...SYMBOLS),
    fc.record({
      // Mostly within the engine's 18 decimals; sometimes beyond, so the wide pass runs.
      price: fc.oneof({ weight: 5, arbitrary: decimal(18) }, { weight: 1, arbitrary: decimal(30) }),
      stale: fc.boolean(),
    }),
  ),
  cash: fc.oneof(decimal(36, { maxDigits: 40, negative: true, exponent: true }), fc.constant('0')),
});

function priceMap(table: Record<string, { price: string; stale: boolean }>): Map<string, HoldingPrice> {
  return new Map(Object.entries(table).map(([s, p]) => [s, { price: dec(p.price), stale: p.stale }]));
}

describe('valueHoldings (the totals kernel)', () => {
  it('equals the decimal.js reference: totals, flags, and each holding through the visitor', () => {
    fc.assert(
      fc.property(scenario, ({ holdings, prices: table, cash }) => {
        const prices = priceMap(table);
        const ref = reference(cash, holdings, prices);
        const visited: Array<{ symbol: string; amounts: HoldingAmounts | null }> = [];
        const got = valueHoldings(cash, holdings, prices, (h, price, amounts) => {
          expect(price).toBe(prices.get(h.symbol));
          visited.push({ symbol: h.symbol, amounts });
        });
        expect(got).toEqual({ totals: ref.totals, unpriced: ref.unpriced, stale: ref.stale, flags: ref.flags });
        expect(visited).toEqual(ref.perHolding);
        // Without a visitor, the same answer.
        expect(valueHoldings(cash, holdings, prices)).toEqual(got);
        expect(JSON.stringify(got)).not.toMatch(/NaN|Infinity|e[+-]/);
      }),
      { numRuns: 1000 },
    );
  });

  it('is exact at the edges: 8 × 8 decimal places, 1e-12, 1e18, beyond 18 decimals', () => {
    const prices = new Map<string, HoldingPrice>([
      ['A', { price: dec('0.12345678'), stale: false }],
      ['B', { price: dec('0.000000000001'), stale: true }],
      ['C', { price: dec('1000000000000000000'), stale: false }],
      ['D', { price: dec('1e-20'), stale: false }],
    ]);
    const holdings = [
      { symbol: 'A', quantity: '0.87654321', costBasis: '0.1' },
      { symbol: 'B', quantity: '3', costBasis: '0' },
      { symbol: 'C', quantity: '0.000000000000000001', costBasis: '1' },
      { symbol: 'D', quantity: '3', costBasis: '0' },
      { symbol: 'E', quantity: '1', costBasis: '5' },
    ];
    const got = valueHoldings('1', holdings, prices);
    expect(got.totals).toEqual({
      marketValue: '1.10821520224046380003',
      totalValue: '2.10821520224046380003',
      costBasis: '1.1',
      unrealizedPnl: '0.00821520224046380003',
    });
    expect(got.flags).toEqual(['B:stale', 'E:unpriced']);
    expect(got.totals).toEqual(reference('1', holdings, prices).totals);
  });

  it('skips flat holdings and counts nothing for an empty portfolio', () => {
    const got = valueHoldings('12.5', [{ symbol: 'A', quantity: '0', costBasis: '0' }], new Map());
    expect(got).toEqual({
      totals: { marketValue: '0', totalValue: '12.5', costBasis: '0', unrealizedPnl: '0' },
      unpriced: [],
      stale: [],
      flags: [],
    });
  });
});

describe('computeSnapshot', () => {
  it('carries the base over and takes its totals and flags from the kernel', () => {
    fc.assert(
      fc.property(scenario, ({ holdings, prices: table, cash }) => {
        const prices = priceMap(table);
        const base = snapshotBase(
          'pf_1',
          { cash, netDeposits: '7', realizedPnl: '-1.5' },
          'interval',
          '2026-01-05T10:00:00.000Z',
        );
        const ref = reference(cash, holdings, prices);
        expect(computeSnapshot(base, holdings, prices)).toEqual({
          row: {
            portfolioId: 'pf_1',
            at: '2026-01-05T10:00:00.000Z',
            day: '2026-01-05',
            kind: 'interval',
            cash,
            ...ref.totals,
            realizedPnl: '-1.5',
            netDeposits: '7',
            flags: ref.flags,
          },
          unpriced: ref.unpriced,
          stale: ref.stale,
        });
      }),
      { numRuns: 300 },
    );
  });
});
