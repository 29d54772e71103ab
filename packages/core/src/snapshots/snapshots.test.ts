import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dec, fmt } from '../money/decimal.js';
import { computeSnapshot, computeSnapshotDec, downsample, type SnapshotPrice } from './snapshots.js';

const amount = (maxPlaces: number) =>
  fc
    .tuple(fc.bigInt({ min: 1n, max: 10n ** 15n }), fc.integer({ min: 0, max: maxPlaces }))
    .map(([digits, places]) => fmt(dec(`${digits}e-${places}`)));

const base = {
  portfolioId: 'pf_1',
  at: '2026-01-05T10:00:00.000Z',
  day: '2026-01-05',
  kind: 'interval' as const,
  netDeposits: '1',
  realizedPnl: '0',
};

describe('computeSnapshot', () => {
  it('equals the decimal.js reference, flags included', () => {
    const symbols = ['A', 'B', 'C', 'D', 'E'];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...symbols), amount(18), amount(24)), { maxLength: 5 }),
        fc.dictionary(fc.constantFrom(...symbols), fc.tuple(amount(18), fc.boolean())),
        amount(30),
        (rows, priceTable, cash) => {
          const seen = new Set<string>();
          const holdings = rows
            .filter(([s]) => !seen.has(s) && seen.add(s))
            .map(([symbol, quantity, costBasis]) => ({ symbol, quantity, costBasis }));
          const prices = new Map<string, SnapshotPrice>(
            Object.entries(priceTable).map(([s, [p, stale]]) => [s, { price: dec(p), stale }]),
          );
          const fast = computeSnapshot({ ...base, cash }, holdings, prices);
          const ref = computeSnapshotDec({ ...base, cash }, holdings, prices);
          expect(fast).toEqual(ref);
          expect(JSON.stringify(fast)).not.toMatch(/NaN|Infinity|e[+-]/);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('falls back to decimal.js for values it cannot read exactly', () => {
    const prices = new Map([['A', { price: dec('1e-20'), stale: false }]]);
    const r = computeSnapshot({ ...base, cash: '1' }, [{ symbol: 'A', quantity: '3', costBasis: '0' }], prices);
    expect(r.row.marketValue).toBe('0.00000000000000000003');
    expect(r.row.totalValue).toBe('1.00000000000000000003');
  });
});

describe('downsample', () => {
  it('keeps the last row of each bucket and is idempotent', () => {
    const row = (at: string, v: string) => ({
      ...base,
      at,
      day: at.slice(0, 10),
      cash: v,
      marketValue: '0',
      totalValue: v,
      costBasis: '0',
      unrealizedPnl: '0',
      flags: [],
    });
    const rows = [
      row('2026-01-05T10:00:00.000Z', '1'),
      row('2026-01-05T10:59:00.000Z', '2'),
      row('2026-01-05T11:00:00.000Z', '3'),
      row('2026-01-06T00:00:00.000Z', '4'),
    ];
    expect(downsample(rows, 'hour').map((r) => r.totalValue)).toEqual(['2', '3', '4']);
    expect(downsample(rows, 'day').map((r) => r.totalValue)).toEqual(['3', '4']);
    expect(downsample(downsample(rows, 'hour'), 'hour')).toEqual(downsample(rows, 'hour'));
  });
});
