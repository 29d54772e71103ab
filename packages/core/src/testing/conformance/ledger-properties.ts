/**
 * Conformance, ledger properties (fast-check): random sequences of deposits, withdrawals, buys and
 * sells keep cash and quantities ≥ 0, equal to an exact reference model and to a replay of the
 * ledger, under both cost basis methods; a round trip at one price leaves the start minus fees.
 */
import type { Arbitrary } from 'fast-check';
import type { ErrorCode } from '../../errors.js';
import { replayLedger } from '../../ledger/index.js';
import { dec, fmt, ZERO } from '../../money/decimal.js';
import type { Portfolio, TransactionRow } from '../../ports/index.js';
import { fastCheck, vitest } from '../runtime.js';
import { type ConformanceContext, codeOf } from './context.js';

/** Registers the ledger property tests. */
export function describeLedgerProperties(ctx: ConformanceContext): void {
  const { describe, expect, it } = vitest();
  const fc = fastCheck();
  describe('ledger properties', () => {
    const h = ctx.useFixture();

    type Cmd =
      | { op: 'deposit'; amount: string }
      | { op: 'withdraw'; amount: string }
      | { op: 'buy'; symbol: string; quantity: string; price: string; fee: string }
      | { op: 'sell'; symbol: string; quantity: string; price: string; fee: string };

    const money = fc.integer({ min: 1, max: 5_000_000 }).map((n) => fmt(dec(n).div(100)));
    const qty = fc.integer({ min: 1, max: 20_000 }).map((n) => fmt(dec(n).div(1000)));
    const price = fc.integer({ min: 1, max: 100_000 }).map((n) => fmt(dec(n).div(100)));
    const fee = fc.oneof(
      fc.constant('0'),
      fc.integer({ min: 0, max: 500 }).map((n) => fmt(dec(n).div(100))),
    );
    const symbol = fc.constantFrom('AAPL', 'MSFT', 'BRK.B');
    const cmd: Arbitrary<Cmd> = fc.oneof(
      fc.record({ op: fc.constant('deposit' as const), amount: money }),
      fc.record({ op: fc.constant('withdraw' as const), amount: money }),
      fc.record({ op: fc.constant('buy' as const), symbol, quantity: qty, price, fee }),
      fc.record({ op: fc.constant('sell' as const), symbol, quantity: qty, price, fee }),
    );

    it('keeps cash and quantities ≥ 0 and equal to a replay of the ledger (average and FIFO)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(cmd, { minLength: 1, maxLength: 25 }),
          fc.constantFrom('average', 'fifo'),
          async (cmds, method) => {
            const p = await h.engine.createPortfolio({ name: 'prop', costBasisMethod: method as 'average' });
            // A simple exact reference model of cash and quantities.
            let cash = ZERO;
            const held = new Map<string, ReturnType<typeof dec>>();
            for (const c of cmds) {
              let expected: ErrorCode | 'OK' = 'OK';
              let call: Promise<unknown>;
              if (c.op === 'deposit') {
                call = h.engine.deposit(p.id, { amount: c.amount });
                cash = cash.plus(c.amount);
              } else if (c.op === 'withdraw') {
                if (dec(c.amount).gt(cash)) expected = 'INSUFFICIENT_CASH';
                else cash = cash.minus(c.amount);
                call = h.engine.withdraw(p.id, { amount: c.amount });
              } else if (c.op === 'buy') {
                const cost = dec(c.quantity).times(c.price).plus(c.fee);
                if (cost.gt(cash)) expected = 'INSUFFICIENT_CASH';
                else {
                  cash = cash.minus(cost);
                  held.set(c.symbol, (held.get(c.symbol) ?? ZERO).plus(c.quantity));
                }
                call = h.engine.trade(p.id, {
                  symbol: c.symbol,
                  side: 'buy',
                  quantity: c.quantity,
                  price: c.price,
                  fee: c.fee,
                });
              } else {
                const have = held.get(c.symbol) ?? ZERO;
                const proceeds = dec(c.quantity).times(c.price).minus(c.fee);
                if (dec(c.quantity).gt(have)) expected = 'INSUFFICIENT_QUANTITY';
                else if (cash.plus(proceeds).isNegative()) expected = 'INSUFFICIENT_CASH';
                else {
                  cash = cash.plus(proceeds);
                  held.set(c.symbol, have.minus(c.quantity));
                }
                call = h.engine.trade(p.id, {
                  symbol: c.symbol,
                  side: 'sell',
                  quantity: c.quantity,
                  price: c.price,
                  fee: c.fee,
                });
              }
              expect(await codeOf(call)).toBe(expected);
            }
            const portfolio = (await h.store.getPortfolio(p.id)) as Portfolio;
            expect(portfolio.cash).toBe(fmt(cash));
            const positions = await h.store.listPositions(p.id);
            for (const pos of positions) {
              expect(dec(pos.quantity).isNegative()).toBe(false);
              expect(pos.quantity).toBe(fmt(held.get(pos.symbol) ?? ZERO));
            }
            const ledger: TransactionRow[] = await h.store.listTransactions(p.id, { limit: 10_000, order: 'asc' });
            const replay = replayLedger(ledger);
            expect(fmt(replay.cash)).toBe(portfolio.cash);
            expect(fmt(replay.netDeposits)).toBe(portfolio.netDeposits);
            expect(fmt(replay.realizedPnl)).toBe(portfolio.realizedPnl);
            for (const pos of positions) {
              const r = replay.positions.get(pos.symbol);
              expect(fmt(r?.quantity ?? ZERO)).toBe(pos.quantity);
              expect(fmt(r?.costBasis ?? ZERO)).toBe(pos.costBasis);
              expect(fmt(r?.realizedPnl ?? ZERO)).toBe(pos.realizedPnl);
            }
            if (method === 'fifo') {
              const lots = await h.store.listLots(p.id);
              for (const pos of positions) {
                const mine = lots.filter((l) => l.symbol === pos.symbol);
                expect(fmt(mine.reduce((s, l) => s.plus(l.quantity), ZERO))).toBe(pos.quantity);
                expect(fmt(mine.reduce((s, l) => s.plus(l.costBasis), ZERO))).toBe(pos.costBasis);
              }
            }
          },
        ),
        { numRuns: ctx.numRuns },
      );
    });

    it('buying then selling the same quantities at the same price leaves start − fees', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(symbol, qty, price, fee, fee), { minLength: 1, maxLength: 8 }),
          async (legs) => {
            const start = dec('100000000');
            const p = await h.engine.createPortfolio({ name: 'roundtrip', initialCash: fmt(start) });
            let fees = ZERO;
            for (const [s, q, px, f1] of legs) {
              await h.engine.trade(p.id, { symbol: s, side: 'buy', quantity: q, price: px, fee: f1 });
              fees = fees.plus(f1);
            }
            for (const [s, q, px, , f2] of legs) {
              await h.engine.trade(p.id, { symbol: s, side: 'sell', quantity: q, price: px, fee: f2 });
              fees = fees.plus(f2);
            }
            expect((await h.store.getPortfolio(p.id))?.cash).toBe(fmt(start.minus(fees)));
            expect(await h.engine.getPositions(p.id)).toEqual([]);
          },
        ),
        { numRuns: Math.max(10, Math.floor(ctx.numRuns / 2)) },
      );
    });
  });
}
