/**
 * Conformance, consistent reads: a valuation or snapshot reads cash and positions as of one
 * instant, never cash from before a trade with quantities from after it — under 300 concurrent
 * calls, and in at least {@link INTERLEAVING_RUNS} orders of store calls that fast-check's scheduler
 * explores while a sell, a buy, a withdrawal and a price update run beside them.
 */
import { dec, fmt } from '../../money/decimal.js';
import type { Store } from '../../ports/index.js';
import { createTestProvider } from '../provider.js';
import { fastCheck, vitest } from '../runtime.js';
import type { ConformanceContext } from './context.js';

/** Orders of store calls the interleaving test explores on every store (RELIABILITY.md: ≥ 500). */
export const INTERLEAVING_RUNS = 500;

/**
 * The interleaving scenario: a position of 10 MIX bought at 10 from 1000 in cash, then a sell of 3,
 * a buy of 2 (both at 10, no fee), a withdrawal of 0.5 and a price update from 10 to 13, all at once.
 * Each quantity the trades can leave (10, 7, 12, 9) belongs to one set of applied trades, and a
 * market value at 10 never equals one at 13, so a snapshot's cash and market value name the state
 * it read.
 */
const MIX = {
  cash: '1000',
  held: 10,
  price: '10',
  newPrice: '13',
  sell: 3,
  buy: 2,
  withdrawal: '0.5',
} as const;

/** Every (cash, quantity) some order of the sell, buy and withdrawal leaves, as `cash|quantity`. */
function consistentStates(): Set<string> {
  const out = new Set<string>();
  const start = dec(MIX.cash).minus(dec(MIX.held).times(MIX.price));
  for (const sold of [0, 1]) {
    for (const bought of [0, 1]) {
      for (const withdrawn of [0, 1]) {
        const quantity = MIX.held - sold * MIX.sell + bought * MIX.buy;
        const cash = start
          .plus(dec(sold * MIX.sell).times(MIX.price))
          .minus(dec(bought * MIX.buy).times(MIX.price))
          .minus(dec(MIX.withdrawal).times(withdrawn));
        out.add(`${fmt(cash)}|${quantity}`);
      }
    }
  }
  return out;
}

/**
 * The states a read with this cash and market value may have seen: one per price the read may
 * have used, at most one of them consistent.
 */
function statesOf(cash: string, marketValue: string): string[] {
  return [MIX.price, MIX.newPrice].map((p) => `${cash}|${fmt(dec(marketValue).div(p))}`);
}

/** Portfolios the interleaving test prepares at once, before its runs (most pools hold 10 connections). */
const PREPARE_AT_ONCE = 8;

/**
 * Wraps a store so that each call starts only when fast-check's scheduler says so: the scheduler
 * explores the orders in which the calls of concurrent operations reach the database.
 */
function scheduledStore(store: Store, s: { schedule<T>(task: Promise<T>, label?: string): Promise<T> }): Store {
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function' || key === 'name') return value;
      return (...args: unknown[]) => s.schedule(Promise.resolve(String(key))).then(() => value.apply(target, args));
    },
  });
}

