import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dec, divideToString, fmt } from '../money/decimal.js';
import type { PortfolioRow, PositionRow } from '../ports/index.js';
import { type KnownPrice, ratioText, valuePortfolio } from './portfolio.js';

const amount = (places: number) =>
  fc
    .tuple(fc.bigInt({ min: 1n, max: 10n ** BigInt(places + 9) }), fc.integer({ min: 0, max: places }))
    .map(([digits, p]) => fmt(dec(`${digits}e-${p}`)));

const portfolio = (cash: string): PortfolioRow => ({
  id: 'pf_1',
  ownerId: null,
  name: 'p',
  description: null,
  baseCurrency: 'USD',
  costBasisMethod: 'average',
  cash,
  netDeposits: '100',
  realizedPnl: '-2.5',
  ledgerAt: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

const position = (symbol: string, quantity: string, costBasis: string): PositionRow => ({
  portfolioId: 'pf_1',
  symbol,
  quantity,
  costBasis,
  realizedPnl: '0',
  openedAt: '2026-01-02T00:00:00.000Z',
  updatedAt: '2026-01-02T00:00:00.000Z',
});

describe('valuePortfolio', () => {
  it('values each position exactly, with percent and weight from the exact amounts', () => {
    const SYMBOLS = ['A', 'B', 'C', 'D'];
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.constantFrom(...SYMBOLS), amount(18), amount(20)), { selector: ([s]) => s }),
        fc.dictionary(fc.constantFrom(...SYMBOLS), fc.tuple(amount(18), fc.boolean())),
        amount(10),
        (rows, table, cash) => {
          const positions = rows.map(([s, q, c]) => position(s, q, c));
          const prices = new Map<string, KnownPrice>(
            Object.entries(table).map(([s, [p, stale]]) => [
              s,
              { price: dec(p), text: p, at: '2026-01-05T00:00:00.000Z', source: 'test', stale },
            ]),
          );
          const v = valuePortfolio(portfolio(cash), positions, prices, '2026-01-05T10:00:00.000Z');
          let mv = dec(0);
          for (const p of positions) {
            const k = prices.get(p.symbol);
            if (k) mv = mv.plus(dec(p.quantity).times(k.price));
          }
          const total = dec(cash).plus(mv);
          expect(v.totals.totalValue).toBe(fmt(total));
          expect(v.totals.realizedPnl).toBe('-2.5');
          expect(v.totals.netDeposits).toBe('100');
          expect(v.positions.map((p) => p.symbol)).toEqual(positions.map((p) => p.symbol));
          for (const [i, p] of v.positions.entries()) {
            const row = positions[i] as PositionRow;
            const k = prices.get(p.symbol);
            expect(p.averageCost).toBe(divideToString(row.costBasis, row.quantity));
            if (!k) {
              expect(p).toMatchObject({ price: null, marketValue: null, weight: null, unrealizedPnlPercent: null });
              continue;
            }
            const pmv = dec(row.quantity).times(k.price);
            const pnl = pmv.minus(dec(row.costBasis));
            expect(p).toMatchObject({
              price: k.text,
              priceSource: 'test',
              stale: k.stale,
              marketValue: fmt(pmv),
              unrealizedPnl: fmt(pnl),
              unrealizedPnlPercent: ratioText(pnl.toNumber() * 100, dec(row.costBasis).toNumber(), 4),
              weight: ratioText(pmv.toNumber(), total.toNumber(), 6),
            });
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