/** Registers the consistent-read checks. */
export function describeConsistentReads(ctx: ConformanceContext): void {
  const { describe, expect, it } = vitest();
  const fc = fastCheck();
  describe('consistent reads', () => {
    const h = ctx.useFixture();

    it('a valuation or snapshot never mixes cash from before a trade with quantities from after it', async () => {
      // Buys at the valuation price with no fee move value from cash to the position and leave the
      // total unchanged: any total other than the deposit is a mixed read.
      h.provider.setPrice('MIX', '10');
      const p = await h.engine.createPortfolio({ name: 'Mix', initialCash: '100000' });
      const calls: Array<Promise<unknown>> = [];
      const totals: string[] = [];
      for (let i = 0; i < 150; i++) {
        calls.push(h.engine.trade(p.id, { symbol: 'MIX', side: 'buy', quantity: 1, price: '10' }));
        calls.push(h.engine.getValuation(p.id).then((v) => totals.push(v.totals.totalValue)));
        if (i % 5 === 0) calls.push(h.engine.recordSnapshot(p.id).then((s) => totals.push(s.totalValue)));
      }
      await Promise.all(calls);
      expect(totals.length).toBe(180);
      expect([...new Set(totals)]).toEqual(['100000']);
      expect((await h.engine.getPositions(p.id))[0]?.quantity).toBe('150');
    });
  });

  describe('interleavings', () => {
    const h = ctx.useFixture();
    const consistent = consistentStates();

    it(`sell ∥ buy ∥ withdraw ∥ price update ∥ snapshot ∥ valuation, in ${INTERLEAVING_RUNS}+ orders of store calls: never a mixed read`, async () => {
      h.provider.setPrice('MIX', MIX.price);
      const runs = Math.max(INTERLEAVING_RUNS, Math.floor(ctx.numRuns / 2));
      // Each run needs a portfolio holding 10 MIX. Preparing them several at a time before the runs
      // keeps each run to the calls it explores; shrinking after a failure prepares more on demand.
      const seed = async () => {
        const p = await h.engine.createPortfolio({ name: 'interleave', initialCash: MIX.cash });
        await h.engine.trade(p.id, { symbol: 'MIX', side: 'buy', quantity: MIX.held, price: MIX.price });
        return p.id;
      };
      const ready: string[] = [];
      while (ready.length < runs) {
        const batch = Math.min(PREPARE_AT_ONCE, runs - ready.length);
        ready.push(...(await Promise.all(Array.from({ length: batch }, seed))));
      }
      await fc.assert(
        fc.asyncProperty(fc.scheduler(), async (s) => {
          // A provider of this run's own: the price update changes it, and no other run sees it.
          const provider = createTestProvider({ prices: { MIX: MIX.price }, clock: h.clock });
          const engine = ctx.createEngine(scheduledStore(h.store, s), {
            marketData: provider,
            clock: h.clock,
            snapshots: { onTrade: false },
          });
          const id = ready.pop() ?? (await seed());
          const reads: string[][] = [];
          const ops = Promise.all([
            engine.trade(id, { symbol: 'MIX', side: 'sell', quantity: MIX.sell, price: MIX.price }),
            engine.trade(id, { symbol: 'MIX', side: 'buy', quantity: MIX.buy, price: MIX.price }),
            engine.withdraw(id, { amount: MIX.withdrawal }),
            s.schedule(Promise.resolve('price update')).then(() => {
              provider.setPrice('MIX', MIX.newPrice);
              return engine.refreshPrices(['MIX']);
            }),
            engine.recordSnapshot(id).then((snap) => reads.push(statesOf(snap.cash, snap.marketValue))),
            engine.getValuation(id).then((v) => {
              const q = v.positions[0]?.quantity ?? '0';
              expect([MIX.price, MIX.newPrice], 'valuation price').toContain(v.positions[0]?.price);
              expect(v.totals.totalValue).toBe(fmt(dec(v.cash).plus(dec(q).times(v.positions[0]?.price ?? 0))));
              reads.push([`${v.cash}|${q}`]);
            }),
          ]);
          await s.waitFor(ops);
          for (const read of reads) {
            expect(
              read.filter((state) => consistent.has(state)),
              `a read of cash|quantity ${read.join(' or ')} in ${s.report().length} steps`,
            ).toHaveLength(1);
          }
          const [end] = await h.store.readPortfolioStates([id]);
          // All three applied: 1000 − 100 (the 10 held) + 30 − 20 − 0.5.
          expect(end?.portfolio.cash).toBe('909.5');
          expect(end?.positions.map((x) => x.quantity)).toEqual(['9']);
          await engine.close();
        }),
        { numRuns: runs },
      );
    }, 300_000); // a cap, not a timing: 500+ orders on a real database take tens of seconds on a busy machine
  });
}
